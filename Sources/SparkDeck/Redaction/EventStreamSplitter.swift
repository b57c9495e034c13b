import Foundation

/// One event of a `text/event-stream`: its lines as they came, without their line ends.
struct EventStreamEvent: Sendable, Equatable {
    var lines: [String]

    /// The values of its `data:` lines (the one space after the colon dropped, when there is one) joined by newlines;
    /// nil when it has none.
    var data: String? {
        let values = lines.compactMap { line -> Substring? in
            guard line.hasPrefix("data:") else { return nil }
            let value = line.dropFirst(5)
            return value.hasPrefix(" ") ? value.dropFirst() : value
        }
        return values.isEmpty ? nil : values.joined(separator: "\n")
    }

    /// Its other lines (`event:`, `id:`, `retry:`, comments), as they came.
    var otherLines: [String] { lines.filter { !$0.hasPrefix("data:") } }
}

/// Cuts a `text/event-stream` byte stream into events, wherever the network chunks end: a line ends with LF, CRLF
/// or CR, a blank line ends an event, and a line is decoded only once all its bytes are in, so a character split
/// between two chunks stays whole. Pure. (The dashboard's `ServerSentEventParser` reads text, not bytes, splits on
/// LF only and keeps only `event:` and `data:`, which is enough for SparkDeck's own streams, not an outside one.)
struct EventStreamSplitter: Sendable {
    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no line end.
    private var scanned = 0
    private var lines: [String] = []

    /// The events the bytes complete.
    mutating func append(_ bytes: some Sequence<UInt8>) -> [EventStreamEvent] {
        pending.append(contentsOf: bytes)
        var events: [EventStreamEvent] = []
        var start = 0
        var index = scanned
        while index < pending.count {
            let byte = pending[index]
            guard byte == 10 || byte == 13 else {
                index += 1
                continue
            }
            var next = index + 1
            if byte == 13 {
                // A CR at the end of what came so far may be the first half of a CRLF.
                guard next < pending.count else { break }
                if pending[next] == 10 { next += 1 }
            }
            endLine(pending[start..<index], into: &events)
            start = next
            index = next
        }
        pending.removeSubrange(..<start)
        scanned = index - start
        return events
    }

    /// The end of the stream: the last event, also when no blank line closed it.
    mutating func finish() -> EventStreamEvent? {
        var events: [EventStreamEvent] = []
        var line = pending[...]
        if line.last == 13 { line = line.dropLast() }
        if !line.isEmpty { endLine(line, into: &events) }
        endLine([], into: &events)
        pending = []
        scanned = 0
        return events.first
    }

    private mutating func endLine(_ line: ArraySlice<UInt8>, into events: inout [EventStreamEvent]) {
        if line.isEmpty {
            if !lines.isEmpty { events.append(EventStreamEvent(lines: lines)) }
            lines.removeAll()
        } else {
            lines.append(String(decoding: line, as: UTF8.self))
        }
    }
}

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
