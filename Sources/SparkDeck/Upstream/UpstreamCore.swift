import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The one way SparkDeck calls an upstream, in three parts with one job each: *admit* (the gates of the upstream
/// and its group, as a lease given back exactly once), *send* (`UpstreamSender`: timeouts, resends only when nothing
/// reached the upstream) and *relay* (`UpstreamRelay`: the answer streamed to the client). `forward` is the three in
/// a row, for a proxied route; a job that makes many calls holds one lease (`admit`) and sends under it.
public struct UpstreamCore: Sendable {
    let gates: GatewayGates
    let board: StatusBoard
    let sender: UpstreamSender
    let relay: UpstreamRelay
    public let observer: GatewayObserver

    public init(sender: UpstreamSender, gates: GatewayGates, observer: GatewayObserver, traffic: TrafficClock? = nil) {
        self.gates = gates
        self.board = sender.board
        self.observer = observer
        self.sender = sender
        relay = UpstreamRelay(settings: sender.settings, traffic: traffic, logger: sender.logger)
    }

    /// Admits, sends and relays one request.
    /// - Parameter serving: the caller has just seen the upstream serving; skips asking the status board again.
    /// - Parameter whenAdmitted: checked once the request holds its slots, before anything is sent (a request that
    ///   queued may find that things changed meanwhile, e.g. a swap began); what it throws is the answer.
    /// - Parameter onJSON: called with the body of a whole 200 JSON answer (usage counting).
    ///
    /// Errors carry `X-SparkDeck-Upstream` and `X-SparkDeck-Queue-Ms` like answers do.
    public func forward(
        _ request: UpstreamRequest, to upstream: Upstream, serving: Bool = false,
        whenAdmitted: (@Sendable () throws -> Void)? = nil,
        onJSON: (@Sendable (ByteBuffer) -> Void)? = nil
    ) async throws -> Response {
        let call = try await admit(request, to: upstream, serving: serving)
        do {
            try whenAdmitted?()
        } catch {
            call.abandon()
            throw (error as? APIError)?.naming(upstream.id, waited: call.waited) ?? error
        }
        let answer = try await send(request, on: call, to: upstream)
        return try await relay.respond(answer, call: call, onJSON: onJSON)
    }

    /// An answer read whole, for a route that works on the upstream's answer instead of passing it on.
    public struct WholeAnswer: Sendable {
        public var status: Int
        public var contentType: String?
        public var body: ByteBuffer
        /// Time spent waiting for admission (and before it), for `X-SparkDeck-Queue-Ms`.
        public var waited: Duration
    }

    /// Admits, sends and reads the answer whole (at most `limit` bytes); the call is counted when it is read.
    public func exchange(_ request: UpstreamRequest, to upstream: Upstream, limit: Int = 16 * 1024 * 1024) async throws -> WholeAnswer {
        let call = try await admit(request, to: upstream)
        let answer = try await send(request, on: call, to: upstream)
        do {
            let body = try await call.unlessDown { try await answer.body.collect(upTo: limit) }
            call.finish(status: Int(answer.status.code))
            return WholeAnswer(
                status: Int(answer.status.code), contentType: answer.headers.first(name: "content-type"), body: body,
                waited: call.waited)
        } catch is ServiceWentDown {
            call.abandon()
            throw UpstreamSender.apiError(
                for: ServiceWentDown(service: upstream.id), upstream: upstream.id, settings: sender.settings, streaming: false
            )
            .naming(upstream.id, waited: call.waited)
        } catch {
            call.abandon()
            throw APIError(
                .badGateway, type: "upstream_unavailable", code: "upstream_bad_answer",
                message: "The \(upstream.id) service's answer could not be read whole (at most \(limit / 1024) KiB): \(error)."
            )
            .naming(upstream.id, waited: call.waited)
        }
    }

    /// Waits for the upstream's slots (its own gate, then its group's). Refuses at once, with `503 upstream_down`,
    /// an upstream the status board sees down, and with `503 overloaded` + `Retry-After` when a queue is full or
    /// its wait ran out.
    func admit(_ request: UpstreamRequest, to upstream: Upstream, serving: Bool = false) async throws -> UpstreamCall {
        let arrived = ContinuousClock.now
        let epoch = board.outages.epoch(of: upstream.id)
        if upstream.watched, !serving {
            let state = await board.state(of: .init(kind: .service, id: upstream.id))
            guard state.isServing else {
                var error = APIError(
                    .serviceUnavailable, type: "upstream_unavailable", code: "upstream_down",
                    message: "The \(upstream.id) service is not answering right now (state \(state.rawValue)). Retry shortly.")
                error.headers[.retryAfter] = "5"
                throw error.naming(upstream.id, waited: request.waited)
            }
        }
        let serviceGates = gates.gates(for: upstream)
        do {
            let lease = try await AdmissionLease.acquire(serviceGates)
            return UpstreamCall(
                route: request.route, upstream: upstream.id, arrived: arrived,
                waited: request.waited + lease.waited, lease: lease, observer: observer,
                outage: upstream.watched ? (board.outages, epoch) : nil)
        } catch {
            let gate = serviceGates.first { $0.name == error.gate } ?? serviceGates[0]
            let what =
                gate.name == upstream.id
                ? "The \(upstream.id) service is"
                : "The \(gate.name) group (which \(upstream.id) shares with other services) is"
            var apiError = APIError(
                .serviceUnavailable, type: "overloaded", code: error.reason.rawValue,
                message:
                    "\(what) at capacity (\(gate.inFlight) in flight, queue full or waited too long). Retry after \(error.retryAfterSeconds) s."
            )
            apiError.headers[.retryAfter] = "\(error.retryAfterSeconds)"
            throw apiError.naming(upstream.id, waited: request.waited + (ContinuousClock.now - arrived))
        }
    }

    /// Sends one request under a call's lease; on failure the call is abandoned and the error thrown names the
    /// upstream.
    func send(_ request: UpstreamRequest, on call: UpstreamCall, to upstream: Upstream) async throws -> HTTPClientResponse {
        do {
            return try await sender.send(request, to: upstream, during: call)
        } catch {
            call.abandon()
            throw UpstreamSender.apiError(for: error, upstream: upstream.id, settings: sender.settings, streaming: request.streaming)
                .naming(upstream.id, waited: call.waited)
        }
    }

    static let upstreamHeader = HTTPField.Name("X-SparkDeck-Upstream")!
    static let queueHeader = HTTPField.Name("X-SparkDeck-Queue-Ms")!

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.milliseconds)
    }
}

extension APIError {
    /// The error as the gateway answers it: naming the upstream and the time spent waiting, as its answers do.
    func naming(_ upstream: String, waited: Duration) -> APIError {
        var error = self
        error.headers[UpstreamCore.upstreamHeader] = upstream
        error.headers[UpstreamCore.queueHeader] = "\(UpstreamCore.milliseconds(waited))"
        return error
    }

    func from(_ service: ClusterService, waited: Duration) -> APIError {
        naming(service.id, waited: waited)
    }
}

/// Shuts the core's HTTP clients down when SparkDeck stops.
struct HTTPClientShutdown: Service {
    let clients: UpstreamClients

    func run() async throws {
        try? await gracefulShutdown()
        try await clients.shutdown()
    }
}
