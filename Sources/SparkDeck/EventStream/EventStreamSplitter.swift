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

/// An event grew past the most the reader holds (`EventStreamSplitter.longestEvent`) without ending.
public struct EventTooLong: Error, CustomStringConvertible, Sendable {
    public let limit: Int
    public var description: String { "an event of the stream grew past \(limit) bytes without ending" }
}

/// Cuts a `text/event-stream` byte stream into events, wherever the network chunks end (the grammar is
/// `EventStreamScanner`'s), and decodes a line only once all its bytes are in, so a character split between two
/// chunks stays whole. Pure. The reading side of `ServerEvent`, and of an outside model's stream.
public struct EventStreamSplitter: Sendable {
    /// The most one event may hold; past it `append` throws rather than grow without bound.
    public static let longestEvent = 1 << 20

    private var scanner = EventStreamScanner()
    private var line: [UInt8] = []
    private var lines: [String] = []
    private var eventBytes = 0
    private let limit: Int

    public init(longestEvent: Int = EventStreamSplitter.longestEvent) {
        limit = longestEvent
    }

    /// The events the bytes complete.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(EventTooLong) -> [EventStreamEvent] {
        var events: [EventStreamEvent] = []
        for byte in bytes {
            switch scanner.step(byte) {
            case .content:
                line.append(byte)
                eventBytes += 1
                if eventBytes > limit { throw EventTooLong(limit: limit) }
            case .lineEnd(endsEvent: true):
                if !lines.isEmpty { events.append(EventStreamEvent(lines: lines)) }
                lines.removeAll()
                eventBytes = 0
            case .lineEnd(endsEvent: false):
                lines.append(String(decoding: line, as: UTF8.self))
                line.removeAll(keepingCapacity: true)
            case .none:
                break
            }
        }
        return events
    }

    /// The end of the stream: the last event, also when no blank line closed it.
    public mutating func finish() -> EventStreamEvent? {
        if !line.isEmpty { lines.append(String(decoding: line, as: UTF8.self)) }
        defer {
            line = []
            lines = []
            eventBytes = 0
            scanner = EventStreamScanner()
        }
        return lines.isEmpty ? nil : EventStreamEvent(lines: lines)
    }
}
