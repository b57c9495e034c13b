import AsyncHTTPClient
import Foundation
import HTTPTypes
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
    /// The longest silence on a streamed request (`stream: true`), before and inside the event stream.
    public var idleTimeout: Duration = .seconds(120)
    /// Attempts when nothing reached the upstream yet (connection refused or reset before sending).
    public var attempts = 3
    public var backoff: Duration = .milliseconds(50)
    public init() {}
}

/// The one place every gateway route goes through to reach an upstream: admission, retries before any byte was
/// sent, timeouts, streaming both ways without buffering, error mapping and metrics.
public struct UpstreamProxy: Sendable {
    let clients: UpstreamClients
    let gates: GatewayGates
    let board: StatusBoard
    let metrics: GatewayMetrics
    let activity: GatewayActivity
    let traffic: TrafficClock?
    let settings: UpstreamSettings
    let logger: Logger

    public init(clients: UpstreamClients, gates: GatewayGates, board: StatusBoard, metrics: GatewayMetrics,
                activity: GatewayActivity = GatewayActivity(), traffic: TrafficClock? = nil,
                settings: UpstreamSettings = UpstreamSettings(), logger: Logger) {
        self.clients = clients
        self.traffic = traffic
        self.activity = activity
        self.gates = gates
        self.board = board
        self.metrics = metrics
        self.settings = settings
        self.logger = logger
    }

    /// Forwards one request to `service` and streams the answer back.
    /// - Parameter onComplete: called with the whole body of a non-streamed JSON answer (for usage counting).
    /// - Parameter serving: the caller has just seen the service serving; skips asking the status board again.
    /// - Parameter streaming: the client asked for an event stream; silence past the idle timeout ends it.
    /// - Parameter waited: time the request already waited before it came here (for a swap to end); counted in
    ///   `X-SparkDeck-Queue-Ms`.
    /// - Parameter whenAdmitted: checked once the request holds its slots, before anything is sent (a request that
    ///   queued may find that things changed meanwhile, e.g. a swap began); what it throws is the answer.
    ///
    /// Errors carry `X-SparkDeck-Upstream` and `X-SparkDeck-Queue-Ms` like answers do.
    public func forward(route: String, service: ClusterService, method: HTTPMethod, path: String, body: ByteBuffer?,
                        contentType: String?, serving: Bool = false, streaming: Bool = false, waited swapWait: Duration = .zero,
                        whenAdmitted: (@Sendable () throws -> Void)? = nil,
                        onJSON: (@Sendable (ByteBuffer) -> Void)? = nil) async throws -> Response {
        let arrived = ContinuousClock.now
        let isServing = serving ? true : await board.state(of: .init(kind: .service, id: service.id)).isServing
        guard isServing else {
            metrics.rejected(upstream: service.id, reason: "upstream_down")
            activity.record(failed: true)
            var error = APIError(.serviceUnavailable, type: "upstream_unavailable", code: "upstream_down",
                                 message: "The \(service.id) service is not answering right now (\(await stateWords(service))). Retry shortly.")
            error.headers[.retryAfter] = "5"
            throw error.from(service, waited: swapWait)
        }
        // The service's own gate first, then its group's: always in that order, so no two requests wait for each
        // other's slots.
        let serviceGates = gates.gates(for: service)
        var held: [AdmissionGate] = []
        var waited = swapWait
        for gate in serviceGates {
            do {
                waited += try await gate.enter().waited
                held.append(gate)
            } catch {
                for gate in held.reversed() { gate.release() }
                metrics.rejected(upstream: service.id, reason: error.reason.rawValue)
                activity.record(failed: true)
                let what = gate.name == service.id ? "The \(service.id) service is"
                    : "The \(gate.name) group (which \(service.id) shares with other services) is"
                var apiError = APIError(.serviceUnavailable, type: "overloaded", code: error.reason.rawValue,
                                        message: "\(what) at capacity (\(gate.inFlight) in flight, queue full or waited too long). Retry after \(error.retryAfterSeconds) s.")
                apiError.headers[.retryAfter] = "\(error.retryAfterSeconds)"
                throw apiError.from(service, waited: swapWait + (ContinuousClock.now - arrived))
            }
        }
        let admitted = ContinuousClock.now
        let metrics = self.metrics
        let releaseGates: @Sendable () -> Void = {
            for gate in serviceGates.reversed() { gate.release(held: ContinuousClock.now - admitted) }
        }
        if let whenAdmitted {
            do {
                try whenAdmitted()
            } catch {
                for gate in serviceGates.reversed() { gate.release() }
                activity.record(failed: true)
                throw (error as? APIError)?.from(service, waited: waited) ?? error
            }
        }
        let upstream: HTTPClientResponse
        do {
            upstream = try await send(service: service, method: method, path: path, body: body, contentType: contentType,
                                      streaming: streaming)
        } catch {
            releaseGates()
            metrics.finished(route: route, upstream: service.id, status: 502, duration: ContinuousClock.now - arrived)
            activity.record(failed: true)
            throw (error as? APIError ?? Self.apiError(for: error, service: service, settings: settings, streaming: streaming))
                .from(service, waited: waited)
        }
        var headers: HTTPFields = [Self.upstreamHeader: service.id, Self.queueHeader: "\(Self.milliseconds(waited))"]
        let upstreamType = upstream.headers.first(name: "content-type") ?? "application/octet-stream"
        headers[.contentType] = upstreamType
        if let cache = upstream.headers.first(name: "cache-control") { headers[.cacheControl] = cache }
        // A sized answer stays sized: the client gets it without chunked framing. The bytes are still passed on
        // as they arrive.
        let contentLength = upstream.headers.first(name: "content-length")
        if let contentLength { headers[.contentLength] = contentLength }
        let isEventStream = upstreamType.hasPrefix("text/event-stream")
        let status = Int(upstream.status.code)
        let logger = self.logger, activity = self.activity, traffic = self.traffic
        traffic?.noteBytes(from: service.id)
        let wantsJSON = onJSON != nil && !isEventStream && status == 200
        let request = ProxiedRequest { status, answer in
            if let answer { onJSON?(answer) }
            metrics.finished(route: route, upstream: service.id, status: status, duration: ContinuousClock.now - arrived)
            activity.record(failed: status >= 500)
            releaseGates()
        }
        var chunks = upstream.body.makeAsyncIterator()
        var first: ByteBuffer?
        if !isEventStream {
            // A plain answer (not an event stream) comes with its head or right after it. Waiting for its first
            // bytes lets an answer that arrived whole go to the client in one write; the rest, if any, streams.
            do {
                first = try await chunks.next()
                metrics.firstByte(route: route, upstream: service.id, after: ContinuousClock.now - arrived)
                let length = contentLength.flatMap { Int($0) }
                // The body is read to its end even when its length says it is all there (HTTP/1 framing leaves
                // nothing after it): the client hands the connection back to its pool only then, and a body left
                // unread cancels the request and closes the connection.
                if let length, length == (first?.readableBytes ?? 0), try await chunks.next() == nil {
                    request.finish(status: status, answer: wantsJSON ? first : nil)
                    return Response(status: .init(code: status), headers: headers,
                                    body: ResponseBody(byteBuffer: first ?? ByteBuffer()))
                }
            } catch {
                request.finish(status: 502, answer: nil)
                throw Self.apiError(for: error, service: service, settings: settings, streaming: streaming).from(service, waited: waited)
            }
        }
        // The body writer below is the iterator's only user from here on (it runs after this function returns).
        nonisolated(unsafe) let remaining = chunks
        return Response(
            status: .init(code: status),
            headers: headers,
            body: ResponseBody { [first] writer in
                var chunks = remaining
                var collected: ByteBuffer? = wantsJSON ? ByteBuffer() : nil
                // An event stream's partial last event, held until its end arrives (`EventBoundary`).
                var partial = ByteBuffer()
                func pass(_ chunk: ByteBuffer) async throws {
                    if let size = collected?.readableBytes, size < 4 * 1024 * 1024 {
                        var chunkCopy = chunk
                        collected?.writeBuffer(&chunkCopy)
                    }
                    guard isEventStream else { return try await writer.write(chunk) }
                    var chunk = chunk
                    if partial.readableBytes > 0 {
                        partial.writeBuffer(&chunk)
                        swap(&chunk, &partial)
                        partial.clear()
                    }
                    guard let end = EventBoundary.end(in: chunk.readableBytesView) else {
                        // An upstream that never writes a blank line must not be held whole: past 64 KiB it goes on.
                        if chunk.readableBytes > EventBoundary.longestHeld { return try await writer.write(chunk) }
                        partial = chunk
                        return
                    }
                    let complete = end - chunk.readerIndex
                    if complete < chunk.readableBytes, let rest = chunk.getSlice(at: end, length: chunk.readableBytes - complete) {
                        partial = rest
                        chunk = chunk.getSlice(at: chunk.readerIndex, length: complete) ?? chunk
                    }
                    try await writer.write(chunk)
                }
                do {
                    if let first {
                        try await pass(first)
                    }
                    var firstByte = first == nil
                    while let chunk = try await chunks.next() {
                        traffic?.noteBytes(from: service.id)
                        if firstByte {
                            metrics.firstByte(route: route, upstream: service.id, after: ContinuousClock.now - arrived)
                            firstByte = false
                        }
                        try await pass(chunk)
                    }
                    // The stream ended cleanly: whatever is left (an event without its blank line) goes as it is.
                    if partial.readableBytes > 0 { try await writer.write(partial) }
                    try await writer.finish(nil)
                    request.finish(status: status, answer: collected)
                } catch {
                    logger.info("gateway: \(route) to \(service.id) ended early: \(error)")
                    request.finish(status: 599, answer: nil)
                    // The client left (a write failed) or the upstream broke mid-body. A stream gets a clean SSE
                    // error event before it closes (the partial event held back is dropped); a client that left
                    // gets nothing, and the upstream request is cancelled by leaving the loop.
                    if isEventStream, !(error is CancellationError) {
                        let event = Self.streamErrorEvent(service: service.id, error: error)
                        try? await writer.write(ByteBuffer(string: event))
                        try? await writer.finish(nil)
                        return
                    }
                    // Any other answer cannot be ended cleanly: the error makes the server close the connection, so
                    // the client sees a cut answer at once instead of waiting for bytes that never come.
                    throw error
                }
            })
    }

    /// Sends the request; retries with jittered backoff only while nothing reached the upstream.
    func send(service: ClusterService, method: HTTPMethod, path: String, body: ByteBuffer?, contentType: String?,
              streaming: Bool) async throws -> HTTPClientResponse {
        let client = streaming ? clients.streaming : clients.whole
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
                let apiError = Self.apiError(for: error, service: service, settings: settings, streaming: streaming)
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
        // Not `remoteConnectionClosed`: AsyncHTTPClient reports it also when the upstream closed after the whole
        // request reached it, and a completion must not run twice on the GPU.
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        if error is NIOConnectionError { return true }
        let text = String(describing: error)
        return text.contains("Connection refused") || text.contains("connectTimeout") || text.contains("ECONNREFUSED")
    }

    static func apiError(for error: any Error, service: ClusterService, settings: UpstreamSettings, streaming: Bool) -> APIError {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            let timeout = error == .readTimeout && streaming ? settings.idleTimeout : settings.firstByteTimeout
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

    static let upstreamHeader = HTTPField.Name("X-SparkDeck-Upstream")!
    static let queueHeader = HTTPField.Name("X-SparkDeck-Queue-Ms")!

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// One proxied request's end: its metrics, activity and admission slots, settled exactly once. A response that is
/// dropped before its body is written (the client left before the head went out, so the body is never called)
/// settles as ended early when it is released, so its slots are never lost.
final class ProxiedRequest: Sendable {
    private let settled = Atomic<Bool>(false)
    private let settle: @Sendable (_ status: Int, _ answer: ByteBuffer?) -> Void

    init(settle: @escaping @Sendable (_ status: Int, _ answer: ByteBuffer?) -> Void) {
        self.settle = settle
    }

    func finish(status: Int, answer: ByteBuffer?) {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        settle(status, answer)
    }

    deinit {
        if !settled.load(ordering: .acquiring) { settle(599, nil) }
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
    public func inFlight(serviceID: String) -> Int {
        gates.withLock { $0[serviceID] }?.inFlight ?? 0
    }

    /// In flight and queued per gate, for the dashboard.
    public func snapshot() -> [String: (inFlight: Int, queued: Int)] {
        gates.withLock { $0 }.mapValues { $0.load }
    }
}

/// The gateway's HTTP clients. They differ only in how long the upstream may stay silent: a whole answer's head
/// comes when its generation is done, so it may take up to the first-byte timeout; a stream's events come token by
/// token, so a pause past the idle timeout means it is stuck.
public struct UpstreamClients: Sendable {
    /// For answers that come whole.
    public let whole: HTTPClient
    /// For event streams (`stream: true`).
    public let streaming: HTTPClient

    public init(settings: UpstreamSettings = UpstreamSettings()) {
        whole = Self.makeClient(settings: settings, silence: max(settings.firstByteTimeout, settings.idleTimeout))
        streaming = Self.makeClient(settings: settings, silence: settings.idleTimeout)
    }

    /// Many connections per upstream, our own connect timeout, and `silence` as the read timeout (AsyncHTTPClient
    /// counts it from the end of the request, so it bounds the wait for the head as well as gaps in the body).
    static func makeClient(settings: UpstreamSettings, silence: Duration) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: TimeAmount(settings.connectTimeout), read: TimeAmount(silence)),
            // Idle connections are dropped before uvicorn's own 5 s keep-alive ends them, so a request is rarely
            // sent on a connection the upstream is closing (such a failure is not retried: see failedBeforeSending).
            connectionPool: .init(idleTimeout: .seconds(4), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async throws {
        try await whole.shutdown()
        try await streaming.shutdown()
    }
}

/// Shuts the gateway's HTTP clients down when SparkDeck stops.
struct HTTPClientShutdown: Service {
    let clients: UpstreamClients

    func run() async throws {
        try? await gracefulShutdown()
        try await clients.shutdown()
    }
}

extension APIError {
    /// The error as the gateway answers it: naming the upstream and the time spent waiting, as its answers do.
    func from(_ service: ClusterService, waited: Duration) -> APIError {
        var error = self
        error.headers[UpstreamProxy.upstreamHeader] = service.id
        error.headers[UpstreamProxy.queueHeader] = "\(UpstreamProxy.milliseconds(waited))"
        return error
    }
}
