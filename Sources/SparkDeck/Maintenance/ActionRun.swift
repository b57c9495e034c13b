import Foundation

/// One run of a maintenance action, kept so the owner can see what ran, when, and what it printed.
public struct ActionRun: Sendable, Equatable, Codable {
    public var id: String
    public var action: String
    public var node: String
    public var startedAt: Double
    public var endedAt: Double?
    /// The command's exit status; nil while it runs or when it never got one (see `error`).
    public var exitCode: Int32?
    /// Why the run has no exit status: the node was unreachable, it timed out, SparkDeck stopped meanwhile.
    public var error: String?
    /// The end of what the command printed (stdout and stderr).
    public var output: String

    public var isRunning: Bool { endedAt == nil }
    public var succeeded: Bool { exitCode == 0 && error == nil }

    /// At most this much of a run's output is kept: the end of it, where the outcome is.
    static let outputLimit = 16 * 1024

    static func tail(of output: String) -> String {
        let bytes = Array(output.utf8)
        guard bytes.count > outputLimit else { return output }
        var start = bytes.count - outputLimit
        // Begin on a character boundary (not inside a UTF-8 sequence).
        while start < bytes.count, bytes[start] & 0xC0 == 0x80 { start += 1 }
        return "…" + String(decoding: bytes[start...], as: UTF8.self)
    }

    /// The run without what the command printed (`output`, `error`): for readers without the admin scope.
    func publicJSON() -> JSONValue {
        guard case .object(var fields) = json() else { return json() }
        fields["output"] = nil
        fields["error"] = nil
        return .object(fields)
    }

    func json() -> JSONValue {
        .object([
            "id": .string(id), "action": .string(action), "node": .string(node),
            "state": .string(isRunning ? "running" : succeeded ? "succeeded" : "failed"),
            "started_at": .string(Timestamp.iso(startedAt)),
            "ended_at": .optional(endedAt.map(Timestamp.iso)),
            "duration_ms": .optional(endedAt.map { (($0 - startedAt) * 1000).rounded() }),
            "exit_code": .optional(exitCode.map(Double.init)),
            "error": .optional(error),
            "output": .string(output),
        ])
    }
}
