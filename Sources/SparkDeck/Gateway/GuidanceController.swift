import Hummingbird

/// `GET /api/guidance`: what an app developer needs to call the cluster well: per endpoint, how many requests the
/// gateway lets through at once and queues (the limits in force), and how to retry.
struct GuidanceController {
    let inventory: Inventory
    /// The limits in force: the inventory's, or a capacity sweep's applied since.
    let gates: GatewayGates

    /// The routes each kind of service answers.
    static let routes: [(kind: ServiceKind, routes: [String])] = [
        (.vllm, ["POST /v1/chat/completions", "POST /v1/completions"]),
        (.asr, ["POST /v1/audio/transcriptions", "POST /v1/audio/diarizations"]),
        (.tts, ["POST /v1/audio/speech"]),
        (.embeddings, ["POST /v1/embeddings", "POST /v1/embeddings/sparse"]),
        (.rerank, ["POST /v1/rerank"]),
        (.qdrant, ["POST /v1/search/collections/{name}/query", "POST /v1/search/collections/{name}/documents"]),
    ]

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/guidance") { _, _ in guidance() }
    }

    func guidance() -> GuidanceAnswer {
        var endpoints: [GuidanceAnswer.Endpoint] = []
        for (kind, routes) in Self.routes {
            guard let service = inventory.services(of: kind).first else { continue }
            let group = service.admissionGroup
            let limits = gates.limits(of: service.id, configured: service.limits)
            let groupLimits = group.map { gates.limits(of: $0.name, configured: $0.limits) }
            let cap = min(limits.maxInFlight, groupLimits?.maxInFlight ?? .max)
            // Applied from a sweep, even where the sweep found what was set: the value is now a measured one.
            let swept = gates.applied(service.id) != nil || group.map { gates.applied($0.name) != nil } == true
            for route in routes {
                endpoints.append(
                    GuidanceAnswer.Endpoint(
                        route: route, service: service.id, kind: kind.rawValue, maxInFlight: limits.maxInFlight,
                        queue: limits.queueDepth, queueTimeoutMs: limits.queueTimeoutMs, group: group?.name,
                        groupMaxInFlight: groupLimits?.maxInFlight, recommendedConcurrency: cap,
                        limitsFrom: swept ? "capacity_sweep" : service.limitsOrigin.rawValue))
            }
        }
        return GuidanceAnswer(endpoints: endpoints)
    }
}

/// The answer of `GET /api/guidance`.
struct GuidanceAnswer: ResponseEncodable {
    var endpoints: [Endpoint]
    var retry = Retry()

    struct Endpoint: Encodable {
        var route: String
        var service: String
        var kind: String
        var maxInFlight: Int
        var queue: Int
        var queueTimeoutMs: Int
        var group: String?
        var groupMaxInFlight: Int?
        /// How many requests all apps together should keep in flight: past it they wait in the queue, past the queue
        /// they get 503.
        var recommendedConcurrency: Int
        var limitsFrom: String

        enum CodingKeys: String, CodingKey {
            case route, service, kind, queue, group
            case maxInFlight = "max_in_flight"
            case queueTimeoutMs = "queue_timeout_ms"
            case groupMaxInFlight = "group_max_in_flight"
            case recommendedConcurrency = "recommended_concurrency"
            case limitsFrom = "limits_from"
        }
    }

    struct Retry: Encodable {
        var retryOn = ["503 with Retry-After (overloaded, model_swapping, upstream_down)", "502", "504"]
        var doNotRetry = [
            "4xx: fix the request", "a stream that ended with a stream_interrupted event, unless the request is safe to repeat",
        ]
        var retryAfter =
            "Seconds after which a retry is likely to be admitted, estimated from how long requests hold a slot and the place the request would have in the queue (model_swapping: the swap's remaining time). Wait at least that long."
        var backoff =
            "Exponential with full jitter: a random wait between 0 and min(30 s, 0.5 s x 2^attempt), never less than Retry-After; give up after 5 attempts."

        enum CodingKeys: String, CodingKey {
            case backoff
            case retryOn = "retry_on"
            case doNotRetry = "do_not_retry"
            case retryAfter = "retry_after"
        }
    }
}
