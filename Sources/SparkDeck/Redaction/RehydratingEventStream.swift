import Foundation

/// The outside model's event stream as the client gets it: cut into events wherever the chunks end, each choice's
/// `delta.content` rehydrated (a placeholder is held back until it is whole, even across events), every other
/// event passed on as it came. Events go out framed with LF. Pure: bytes in, text out.
struct RehydratingEventStream {
    let session: ScrubSession
    private var splitter = EventStreamSplitter()
    private var rehydrators: [Int: StreamingRehydrator] = [:]

    init(session: ScrubSession) {
        self.session = session
    }

    /// What to send for the next chunk of the stream (empty while no event is complete).
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> String {
        var output = ""
        for event in splitter.append(bytes) { output += try rewritten(event) }
        return output
    }

    /// The end of the stream: an event it left unterminated, then any text still held back.
    mutating func finish() throws -> String {
        var output = try splitter.finish().map { try rewritten($0) } ?? ""
        output += try flushed()
        return output
    }

    mutating func rewritten(_ event: EventStreamEvent) throws -> String {
        guard let data = event.data else { return Self.framed(event.lines) }
        if data == "[DONE]" { return try flushed() + Self.framed(event.otherLines + ["data: [DONE]"]) }
        guard var object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]] else {
            return Self.framed(event.lines)
        }
        var rewritten: [[String: Any]] = []
        for var choice in choices {
            let index = choice["index"] as? Int ?? 0
            var rehydrator = rehydrators[index] ?? StreamingRehydrator(session: session)
            var delta = choice["delta"] as? [String: Any] ?? [:]
            var text = (delta["content"] as? String).map { rehydrator.feed($0) } ?? ""
            if let finish = choice["finish_reason"], !(finish is NSNull) { text += rehydrator.finish() }
            if delta["content"] != nil || !text.isEmpty { delta["content"] = text }
            choice["delta"] = delta
            rehydrators[index] = rehydrator
            rewritten.append(choice)
        }
        object["choices"] = rewritten
        return Self.framed(event.otherLines + ["data: " + String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)])
    }

    /// Text still held back for any choice, as one event per choice.
    mutating func flushed() throws -> String {
        var output = ""
        for index in rehydrators.keys.sorted() {
            let rest = rehydrators[index]?.finish() ?? ""
            guard !rest.isEmpty else { continue }
            let chunk: [String: Any] = ["object": "chat.completion.chunk",
                                        "choices": [["index": index, "delta": ["content": rest], "finish_reason": NSNull()]]]
            output += Self.framed(["data: " + String(decoding: try JSONSerialization.data(withJSONObject: chunk), as: UTF8.self)])
        }
        return output
    }

    static func framed(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n\n" }
}
