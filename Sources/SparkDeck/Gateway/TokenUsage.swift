import Foundation
import NIOCore

/// The `usage` object of an OpenAI-style answer, read without parsing the rest of the answer: the proxy counts
/// tokens on every request, and the answer can be long.
struct TokenUsage: Equatable, Decodable {
    var prompt: Int
    var completion: Int

    enum CodingKeys: String, CodingKey {
        case prompt = "prompt_tokens", completion = "completion_tokens"
    }

    init(prompt: Int, completion: Int) {
        self.prompt = prompt
        self.completion = completion
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prompt = try container.decodeIfPresent(Int.self, forKey: .prompt) ?? 0
        completion = try container.decodeIfPresent(Int.self, forKey: .completion) ?? 0
    }

    static let key = Array(#""usage""#.utf8)

    /// The last `"usage": {...}` in the answer (vLLM writes it at the end), or nil.
    init?(in answer: ByteBuffer) {
        let bytes = answer.readableBytesView
        guard let keyStart = Self.lastIndex(of: Self.key, in: bytes) else { return nil }
        var index = keyStart + Self.key.count
        while index < bytes.endIndex, bytes[index] == 32 || bytes[index] == 58 || bytes[index] == 10 || bytes[index] == 9 {
            index += 1
        }
        guard index < bytes.endIndex, bytes[index] == 123 else { return nil }
        // Braces balance inside `usage` (numbers, nulls and nested detail objects; no strings with braces).
        var depth = 0
        var end = index
        while end < bytes.endIndex {
            if bytes[end] == 123 { depth += 1 } else if bytes[end] == 125 {
                depth -= 1
                if depth == 0 { break }
            }
            end += 1
        }
        guard end < bytes.endIndex, let usage = try? JSONDecoder().decode(TokenUsage.self, from: Data(bytes[index...end])) else {
            return nil
        }
        self = usage
    }

    static func lastIndex(of needle: [UInt8], in bytes: ByteBufferView) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        var start = bytes.endIndex - needle.count
        while start >= bytes.startIndex {
            if bytes[start] == needle[0], bytes[start..<(start + needle.count)].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }
}
