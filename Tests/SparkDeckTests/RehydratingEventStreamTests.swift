import Foundation
import Testing

@testable import SparkDeck

@Suite("Rehydrated event stream")
struct RehydratingEventStreamTests {
    static func chunk(_ content: String, finish: String? = nil) -> String {
        #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\#(content)"},"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}]}"#
    }

    /// What an outside model may send: CRLF framing, `data:` without its space, a comment, an emoji and accents,
    /// a placeholder split between events, and a last event with no blank line after it.
    static let wire = Array(
        ("data: " + chunk("Café <PER") + "\r\n\r\n"
            + "data:" + chunk("SON_1> 🎉 <EMAIL_1>") + "\r\n\r\n"
            + ": keep-alive\r\n\r\n"
            + "data: " + chunk(", merci", finish: "stop") + "\r\n\r\n"
            + "data: [DONE]").utf8)

    /// The content the client reads from the stream.
    static func content(_ output: String) throws -> String {
        var text = ""
        for line in output.split(separator: "\n") where line.hasPrefix("data: {") {
            let event = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
            let delta = (event?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
            text += delta?["content"] as? String ?? ""
        }
        return text
    }

    @Test func chunksCutInsideACharacterOrAPlaceholderComeOutWholeAndRehydrated() throws {
        let session = StreamingRehydratorTests.session()
        for cut in 0...Self.wire.count {
            var stream = RehydratingEventStream(session: session)
            var output = try stream.feed(Self.wire[..<cut])
            output += try stream.feed(Self.wire[cut...])
            output += try stream.finish()
            #expect(try Self.content(output) == "Café Maria Gonzalez 🎉 maria@example.com, merci", "cut at byte \(cut)")
            #expect(
                !output.contains("\u{FFFD}") && !output.contains("data:{") && !output.contains("PERSON_1"), "cut at byte \(cut): \(output)")
            #expect(output.contains(": keep-alive\n\n"))
            #expect(output.hasSuffix("data: [DONE]\n\n"), "the unterminated last event is passed on")
        }
    }

    @Test func byteByByte() throws {
        var stream = RehydratingEventStream(session: StreamingRehydratorTests.session())
        var output = ""
        for byte in Self.wire { output += try stream.feed([byte]) }
        output += try stream.finish()
        #expect(try Self.content(output) == "Café Maria Gonzalez 🎉 maria@example.com, merci")
    }

    /// Tool-call arguments come in pieces too; a placeholder split between two of them comes out whole.
    @Test func toolCallArgumentsAreRehydratedAcrossEvents() throws {
        func call(_ arguments: String, finish: String? = nil) -> String {
            let escaped = arguments.replacingOccurrences(of: "\"", with: "\\\"")
            return
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\#(escaped)"}}]},"finish_reason":\#(finish.map { "\"\($0)\"" } ?? "null")}]}"#
        }
        let wire = Array(
            ("data: " + call(#"{"to": "<EMA"#) + "\n\n" + "data: " + call(#"IL_1>", "cc": "<PERSON"#) + "\n\n"
                + "data: " + call(#"_1>"}"#) + "\n\n" + #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#
                + "\n\ndata: [DONE]\n\n").utf8)
        for cut in 0...wire.count {
            var stream = RehydratingEventStream(session: StreamingRehydratorTests.session())
            let output = try stream.feed(wire[..<cut]) + stream.feed(wire[cut...]) + stream.finish()
            var arguments = ""
            for line in output.split(separator: "\n") where line.hasPrefix("data: {") {
                let event = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                let delta = (event?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
                for call in delta?["tool_calls"] as? [[String: Any]] ?? [] {
                    arguments += (call["function"] as? [String: Any])?["arguments"] as? String ?? ""
                }
            }
            #expect(arguments == #"{"to": "maria@example.com", "cc": "Maria Gonzalez"}"#, "cut at byte \(cut): \(output)")
        }
    }
}
