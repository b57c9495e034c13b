/// Cuts a `text/event-stream` body into events, whatever the chunk boundaries (the reading side of `ServerEvent`).
/// Comment lines (`: ping`) and events without data are skipped. Pure.
public struct ServerSentEventParser: Sendable {
    private var buffer = ""

    public init() {}

    /// The events `text` completes.
    public mutating func append(_ text: String) -> [ServerEvent] {
        buffer += text
        var events: [ServerEvent] = []
        while let end = buffer.range(of: "\n\n") {
            let block = buffer[..<end.lowerBound]
            var name: String?
            var data: [Substring] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("event:") { name = String(line.dropFirst(6).drop(while: { $0 == " " })) }
                if line.hasPrefix("data:") { data.append(line.dropFirst(5).dropFirst(line.dropFirst(5).hasPrefix(" ") ? 1 : 0)) }
            }
            if !data.isEmpty { events.append(ServerEvent(name: name ?? "message", data: data.joined(separator: "\n"))) }
            buffer.removeSubrange(..<end.upperBound)
        }
        return events
    }
}
