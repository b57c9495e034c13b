import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Timeouts and retries for calls to the upstreams.
public struct UpstreamSettings: Sendable {
    public var connectTimeout: Duration = .seconds(2)
    /// Until the upstream's response head (for a non-streamed completion: the whole generation).
    public var firstByteTimeout: Duration = .seconds(300)
    /// The longest silence inside a streamed body.
    public var idleTimeout: Duration = .seconds(120)
    /// Attempts when nothing reached the upstream yet (connection refused or reset before sending).
    public var attempts = 3
    public var backoff: Duration = .milliseconds(50)
    public init() {}
}

/// The one place every gateway route goes through to reach an upstream: admission, retries before any byte was
/// sent, timeouts, streaming both ways without buffering, error mapping and metrics.
public struct UpstreamProxy: Sendable {
    let client: HTTPClient
    let gates: GatewayGates
    let board: StatusBoard
    let metrics: GatewayMetrics
    let activity: GatewayActivity
    let traffic: TrafficClock?
    let settings: UpstreamSettings
    let logger: Logger

    public init(client: HTTPClient, gates: GatewayGates, board: StatusBoard, metrics: GatewayMetrics,
                activity: GatewayActivity = GatewayActivity(), traffic: TrafficClock? = nil,
                settings: UpstreamSettings = UpstreamSettings(), logger: Logger) {
        self.client = client
        self.traffic = traffic
        self.activity = activity
        self.gates = gates
        self.board = board
        self.metrics = metrics
        self.settings = settings
        self.logger = logger
    }

    /// An HTTP client fit for the gateway: many connections per upstream, our own connect timeout.
    public static func makeClient(settings: UpstreamSettings = UpstreamSettings()) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .nanoseconds(Int64(settings.connectTimeout.components.seconds) * 1_000_000_000
                                                 + settings.connectTimeout.components.attoseconds / 1_000_000_000),
                           read: .seconds(settings.idleTimeout.components.seconds)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Forwards one request to `service` and streams the answer back.
    /// - Parameter onComplete: called with the whole body of a non-streamed JSON answer (for usage counting).
    /// - Parameter serving: the caller has just seen the service serving; skips asking the status board again.
    public func forward(route: String, service: ClusterService, method: HTTPMethod, path: String, body: ByteBuffer?,
                        contentType: String?, serving: Bool = false,
                        onJSON: (@Sendable (ByteBuffer) -> Void)? = nil) async throws -> Response {
        let arrived = ContinuousClock.now
        let isServing = serving ? true : await board.state(of: .init(kind: .service, id: service.id)).isServing
        guard isServing else {
            metrics.rejected(upstream: service.id, reason: "upstream_down")
            activity.record(failed: true)
            var error = APIError(.serviceUnavailable, type: "upstream_unavailable", code: "upstream_down",
                                 message: "The \(service.id) service is not answering right now (\(await stateWords(service))). Retry shortly.")
            error.headers[.retryAfter] = "5"
            throw error
        }
        // The service's own gate first, then its group's: always in that order, so no two requests wait for each
        // other's slots.
        let serviceGates = gates.gates(for: service)
        var held: [AdmissionGate] = []
        var waited = Duration.zero
        for gate in serviceGates {
            do {
                let admission = try await gate.enter()
                waited += admission.waited
                held.append(gate)
                metrics.gate(gate.name, inFlight: admission.inFlight, queued: admission.queued)
            } catch {
                for gate in held.reversed() {
                    let load = await gate.release()
                    metrics.gate(gate.name, inFlight: load.inFlight, queued: load.queued)
                }
                metrics.rejected(upstream: service.id, reason: error.reason.rawValue)
                activity.record(failed: true)
                let what = gate.name == service.id ? "The \(service.id) service is"
                    : "The \(gate.name) group (which \(service.id) shares with other services) is"
                var apiError = APIError(.serviceUnavailable, type: "overloaded", code: error.reason.rawValue,
                                        message: "\(what) at capacity (\(await gate.inFlight) in flight, queue full or waited too long). Retry after \(error.retryAfterSeconds) s.")
                apiError.headers[.retryAfter] = "\(error.retryAfterSeconds)"
                throw apiError
            }
        }
        let admitted = ContinuousClock.now
        let metrics = self.metrics
        let releaseGates: @Sendable () async -> Void = {
            for gate in serviceGates.reversed() {
                let load = await gate.release(held: ContinuousClock.now - admitted)
                metrics.gate(gate.name, inFlight: load.inFlight, queued: load.queued)
            }
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await send(service: service, method: method, path: path, body: body, contentType: contentType)
        } catch {
            await releaseGates()
            metrics.finished(route: route, upstream: service.id, status: 502, duration: ContinuousClock.now - arrived)
            activity.record(failed: true)
            throw error
        }
        var headers: HTTPFields = [
            .init("X-SparkDeck-Upstream")!: service.id,
            .init("X-SparkDeck-Queue-Ms")!: "\(Self.milliseconds(waited))",
        ]
        let upstreamType = upstream.headers.first(name: "content-type") ?? "application/octet-stream"
        headers[.contentType] = upstreamType
        if let cache = upstream.headers.first(name: "cache-control") { headers[.cacheControl] = cache }
        let isEventStream = upstreamType.hasPrefix("text/event-stream")
        let status = Int(upstream.status.code)
        let logger = self.logger, activity = self.activity, traffic = self.traffic
        traffic?.noteBytes(from: service.id)
        return Response(
            status: .init(code: status),
            headers: headers,
            body: ResponseBody { writer in
                var firstByte = true
                var collected: ByteBuffer? = (onJSON != nil && !isEventStream && status == 200) ? ByteBuffer() : nil
                do {
                    for try await chunk in upstream.body {
                        traffic?.noteBytes(from: service.id)
                        if firstByte {
                            metrics.firstByte(route: route, upstream: service.id, after: ContinuousClock.now - arrived)
                            firstByte = false
                        }
                        if var copy = collected, copy.readableBytes < 4 * 1024 * 1024 {
                            var chunkCopy = chunk
                            copy.writeBuffer(&chunkCopy)
                            collected = copy
                        }
                        try await writer.write(chunk)
                    }
                    try await writer.finish(nil)
                    if let collected { onJSON?(collected) }
                    metrics.finished(route: route, upstream: service.id, status: status, duration: ContinuousClock.now - arrived)
                    activity.record(failed: status >= 500)
                } catch {
                    // The client left (a write failed) or the upstream broke mid-body. A stream gets a clean SSE
                    // error event before it closes; a client that left gets nothing, and the upstream request is
                    // cancelled by leaving the loop.
                    if isEventStream, !(error is CancellationError) {
                        let event = Self.streamErrorEvent(service: service.id, error: error)
                        try? await writer.write(ByteBuffer(string: event))
                        try? await writer.finish(nil)
                    }
                    logger.info("gateway: \(route) to \(service.id) ended early: \(error)")
                    metrics.finished(route: route, upstream: service.id, status: 599, duration: ContinuousClock.now - arrived)
                    activity.record(failed: true)
                }
                await releaseGates()
            })
    }

    /// Sends the request; retries with jittered backoff only while nothing reached the upstream.
    func send(service: ClusterService, method: HTTPMethod, path: String, body: ByteBuffer?, contentType: String?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: service.baseURL + path)
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.headers.add(name: "Accept", value: "*/*")
        if let body { request.body = .bytes(body) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await client.execute(request, timeout: .init(settings.firstByteTimeout), logger: logger)
            } catch {
                let notSent = Self.failedBeforeSending(error)
                if notSent && attempt < settings.attempts && !Task.isCancelled {
                    let jitter = Double.random(in: 0.5...1.5)
                    try await Task.sleep(for: settings.backoff * (Double(attempt) * jitter))
                    continue
                }
                let apiError = Self.apiError(for: error, service: service, timeout: settings.firstByteTimeout)
                if apiError.code == "upstream_unreachable" || apiError.code == "upstream_timeout" {
                    // A passive signal: a client just found the service not answering. The health monitor's next
                    // probe (within a quarter second) confirms or clears it.
                    let now = Timestamp.now()
                    await board.record(.init(kind: .service, id: service.id), Observation(
                        verdict: .failed, cause: "gateway: \(apiError.message)", sentAt: now, finishedAt: now))
                }
                throw apiError
            }
        }
    }

    static func failedBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout || error == .remoteConnectionClosed { return true }
        if error is NIOConnectionError { return true }
        let text = String(describing: error)
        return text.contains("Connection refused") || text.contains("connectTimeout") || text.contains("ECONNREFUSED")
    }

    static func apiError(for error: any Error, service: ClusterService, timeout: Duration) -> APIError {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return APIError(.gatewayTimeout, type: "upstream_unavailable", code: "upstream_timeout",
                            message: "The \(service.id) service did not answer within \(timeout).")
        }
        if error is CancellationError {
            return APIError(.serviceUnavailable, type: "upstream_unavailable", code: "cancelled", message: "The request was cancelled.")
        }
        return APIError(.badGateway, type: "upstream_unavailable", code: "upstream_unreachable",
                        message: "Could not reach the \(service.id) service: \(error).")
    }

    static func streamErrorEvent(service: String, error: any Error) -> String {
        let message = "The \(service) stream broke off: \(error). The answer above is incomplete."
        let json = JSONValue.object(["error": .object([
            "message": .string(message), "type": .string("upstream_unavailable"), "code": .string("stream_interrupted"),
            "param": .null,
        ])])
        return "data: " + String(decoding: json.encoded(), as: UTF8.self) + "\n\n"
    }

    private func stateWords(_ service: ClusterService) async -> String {
        let state = await board.state(of: .init(kind: .service, id: service.id))
        return "state \(state.rawValue)"
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// The admission gates, one per upstream service, created from its inventory limits.
public final class GatewayGates: Sendable {
    private let gates = Mutex<[String: AdmissionGate]>([:])

    public init() {}

    /// The service's gate, then its admission group's (shared by every service of the group).
    public func gates(for service: ClusterService) -> [AdmissionGate] {
        gates.withLock { gates in
            var result: [AdmissionGate] = []
            for (name, limits) in [(service.id, service.limits)] + (service.admissionGroup.map { [($0.name, $0.limits)] } ?? []) {
                if let gate = gates[name] {
                    result.append(gate)
                } else {
                    let gate = AdmissionGate(name: name, limits: limits)
                    gates[name] = gate
                    result.append(gate)
                }
            }
            return result
        }
    }

    /// Requests holding a slot of a service's gate (0 before its first request).
    public func inFlight(serviceID: String) async -> Int {
        await gates.withLock { $0[serviceID] }?.inFlight ?? 0
    }

    /// In flight and queued per gate, for the dashboard.
    public func snapshot() async -> [String: (inFlight: Int, queued: Int)] {
        var result: [String: (Int, Int)] = [:]
        for (name, gate) in gates.withLock({ $0 }) { result[name] = (await gate.inFlight, await gate.queued) }
        return result
    }
}

/// Shuts the gateway's HTTP client down when SparkDeck stops.
struct HTTPClientShutdown: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
