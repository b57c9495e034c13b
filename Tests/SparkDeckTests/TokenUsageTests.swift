import NIOCore
import Testing

@testable import SparkDeck

/// Token counting reads only the answer's `usage` object.
@Suite("Token usage")
struct TokenUsageTests {
    @Test func readsTheUsageObjectAtTheEnd() {
        let answer =
            #"{"id":"x","choices":[{"message":{"content":"{\"usage\": 1}"}}],"usage":{"prompt_tokens":12,"total_tokens":19,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":0}}}"#
        #expect(TokenUsage(in: ByteBuffer(string: answer)) == TokenUsage(prompt: 12, completion: 7))
    }

    @Test func missingOrBrokenUsageIsNil() {
        #expect(TokenUsage(in: ByteBuffer(string: #"{"choices":[]}"#)) == nil)
        #expect(TokenUsage(in: ByteBuffer(string: #"{"usage":null}"#)) == nil)
        #expect(TokenUsage(in: ByteBuffer(string: #"{"usage":{"prompt_tokens":3"#)) == nil)
    }

    @Test func onlyTheUsageObjectsOwnKeysCount() {
        let spaced = #"{"usage" : { "prompt_tokens" : 12 ,"extra":{"completion_tokens":99,"note":"a \"}\" b"}, "completion_tokens":\#n7 }}"#
        #expect(TokenUsage(in: ByteBuffer(string: spaced)) == TokenUsage(prompt: 12, completion: 7))
    }

    @Test func absentCountsAreZero() {
        #expect(TokenUsage(in: ByteBuffer(string: #"{"usage":{"prompt_tokens":5}}"#)) == TokenUsage(prompt: 5, completion: 0))
    }
}
