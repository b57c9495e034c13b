import Hummingbird

/// The one place a gateway request's outcome is counted: Prometheus metrics and the dashboard's activity together,
/// so neither misses one (a rejection, a swap's 503, a broken stream). Answers are counted when their last byte is
/// sent (`UpstreamCall`), errors where a route throws them (`observing`).
public struct GatewayObserver: Sendable {
    let metrics: GatewayMetrics
    let activity: GatewayActivity

    public init(metrics: GatewayMetrics, activity: GatewayActivity) {
        self.metrics = metrics
        self.activity = activity
    }

    /// A request that got an answer from the upstream (599: the answer broke off).
    func answered(route: String, upstream: String, status: Int, duration: Duration) {
        metrics.finished(route: route, upstream: upstream, status: status, duration: duration)
        activity.record(failed: status >= 500)
    }

    /// A request answered with an error by SparkDeck itself: bad input, a refusal, an upstream that failed.
    func failed(route: String, upstream: String, error: APIError, duration: Duration) {
        let status = Int(error.status.code)
        if status == 503, let code = error.code { metrics.rejected(upstream: upstream, reason: code) }
        metrics.finished(route: route, upstream: upstream, status: status, duration: duration)
        activity.record(failed: status >= 500)
    }

    func firstByte(route: String, upstream: String, after duration: Duration) {
        metrics.firstByte(route: route, upstream: upstream, after: duration)
    }

    func tokens(upstream: String, usage: TokenUsage) {
        metrics.tokens(upstream: upstream, prompt: usage.prompt, completion: usage.completion)
    }

    /// Runs a gateway route and counts the error it throws, if any (answers count themselves when they end).
    func observing(route: String, upstream: String, _ handle: () async throws -> Response) async throws -> Response {
        let arrived = ContinuousClock.now
        do {
            return try await handle()
        } catch {
            let apiError =
                error as? APIError
                ?? APIError(.internalServerError, type: "server_error", code: "internal", message: "\(error)")
            let named = apiError.headers[UpstreamCore.upstreamHeader] ?? upstream
            failed(route: route, upstream: named, error: apiError, duration: ContinuousClock.now - arrived)
            throw error
        }
    }
}
