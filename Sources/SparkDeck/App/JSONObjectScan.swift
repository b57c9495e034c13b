/// A JSON request body checked in one pass over its bytes, with the members of its top-level object located but not
/// decoded. The gateway reads three or four fields of a request it otherwise forwards as sent, so it has no use for a
/// tree of the whole document.
///
/// The grammar is RFC 8259's: objects, arrays, strings (control characters must be escaped, `\u` takes four hex
/// digits), numbers (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`), `true`, `false`, `null`, nested at most
/// 128 deep (recursion depth, well past any request), and the text must be UTF-8.
struct JSONObjectScan {
    enum Kind: Equatable {
        case object, string, number, bool, null
        case array(count: Int)
    }

    /// One member of the top-level object: its decoded key, what its value is, and where the value's bytes are.
    struct Member {
        var key: String
        var kind: Kind
        var range: Range<Int>
    }

    enum Failure: Error, Equatable {
        /// Not JSON; `at` is the byte offset where reading stopped.
        case invalid(at: Int)
        /// JSON, but not an object.
        case notAnObject
    }

    static let maxDepth = 128

    let bytes: [UInt8]
    let members: [Member]

    init(_ bytes: [UInt8]) throws(Failure) {
        if !bytes.allSatisfy({ $0 < 0x80 }), String(validating: bytes, as: UTF8.self) == nil {
            throw .invalid(at: 0)
        }
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let isObject = parser.index < bytes.count && bytes[parser.index] == UInt8(ascii: "{")
        _ = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw .invalid(at: parser.index) }
        guard isObject else { throw .notAnObject }
        self.bytes = bytes
        members = parser.topLevel
    }

    /// The member with this key; the last one when a key repeats (as most JSON readers, vLLM's included, keep it).
    subscript(key: String) -> Member? {
        members.last { $0.key == key }
    }

    /// The member's value as a string, or nil when it is missing or not a string.
    func string(_ key: String) -> String? {
        guard let member = self[key], member.kind == .string else { return nil }
        return try? JSONStringLiteral.decode(bytes[member.range])
    }

    /// The same document with one string member's value replaced; every other byte stays as it was.
    func replacing(_ key: String, with text: String) -> [UInt8]? {
        guard let member = self[key] else { return nil }
        var encoded: [UInt8] = []
        JSONStringLiteral.encode(text, into: &encoded)
        return Array(bytes[..<member.range.lowerBound]) + encoded + Array(bytes[member.range.upperBound...])
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var topLevel: [Member] = []

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func peek() throws(Failure) -> UInt8 {
            guard index < bytes.count else { throw .invalid(at: index) }
            return bytes[index]
        }

        mutating func expect(_ byte: UInt8) throws(Failure) {
            guard try peek() == byte else { throw .invalid(at: index) }
            index += 1
        }

        mutating func value(depth: Int) throws(Failure) -> Kind {
            switch try peek() {
            case UInt8(ascii: "{"):
                try object(depth: depth + 1)
                return .object
            case UInt8(ascii: "["):
                return .array(count: try array(depth: depth + 1))
            case UInt8(ascii: "\""):
                try string()
                return .string
            case UInt8(ascii: "t"):
                try word("true")
                return .bool
            case UInt8(ascii: "f"):
                try word("false")
                return .bool
            case UInt8(ascii: "n"):
                try word("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try number()
                return .number
            default:
                throw .invalid(at: index)
            }
        }

        mutating func object(depth: Int) throws(Failure) {
            guard depth <= JSONObjectScan.maxDepth else { throw .invalid(at: index) }
            index += 1
            skipSpace()
            if try peek() == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                let keyStart = index
                guard try peek() == UInt8(ascii: "\"") else { throw .invalid(at: index) }
                try string()
                let keyEnd = index
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                let valueStart = index
                let kind = try value(depth: depth)
                if depth == 1 {
                    guard let key = try? JSONStringLiteral.decode(bytes[keyStart..<keyEnd]) else { throw .invalid(at: keyStart) }
                    topLevel.append(Member(key: key, kind: kind, range: valueStart..<index))
                }
                skipSpace()
                if try peek() == UInt8(ascii: ",") {
                    index += 1
                    skipSpace()
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return
            }
        }

        mutating func array(depth: Int) throws(Failure) -> Int {
            guard depth <= JSONObjectScan.maxDepth else { throw .invalid(at: index) }
            index += 1
            skipSpace()
            if try peek() == UInt8(ascii: "]") {
                index += 1
                return 0
            }
            var count = 0
            while true {
                _ = try value(depth: depth)
                count += 1
                skipSpace()
                if try peek() == UInt8(ascii: ",") {
                    index += 1
                    skipSpace()
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return count
            }
        }

        mutating func string() throws(Failure) {
            index += 1
            while true {
                let byte = try peek()
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    switch try peek() {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        index += 1
                        for _ in 0..<4 {
                            guard try peek().isHexDigit else { throw .invalid(at: index) }
                            index += 1
                        }
                    default:
                        throw .invalid(at: index)
                    }
                case 0..<0x20:
                    throw .invalid(at: index)
                default:
                    index += 1
                }
            }
        }

        mutating func digits() throws(Failure) {
            guard try peek().isDigit else { throw .invalid(at: index) }
            while index < bytes.count, bytes[index].isDigit { index += 1 }
        }

        mutating func number() throws(Failure) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            if try peek() == UInt8(ascii: "0") {
                index += 1
            } else {
                try digits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                try digits()
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                try digits()
            }
        }

        mutating func word(_ text: StaticString) throws(Failure) {
            let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
            guard index + expected.count <= bytes.count, bytes[index..<(index + expected.count)].elementsEqual(expected) else {
                throw .invalid(at: index)
            }
            index += expected.count
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
