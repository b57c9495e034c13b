import Foundation
import Hummingbird
import ServiceLifecycle

/// `/api/status`, the `/api/events` stream and `/api/connectivity`.
struct StatusController {
    let board: StatusBoard
    let events: EventBroadcaster
    let log: ConnectivityLog
    let keys: APIKeyStore
    let streams: StreamLimiter

    static let defaultHours = 6.0
    static let maxHours = 720.0

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/status") { _, _ in Response.json(await board.statusDocument()) }
        router.get("/api/events") { request, context in
            try await eventStream(authorization: request.headers[.authorization], client: context.clientAddress)
        }
        router.get("/api/connectivity") { request, _ in try await connectivity(request) }
    }

    /// - Parameter authorization: the request's `Authorization` header; events with an admin form (an action's
    ///   output) get it only while that header grants `admin`, checked per event: after a key is revoked, or once
    ///   keys exist on a stream opened while none did, the stream gets the form without output.
    /// - Parameter client: the client's address, for the cap on its open streams.
    func eventStream(authorization: String?, client: String) async throws -> Response {
        let ticket: StreamLimiter.Ticket
        do { ticket = try streams.acquire(client: client) } catch { throw error.apiError(streams) }
        let (id, stream) = await events.subscribe()
        let first = ServerEvent.named("status", await board.statusDocument())
        let events = self.events
        let keys = self.keys
        return Response.eventStream { writer in
            // However the stream ends (client gone, shutdown, cancellation), the subscription goes with it.
            defer {
                Task { await events.unsubscribe(id) }
                withExtendedLifetime(ticket) {}
            }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n" + first.wireFormat))
            // The server waits for open responses before it stops: an event stream must end at shutdown itself.
            for await event in stream.cancelOnGracefulShutdown() {
                let admin = event.adminData != nil ? await keys.grants(.admin, authorization: authorization) : false
                try await writer.write(ByteBuffer(string: event.wireFormat(admin: admin)))
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
