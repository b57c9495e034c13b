import Hummingbird

/// The one place a gateway request's outcome is counted: Prometheus metrics, the dashboard's live activity and the
/// per-app activity together, so none misses one (a rejection, a swap's 503, a broken stream). Answers are counted
/// when their last byte is sent (`UpstreamCall`), errors where a route throws them (`observing`). Each is counted
/// to the app that made the request (`RequestApp`).
public struct GatewayObserver: Sendable {
    let metrics: GatewayMetrics
    let activity: GatewayActivity
    let apps: AppActivity

    public init(metrics: GatewayMetrics, activity: GatewayActivity, apps: AppActivity = AppActivity(store: nil)) {
        self.metrics = metrics
        self.activity = activity
        self.apps = apps
    }

    /// A request that got an answer from the upstream (599: the answer broke off).
    func answered(route: String, upstream: String, status: Int, duration: Duration, queued: Duration, app: RequestApp?) {
        metrics.finished(route: route, upstream: upstream, status: status, duration: duration, app: app)
        activity.record(failed: status >= 500)
        apps.record(
            app: app, route: route, upstream: upstream,
            outcome: RequestOutcome(status: status, durationMs: duration.milliseconds, queueMs: queued.milliseconds))
    }

    /// A request answered with an error by SparkDeck itself: bad input, a refusal, an upstream that failed.
    func failed(route: String, upstream: String, error: APIError, duration: Duration, app: RequestApp?) {
        let status = Int(error.status.code)
        if status == 503, let code = error.code { metrics.rejected(upstream: upstream, reason: code) }
        metrics.finished(route: route, upstream: upstream, status: status, duration: duration, app: app)
        activity.record(failed: status >= 500)
        apps.record(
            app: app, route: route, upstream: upstream,
            outcome: RequestOutcome(
                status: status, errorType: error.type, errorCode: error.code, durationMs: duration.milliseconds,
                queueMs: (error.headers[UpstreamCore.queueHeader].flatMap(Double.init)) ?? 0))
    }

    func firstByte(route: String, upstream: String, after duration: Duration) {
        metrics.firstByte(route: route, upstream: upstream, after: duration)
    }

    func tokens(route: String, upstream: String, usage: TokenUsage, app: RequestApp?) {
        metrics.tokens(upstream: upstream, prompt: usage.prompt, completion: usage.completion)
        apps.add(app: app, route: route, upstream: upstream) {
            $0.tokensIn += usage.prompt
            $0.tokensOut += usage.completion
        }
    }

    /// Texts embedded for the request being served (read in its task).
    func documents(route: String, upstream: String, count: Int) {
        apps.add(app: RequestApp.current, route: route, upstream: upstream) { $0.documents += count }
    }

    /// Seconds of audio a job processed for the request that started it (read in the job's task, which inherits the
    /// request's app).
    func audio(route: String, upstream: String, seconds: Double) {
        apps.add(app: RequestApp.current, route: route, upstream: upstream) { $0.audioSeconds += seconds }
    }

    /// Runs a route that SparkDeck answers itself, with no upstream (`/scrub`, `/rehydrate`), and counts its answer or
    /// its error under `upstream` "local".
    func local(route: String, _ handle: () async throws -> Response) async throws -> Response {
        let arrived = ContinuousClock.now
        let app = RequestApp.current
        let response = try await observing(route: route, upstream: "local", handle)
        answered(
            route: route, upstream: "local", status: Int(response.status.code), duration: ContinuousClock.now - arrived,
            queued: .zero, app: app)
        return response
    }

    /// Runs a gateway route and counts the error it throws, if any (answers count themselves when they end).
    func observing(route: String, upstream: String, _ handle: () async throws -> Response) async throws -> Response {
        let arrived = ContinuousClock.now
        let app = RequestApp.current
        do {
            return try await handle()
        } catch {
            let apiError =
                error as? APIError
                ?? APIError(.internalServerError, type: "server_error", code: "internal", message: "\(error)")
            let named = apiError.headers[UpstreamCore.upstreamHeader] ?? upstream
            failed(route: route, upstream: named, error: apiError, duration: ContinuousClock.now - arrived, app: app)
            throw error
        }
    }
}
