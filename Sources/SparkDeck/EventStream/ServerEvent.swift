import Foundation

/// One Server-Sent Event.
public struct ServerEvent: Sendable, Equatable {
    public var name: String?
    /// What every stream gets.
    public var data: String
    /// What a stream opened with an admin key (or while no key exists) gets instead, when it differs: the output of
    /// a maintenance action.
    public var adminData: String? = nil

    public static func named(_ name: String, _ value: JSONValue) -> ServerEvent {
        ServerEvent(name: name, data: String(decoding: value.encoded(), as: UTF8.self))
    }

    /// An event carrying `value` encoded as JSON.
    public static func named(_ name: String, encoding value: some Encodable) throws -> ServerEvent {
        ServerEvent(name: name, data: String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }

    /// An event whose whole form (`admin`) goes only to admin streams; the others get `value`.
    public static func named(_ name: String, _ value: JSONValue, admin: JSONValue) -> ServerEvent {
        ServerEvent(
            name: name, data: String(decoding: value.encoded(), as: UTF8.self),
            adminData: String(decoding: admin.encoded(), as: UTF8.self))
    }

    /// A comment line: keeps the stream alive and lets a write find a client that left.
    public static let ping = ServerEvent(name: nil, data: "")

    /// The event in `text/event-stream` form, as a stream without admin rights gets it.
    public var wireFormat: String { wireFormat(admin: false) }

    /// The event in `text/event-stream` form; `admin`: for a stream opened with admin rights.
    public func wireFormat(admin: Bool) -> String {
        guard let name else { return ": ping\n\n" }
        let data = admin ? adminData ?? self.data : self.data
        let lines = data.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)" }
        return "event: \(name)\n" + lines.joined(separator: "\n") + "\n\n"
    }
}
