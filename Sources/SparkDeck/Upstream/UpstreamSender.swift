import AsyncHTTPClient
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOPosix

/// Timeouts and retries for calls to the upstreams.
public struct UpstreamSettings: Sendable {
    public var connectTimeout: Duration = .seconds(2)
    /// Until the upstream's response head (for a non-streamed completion: the whole generation).
    public var firstByteTimeout: Duration = .seconds(300)
    /// The longest silence on a streamed request (`stream: true`), before and inside the event stream.
    public var idleTimeout: Duration = .seconds(120)
    /// Attempts when nothing reached the upstream yet (connection refused, or no connection within the timeout).
    public var attempts = 3
    public var backoff: Duration = .milliseconds(50)
    public init() {}
}

/// Sends one request to an upstream: connect, first-byte and idle timeouts, and a resend only when the request
/// provably never reached it (decided from the error's type, never its text). Its errors are `APIError`s in the
/// gateway's envelope.
public struct UpstreamSender: Sendable {
    let clients: UpstreamClients
    let settings: UpstreamSettings
    let board: StatusBoard
    let logger: Logger

    public init(clients: UpstreamClients, settings: UpstreamSettings = UpstreamSettings(), board: StatusBoard, logger: Logger) {
        self.clients = clients
        self.settings = settings
        self.board = board
        self.logger = logger
    }

    /// - Parameter call: the admitted call this send belongs to; waiting for the head ends when the monitor sees the
    ///   upstream go down meanwhile.
    func send(_ request: UpstreamRequest, to upstream: Upstream, during call: UpstreamCall? = nil) async throws -> HTTPClientResponse {
        let client = request.streaming ? clients.streaming : clients.whole
        var outbound = HTTPClientRequest(url: upstream.baseURL + request.path)
        outbound.method = .init(rawValue: request.method.rawValue)
        if let contentType = request.contentType { outbound.headers.add(name: "Content-Type", value: contentType) }
        outbound.headers.add(name: "Accept", value: "*/*")
        if let key = upstream.authorization?() { outbound.headers.add(name: "Authorization", value: "Bearer \(key)") }
        switch request.body {
        case .none: break
        case .bytes(let bytes): outbound.body = .bytes(bytes)
        case .stream(let bytes, let length):
            outbound.body = .stream(bytes, length: length.map { .known(Int64($0)) } ?? .unknown)
        }
        let attempts = request.body.canResend ? max(1, settings.attempts) : 1
        var attempt = 0
        while true {
            attempt += 1
            do {
                let timeout = TimeAmount(request.timeout ?? settings.firstByteTimeout)
                let (logger, attemptRequest) = (logger, outbound)
                guard let call else { return try await client.execute(attemptRequest, timeout: timeout, logger: logger) }
                return try await call.unlessDown { try await client.execute(attemptRequest, timeout: timeout, logger: logger) }
            } catch {
                if Self.neverReachedUpstream(error), attempt < attempts, !Task.isCancelled {
                    let jitter = Double.random(in: 0.5...1.5)
                    try await Task.sleep(for: settings.backoff * (Double(attempt) * jitter))
                    continue
                }
                var apiError = Self.apiError(for: error, upstream: upstream.id, settings: settings, streaming: request.streaming)
                if let timeout = request.timeout, apiError.code == "upstream_timeout" {
                    apiError.message = "The \(upstream.id) service did not answer within \(timeout)."
                }
                if upstream.watched, apiError.code == "upstream_unreachable" || apiError.code == "upstream_timeout" {
                    // A passive signal: a client just found the service not answering. The health monitor's next
                    // probe (within a quarter second) confirms or clears it.
                    let now = Timestamp.now()
                    await board.record(
                        .init(kind: .service, id: upstream.id),
                        Observation(
                            verdict: .failed, cause: "gateway: \(apiError.message)", sentAt: now, finishedAt: now))
                }
                throw apiError
            }
        }
    }

    /// True only for failures that happen before a connection exists, so no byte of the request can have reached
    /// the upstream. Not `remoteConnectionClosed`: AsyncHTTPClient reports it also when the upstream closed after
    /// the whole request reached it, and a completion must not run twice on the GPU.
    static func neverReachedUpstream(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError: error == .connectTimeout
        case is NIOConnectionError: true
        case let error as IOError: error.errnoCode == ECONNREFUSED
        case let error as ChannelError:
            if case .connectTimeout = error { true } else { false }
        default: false
        }
    }

    static func apiError(for error: any Error, upstream: String, settings: UpstreamSettings, streaming: Bool) -> APIError {
        if let error = error as? APIError { return error }
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            let timeout = error == .readTimeout && streaming ? settings.idleTimeout : settings.firstByteTimeout
            return APIError(
                .gatewayTimeout, type: "upstream_unavailable", code: "upstream_timeout",
                message: "The \(upstream) service did not answer within \(timeout).")
        }
        if let error = error as? ServiceWentDown {
            var apiError = APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "upstream_down",
                message: "The \(upstream) service stopped answering while this request waited for it (\(error)). Retry shortly.")
            apiError.headers[.retryAfter] = "5"
            return apiError
        }
        if error is CancellationError {
            return APIError(.serviceUnavailable, type: "upstream_unavailable", code: "cancelled", message: "The request was cancelled.")
        }
        return APIError(
            .badGateway, type: "upstream_unavailable", code: "upstream_unreachable",
            message: "Could not reach the \(upstream) service: \(error).")
    }
}

/// The core's HTTP clients. They differ only in how long the upstream may stay silent: a whole answer's head
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
            // sent on a connection the upstream is closing (such a failure is not resent: see neverReachedUpstream).
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
