import Foundation
import Hummingbird
import ServiceLifecycle

/// `/api/status`, the `/api/events` stream and `/api/connectivity`.
struct StatusController {
    let board: StatusBoard
    let events: EventBroadcaster
    let log: ConnectivityLog

    static let defaultHours = 6.0
    static let maxHours = 720.0

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/status") { _, _ in Response.json(await board.statusDocument()) }
        router.get("/api/events") { _, _ in try await eventStream() }
        router.get("/api/connectivity") { request, _ in try await connectivity(request) }
    }

    func eventStream() async throws -> Response {
        let (id, stream) = await events.subscribe()
        let first = ServerEvent.named("status", await board.statusDocument())
        let events = self.events
        return Response.eventStream { writer in
            // However the stream ends (client gone, shutdown, cancellation), the subscription goes with it.
            defer { Task { await events.unsubscribe(id) } }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n" + first.wireFormat))
            // The server waits for open responses before it stops: an event stream must end at shutdown itself.
            for await event in stream.cancelOnGracefulShutdown() {
                try await writer.write(ByteBuffer(string: event.wireFormat))
            }
            try await writer.finish(nil)
        }
    }

    func connectivity(_ request: Request) async throws -> Response {
        let now = Timestamp.now()
        var since = now - Self.defaultHours * 3600
        if let text = request.uri.queryParameters["since"].map(String.init) {
            guard let parsed = Timestamp.parse(text) else {
                throw APIError.invalidRequest("`since` must be an ISO 8601 time like 2026-11-27T00:00:00Z, got '\(text)'.", param: "since")
            }
            since = parsed
        } else if let text = request.uri.queryParameters["hours"].map(String.init) {
            guard let hours = Double(text), hours > 0, hours <= Self.maxHours else {
                throw APIError.invalidRequest(
                    "`hours` must be a number above 0 and at most \(Int(Self.maxHours)), got '\(text)'.", param: "hours")
            }
            since = now - hours * 3600
        }
        let outages = try await log.outages(since: since)
        let changes = try await log.changes(since: since)
        return Response.json(
            .object([
                "since": .string(Timestamp.iso(since)),
                "now": .string(Timestamp.iso(now)),
                "outages": .array(outages.map { .object($0.json(now: now)) }),
                "changes": .array(changes.map { .object($0.json) }),
            ]))
    }
}
