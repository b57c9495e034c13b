import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `GET /api/activity` (who used the cluster and how, per app) and `GET /api/activity/log` (the last requests).
struct ActivityController {
    let apps: AppActivity
    static let maxMinutes = ActivityStore.retentionDays * 24 * 60

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/activity") { request, _ in try await summary(request) }
        router.get("/api/activity/log") { request, _ in try log(request) }
    }

    func summary(_ request: Request) async throws -> ActivityAnswer {
        let parameters = request.uri.queryParameters
        let minutes = try Self.integer(parameters["minutes"].map(String.init), name: "minutes", in: 1...Self.maxMinutes, default: 60)
        let byRoute: Bool
        switch parameters["by"].map(String.init) {
        case nil, "app": byRoute = false
        case "route": byRoute = true
        case let other?:
            throw APIError.invalidRequest("`by` must be `app` or `route`, got '\(other)'.", param: "by")
        }
        let now = Timestamp.now()
        let (groups, perMinute) = try await apps.summary(minutes: minutes, byRoute: byRoute, now: now)
        let rows = groups.sorted { ($0.value.requests, $1.key.app, $1.key.route) > ($1.value.requests, $0.key.app, $0.key.route) }
            .map { ActivityAnswer.Group(key: $0.key, counts: $0.value, byRoute: byRoute) }
        let firstMinute = Int(now) / 60 - minutes + 1
        let series = perMinute.keys.sorted().filter { $0 >= firstMinute }.map { minute in
            ActivityAnswer.Minute(minute: minute, counts: perMinute[minute]!)
        }
        return ActivityAnswer(minutes: minutes, now: Timestamp.iso(now), groups: rows, perMinute: series)
    }

    func log(_ request: Request) throws -> RequestLogAnswer {
        let parameters = request.uri.queryParameters
        let limit = try Self.integer(parameters["limit"].map(String.init), name: "limit", in: 1...AppActivity.logCapacity, default: 200)
        let errorsOnly: Bool
        switch parameters["errors"].map(String.init) {
        case nil, "false": errorsOnly = false
        case "true": errorsOnly = true
        case let other?: throw APIError.invalidRequest("`errors` must be `true` or `false`, got '\(other)'.", param: "errors")
        }
        let entries = apps.log(
            app: parameters["app"].map(String.init), route: parameters["route"].map(String.init), errorsOnly: errorsOnly,
            limit: limit)
        return RequestLogAnswer(requests: entries.map(RequestLogAnswer.Entry.init))
    }

    static func integer(_ text: String?, name: String, in range: ClosedRange<Int>, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.invalidRequest(
                "`\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'.", param: name)
        }
        return number
    }
}

/// The answer of `GET /api/activity`.
struct ActivityAnswer: ResponseEncodable {
    var minutes: Int
    var now: String
    var groups: [Group]
    var perMinute: [Minute]

    enum CodingKeys: String, CodingKey {
        case minutes, now, groups
        case perMinute = "per_minute"
    }

    struct Errors: Encodable {
        var client, overloaded, swapping, upstream: Int
        init(_ counts: ActivityCounts) {
            client = counts.errors(.client)
            overloaded = counts.errors(.overloaded)
            swapping = counts.errors(.swapping)
            upstream = counts.errors(.upstream)
        }
    }

    struct Group: Encodable {
        var app: String
        var route: String?
        var upstream: String?
        var requests: Int
        var errors: Errors
        var latencyP50Ms: Double?
        var latencyP95Ms: Double?
        var queueMsAverage: Double
        var tokensIn: Int
        var tokensOut: Int
        var documents: Int
        var audioSeconds: Double

        enum CodingKeys: String, CodingKey {
            case app, route, upstream, requests, errors, documents
            case audioSeconds = "audio_seconds"
            case latencyP50Ms = "latency_p50_ms"
            case latencyP95Ms = "latency_p95_ms"
            case queueMsAverage = "queue_ms_avg"
            case tokensIn = "tokens_in"
            case tokensOut = "tokens_out"
        }

        init(key: ActivityKey, counts: ActivityCounts, byRoute: Bool) {
            app = key.app
            route = byRoute ? key.route : nil
            upstream = byRoute ? key.upstream : nil
            requests = counts.requests
            errors = Errors(counts)
            latencyP50Ms = counts.latencyQuantileMs(0.5)
            latencyP95Ms = counts.latencyQuantileMs(0.95)
            queueMsAverage = counts.requests > 0 ? (counts.queueMs / Double(counts.requests) * 10).rounded() / 10 : 0
            tokensIn = counts.tokensIn
            tokensOut = counts.tokensOut
            documents = counts.documents
            audioSeconds = (counts.audioSeconds * 10).rounded() / 10
        }
    }

    struct Minute: Encodable {
        var start: String
        var requests: Int
        var errors: Int
        var latencyP95Ms: Double?

        enum CodingKeys: String, CodingKey {
            case start, requests, errors
            case latencyP95Ms = "latency_p95_ms"
        }

        init(minute: Int, counts: ActivityCounts) {
            start = Timestamp.iso(Double(minute * 60))
            requests = counts.requests
            errors = counts.errorTotal
            latencyP95Ms = counts.latencyQuantileMs(0.95)
        }
    }
}

/// The answer of `GET /api/activity/log`: newest first.
struct RequestLogAnswer: ResponseEncodable {
    var requests: [Entry]

    struct Entry: Encodable {
        var time: String
        var app: String
        var route: String
        var upstream: String
        var status: Int
        var errorCode: String?
        var durationMs: Double
        var queueMs: Double

        enum CodingKeys: String, CodingKey {
            case time, app, route, upstream, status
            case errorCode = "error_code"
            case durationMs = "duration_ms"
            case queueMs = "queue_ms"
        }

        init(_ entry: RequestLogEntry) {
            time = Timestamp.iso(entry.time)
            app = entry.app
            route = entry.route
            upstream = entry.upstream
            status = entry.status
            errorCode = entry.errorCode
            durationMs = (entry.durationMs * 10).rounded() / 10
            queueMs = (entry.queueMs * 10).rounded() / 10
        }
    }
}

/// Moves finished minutes of activity to the store every 15 s, and everything at shutdown (a restart keeps the
/// counts).
struct ActivityFlusher: Service {
    let apps: AppActivity
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(15))
                do { try await apps.flush() } catch { logger.warning("activity not saved yet (kept for the next try): \(error)") }
            }
        }
        do { try await apps.flush(everything: true) } catch { logger.error("activity of the last minute not saved: \(error)") }
    }
}
