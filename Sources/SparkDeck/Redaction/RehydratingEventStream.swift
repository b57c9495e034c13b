import Foundation

/// The outside model's event stream as the client gets it: cut into events wherever the chunks end, each choice's
/// `delta.content` and each tool call's `function.arguments` rehydrated (a placeholder is held back until it is
/// whole, even across events), every other event passed on as it came. Events go out framed with LF. Pure: bytes
/// in, text out.
struct RehydratingEventStream {
    let session: ScrubSession
    private var splitter = EventStreamSplitter()
    private var rehydrators: [Int: StreamingRehydrator] = [:]
    /// One tool call of one choice: its arguments arrive in pieces, like content.
    private struct ToolCall: Hashable, Comparable {
        var choice: Int
        var call: Int
        static func < (a: ToolCall, b: ToolCall) -> Bool { (a.choice, a.call) < (b.choice, b.call) }
    }
    private var toolRehydrators: [ToolCall: StreamingRehydrator] = [:]

    init(session: ScrubSession) {
        self.session = session
    }

    /// What to send for the next chunk of the stream (empty while no event is complete).
    mutating func feed(_ bytes: some Sequence<UInt8>) throws -> String {
        var output = ""
        for event in try splitter.append(bytes) { output += try rewritten(event) }
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
            let choices = object["choices"] as? [[String: Any]]
        else {
            return Self.framed(event.lines)
        }
        var rewritten: [[String: Any]] = []
        for var choice in choices {
            let index = choice["index"] as? Int ?? 0
            var rehydrator = rehydrators[index] ?? StreamingRehydrator(session: session)
            var delta = choice["delta"] as? [String: Any] ?? [:]
            var text = (delta["content"] as? String).map { rehydrator.feed($0) } ?? ""
            let finished = choice["finish_reason"].map { !($0 is NSNull) } ?? false
            if finished { text += rehydrator.finish() }
            if delta["content"] != nil || !text.isEmpty { delta["content"] = text }
            var calls = delta["tool_calls"] as? [[String: Any]] ?? []
            for position in calls.indices {
                guard var function = calls[position]["function"] as? [String: Any],
                    let arguments = function["arguments"] as? String
                else { continue }
                let key = ToolCall(choice: index, call: calls[position]["index"] as? Int ?? position)
                var toolRehydrator = toolRehydrators[key] ?? StreamingRehydrator(session: session)
                function["arguments"] = toolRehydrator.feed(arguments)
                toolRehydrators[key] = toolRehydrator
                calls[position]["function"] = function
            }
            if finished {
                for (call, rest) in heldArguments(choice: index) {
                    if let position = calls.firstIndex(where: { $0["index"] as? Int == call }),
                        var function = calls[position]["function"] as? [String: Any]
                    {
                        function["arguments"] = (function["arguments"] as? String ?? "") + rest
                        calls[position]["function"] = function
                    } else {
                        calls.append(["index": call, "function": ["arguments": rest]])
                    }
                }
            }
            if !calls.isEmpty { delta["tool_calls"] = calls }
            choice["delta"] = delta
            rehydrators[index] = rehydrator
            rewritten.append(choice)
        }
        object["choices"] = rewritten
        return Self.framed(
            event.otherLines + ["data: " + String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)])
    }

    /// Text still held back for any choice, as one event per choice.
    mutating func flushed() throws -> String {
        var output = ""
        let choices = Set(rehydrators.keys).union(toolRehydrators.keys.map(\.choice))
        for index in choices.sorted() {
            var delta: [String: Any] = [:]
            let rest = rehydrators[index]?.finish() ?? ""
            if !rest.isEmpty { delta["content"] = rest }
            let held = heldArguments(choice: index)
            if !held.isEmpty { delta["tool_calls"] = held.map { ["index": $0.call, "function": ["arguments": $0.rest]] } }
            guard !delta.isEmpty else { continue }
            let chunk: [String: Any] = [
                "object": "chat.completion.chunk",
                "choices": [["index": index, "delta": delta, "finish_reason": NSNull()]],
            ]
            output += Self.framed(["data: " + String(decoding: try JSONSerialization.data(withJSONObject: chunk), as: UTF8.self)])
        }
        return output
    }

    /// The argument text still held back for each tool call of `choice`, in call order; the calls are done.
    private mutating func heldArguments(choice: Int) -> [(call: Int, rest: String)] {
        var held: [(call: Int, rest: String)] = []
        for key in toolRehydrators.keys.filter({ $0.choice == choice }).sorted() {
            let rest = toolRehydrators[key]?.finish() ?? ""
            toolRehydrators[key] = nil
            if !rest.isEmpty { held.append((key.call, rest)) }
        }
        return held
    }

    static func framed(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n\n" }
}
