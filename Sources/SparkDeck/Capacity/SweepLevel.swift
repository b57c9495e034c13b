/// What one concurrency level of a capacity sweep measured: `concurrency` clients in a closed loop, each sending the
/// next request as soon as its last one was answered.
public struct SweepLevel: Codable, Sendable, Equatable {
    public var concurrency: Int
    public var requests: Int
    public var errors: Int
    /// Wall time of the level, from the first request sent to the last answer.
    public var seconds: Double
    public var p50Ms: Double
    public var p95Ms: Double

    /// Answered requests per second (errors not counted).
    public var throughput: Double { seconds > 0 ? Double(requests - errors) / seconds : 0 }
    public var errorShare: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }

    enum CodingKeys: String, CodingKey {
        case concurrency, requests, errors, seconds
        case p50Ms = "p50_ms"
        case p95Ms = "p95_ms"
        case throughput
    }

    public init(concurrency: Int, requests: Int, errors: Int, seconds: Double, p50Ms: Double, p95Ms: Double) {
        self.concurrency = concurrency
        self.requests = requests
        self.errors = errors
        self.seconds = seconds
        self.p50Ms = p50Ms
        self.p95Ms = p95Ms
    }

    /// Measures a level from each request's latency (milliseconds) and whether it failed.
    public init(concurrency: Int, latenciesMs: [Double], errors: Int, seconds: Double) {
        let sorted = latenciesMs.sorted()
        func percentile(_ share: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((share * Double(sorted.count)).rounded(.up)) - 1)]
        }
        self.init(
            concurrency: concurrency, requests: latenciesMs.count, errors: errors, seconds: seconds,
            p50Ms: percentile(0.5), p95Ms: percentile(0.95))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            concurrency: c.decode(Int.self, forKey: .concurrency), requests: c.decode(Int.self, forKey: .requests),
            errors: c.decode(Int.self, forKey: .errors), seconds: c.decode(Double.self, forKey: .seconds),
            p50Ms: c.decode(Double.self, forKey: .p50Ms), p95Ms: c.decode(Double.self, forKey: .p95Ms))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(concurrency, forKey: .concurrency)
        try c.encode(requests, forKey: .requests)
        try c.encode(errors, forKey: .errors)
        try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        try c.encode((p50Ms * 10).rounded() / 10, forKey: .p50Ms)
        try c.encode((p95Ms * 10).rounded() / 10, forKey: .p95Ms)
        try c.encode((throughput * 1000).rounded() / 1000, forKey: .throughput)
    }
}
