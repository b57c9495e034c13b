import Foundation

/// Reads and writes one JSON string literal as UTF-8 bytes, for line-oriented tools (`sparkdeck scrub --jsonl`) that
/// would otherwise spend their time in a general JSON parser.
public enum JSONStringLiteral {
    public struct Malformed: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "not a JSON string: \(reason)" }
    }

    /// The string a JSON string literal (surrounding spaces allowed) stands for.
    public static func decode(_ literal: ArraySlice<UInt8>) throws -> String {
        String(decoding: try decodeUTF8(literal), as: UTF8.self)
    }

    /// The UTF-8 bytes of the string a JSON string literal stands for.
    public static func decodeUTF8(_ literal: ArraySlice<UInt8>) throws -> [UInt8] {
        let bytes = literal
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start].isSpace { start += 1 }
        while end > start, bytes[end - 1].isSpace { end -= 1 }
        guard end - start >= 2, bytes[start] == 34, bytes[end - 1] == 34 else {
            throw Malformed(reason: "expected text in double quotes")
        }
        // Nothing escaped: the bytes between the quotes are the string.
        let plain = bytes[(start + 1)..<(end - 1)].withUnsafeBufferPointer { inner in
            guard let base = inner.baseAddress, !inner.isEmpty else { return true }
            return memchr(base, 92, inner.count) == nil && memchr(base, 34, inner.count) == nil
        }
        if plain { return Array(bytes[(start + 1)..<(end - 1)]) }
        var output: [UInt8] = []
        output.reserveCapacity(end - start)
        var index = start + 1
        let stop = end - 1
        while index < stop {
            // Copy the run up to the next backslash or quote whole.
            var runEnd = index
            while runEnd < stop, bytes[runEnd] != 92, bytes[runEnd] != 34 { runEnd += 1 }
            if runEnd > index {
                output.append(contentsOf: bytes[index..<runEnd])
                index = runEnd
                continue
            }
            let byte = bytes[index]
            if byte == 34 { throw Malformed(reason: "unescaped quote at byte \(index)") }
            guard index + 1 < stop else { throw Malformed(reason: "backslash at the end") }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case 34, 92, 47: output.append(escape)
            case 98: output.append(8)
            case 102: output.append(12)
            case 110: output.append(10)
            case 114: output.append(13)
            case 116: output.append(9)
            case 117:
                var value = try hex4(bytes, index, stop)
                index += 4
                if (0xD800..<0xDC00).contains(value), index + 6 <= stop, bytes[index] == 92, bytes[index + 1] == 117 {
                    let low = try hex4(bytes, index + 2, stop)
                    if (0xDC00..<0xE000).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                output += Array(String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8)
            default:
                throw Malformed(reason: "unknown escape \\\(Character(Unicode.Scalar(escape)))")
            }
        }
        return output
    }

    public static func decode(_ literal: [UInt8]) throws -> String { try decode(literal[...]) }

    static func hex4(_ bytes: ArraySlice<UInt8>, _ index: Int, _ stop: Int) throws -> UInt32 {
        guard index + 4 <= stop else { throw Malformed(reason: "short \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw Malformed(reason: "bad \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }

    /// Appends `text` as a JSON string literal.
    public static func encode(_ text: String, into output: inout [UInt8]) {
        var text = text
        text.withUTF8 { encode(utf8: $0, into: &output) }
    }

    /// Appends UTF-8 text as a JSON string literal.
    public static func encode(utf8 bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.append(34)
        // Runs without anything to escape are copied whole.
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte == 34 || byte == 92 || byte < 32 else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            switch byte {
            case 34: output += [92, 34]
            case 92: output += [92, 92]
            case 10: output += [92, 110]
            case 13: output += [92, 114]
            case 9: output += [92, 116]
            default: output += [92, 117, 48, 48, hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 15)]]
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        output.append(34)
    }

    static let hexDigits = Array("0123456789abcdef".utf8)
}
