import Foundation

/// One event of a `text/event-stream`: its lines as they came, without their line ends.
public struct EventStreamEvent: Sendable, Equatable {
    public var lines: [String]

    public init(lines: [String]) {
        self.lines = lines
    }

    /// Its `event:` name, or `message` when it has none.
    public var name: String {
        guard let line = lines.last(where: { $0.hasPrefix("event:") }) else { return "message" }
        let value = line.dropFirst(6)
        return String(value.hasPrefix(" ") ? value.dropFirst() : value)
    }

    /// The values of its `data:` lines (the one space after the colon dropped, when there is one) joined by newlines;
    /// nil when it has none.
    public var data: String? {
        let values = lines.compactMap { line -> Substring? in
            guard line.hasPrefix("data:") else { return nil }
            let value = line.dropFirst(5)
            return value.hasPrefix(" ") ? value.dropFirst() : value
        }
        return values.isEmpty ? nil : values.joined(separator: "\n")
    }

    /// Its other lines (`event:`, `id:`, `retry:`, comments), as they came.
    public var otherLines: [String] { lines.filter { !$0.hasPrefix("data:") } }
}

/// Cuts a `text/event-stream` byte stream into events, wherever the network chunks end: a line ends with LF, CRLF
/// or CR, a blank line ends an event, and a line is decoded only once all its bytes are in, so a character split
/// between two chunks stays whole. Pure. The reading side of `ServerEvent`, and of an outside model's stream.
public struct EventStreamSplitter: Sendable {
    private var pending: [UInt8] = []
    /// How much of `pending` is known to hold no line end.
    private var scanned = 0
    private var lines: [String] = []

    public init() {}

    /// The events the bytes complete.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [EventStreamEvent] {
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
    public mutating func finish() -> EventStreamEvent? {
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

