import NIOCore

/// The `usage` object of an OpenAI-style answer, read without parsing the rest of the answer: the proxy counts
/// tokens on every request, and the answer can be long.
struct TokenUsage: Equatable {
    var prompt: Int
    var completion: Int

    init(prompt: Int, completion: Int) {
        self.prompt = prompt
        self.completion = completion
    }

    /// The last `"usage": {...}` in the answer (vLLM writes it at the end), or nil when there is none or it is cut
    /// off. Counts it does not name are 0.
    init?(in answer: ByteBuffer) {
        guard let usage = answer.withUnsafeReadableBytes({ Self.scan($0) }) else { return nil }
        self = usage
    }

    private static let usageKey = Array(#""usage""#.utf8)
    private static let promptKey = Array("prompt_tokens".utf8)
    private static let completionKey = Array("completion_tokens".utf8)

    private static func scan(_ bytes: UnsafeRawBufferPointer) -> TokenUsage? {
        guard let keyStart = lastIndex(of: usageKey, in: bytes) else { return nil }
        var index = skipSpaceAndColon(bytes, from: keyStart + usageKey.count)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        var usage = TokenUsage(prompt: 0, completion: 0)
        var depth = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                index += 1
                if depth == 0 { return usage }
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { return nil }
                let name = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // Only the object's own keys count: `prompt_tokens_details` and nested objects are skipped.
                guard depth == 1, name.elementsEqual(promptKey) || name.elementsEqual(completionKey) else { continue }
                let valueStart = skipSpaceAndColon(bytes, from: index)
                guard valueStart > index else { continue }
                var value = 0
                index = valueStart
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), value < Int.max / 100 {
                    value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                if name.count == promptKey.count { usage.prompt = value } else { usage.completion = value }
            default:
                index += 1
            }
        }
        return nil
    }

    private static func skipSpaceAndColon(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ":"): index += 1
            default: return index
            }
        }
        return index
    }

    static func lastIndex(of needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var start = bytes.count - needle.count
        while start >= 0 {
            if bytes[start] == needle[0], UnsafeRawBufferPointer(rebasing: bytes[start..<(start + needle.count)]).elementsEqual(needle) {
                return start
            }
            start -= 1
        }
        return nil
    }
}
