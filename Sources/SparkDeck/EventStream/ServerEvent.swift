import Foundation

/// One Server-Sent Event.
public struct ServerEvent: Sendable, Equatable {
    public var name: String?
    public var data: String

    public static func named(_ name: String, _ value: JSONValue) -> ServerEvent {
        ServerEvent(name: name, data: String(decoding: value.encoded(), as: UTF8.self))
    }

    /// A comment line: keeps the stream alive and lets a write find a client that left.
    public static let ping = ServerEvent(name: nil, data: "")

    /// The event in `text/event-stream` form.
    public var wireFormat: String {
        guard let name else { return ": ping\n\n" }
        let lines = data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)" }
        return "event: \(name)\n" + lines.joined(separator: "\n") + "\n\n"
    }
}
