/// Finds where more requests in flight stop paying: the knee of a capacity sweep. Pure: levels in, verdict out.
///
/// A level is past the knee when its errors pass `maxErrorShare`, its p95 passes `p95Factor` times the p95 of one
/// request alone, or its throughput rose by less than `minGainShare` of what the added clients would add if the
/// service scaled perfectly (from 2 to 3 clients, perfect is +50%; at 0.5 the level must bring at least +25%).
/// Measured against the ideal step, not a fixed percentage, so the rule holds for steps of 1 and of 2x alike.
public struct KneeFinder: Sendable, Equatable {
    public var maxErrorShare = 0.05
    public var p95Factor = 3.0
    public var minGainShare = 0.5

    public init() {}

    /// Why a level is past the knee.
    public enum Limit: String, Codable, Sendable, Equatable {
        case errors
        case latency
        case flatThroughput = "flat_throughput"
    }

    /// The verdict on the levels measured so far, in order.
    public struct Verdict: Sendable, Equatable {
        /// The highest concurrency before the first level past the knee (nil: not even one request at a time
        /// worked).
        public var knee: Int?
        /// What the first level past the knee hit; nil while every level is fine.
        public var limit: Limit?
        /// The concurrency that hit it.
        public var limitedAt: Int?
        /// The sweep has seen enough: a level passed the knee.
        public var done: Bool { limit != nil }
    }

    public func verdict(_ levels: [SweepLevel]) -> Verdict {
        var verdict = Verdict()
        guard let first = levels.first else { return verdict }
        for (index, level) in levels.enumerated() {
            if let limit = limit(of: level, after: index > 0 ? levels[index - 1] : nil, first: first) {
                verdict.limit = limit
                verdict.limitedAt = level.concurrency
                return verdict
            }
            verdict.knee = level.concurrency
        }
        return verdict
    }

    func limit(of level: SweepLevel, after previous: SweepLevel?, first: SweepLevel) -> Limit? {
        if level.errorShare > maxErrorShare || level.requests == level.errors { return .errors }
        guard let previous else { return nil }
        if first.p95Ms > 0, level.p95Ms > p95Factor * first.p95Ms { return .latency }
        let ideal = Double(level.concurrency) / Double(previous.concurrency) - 1
        let gain = previous.throughput > 0 ? level.throughput / previous.throughput - 1 : 0
        if gain < minGainShare * ideal { return .flatThroughput }
        return nil
    }

    /// The concurrencies a sweep tries, up to `maximum`: every one up to 8 (a speech GPU's knee is small and each
    /// step matters), then doubling (an LLM batches hundreds; steps of one would take hours).
    public static func levels(upTo maximum: Int) -> [Int] {
        var levels = Array(1...max(1, min(8, maximum)))
        var next = 16
        while next <= maximum {
            levels.append(next)
            next *= 2
        }
        if let last = levels.last, last < maximum, maximum > 8 { levels.append(maximum) }
        return levels
    }

    /// The limits to propose for a knee: in flight at the knee, and a queue the service works off within half its
    /// queue timeout at the knee's throughput (a queued request is then served, not timed out), at least one
    /// round of the knee and at most 10,000.
    public static func proposal(knee: Int, throughput: Double, current: AdmissionLimits) -> AdmissionLimits {
        var limits = current
        limits.maxInFlight = knee
        let drained = Int((throughput * Double(current.queueTimeoutMs) / 1000 / 2).rounded(.down))
        limits.queueDepth = min(10_000, max(knee, drained))
        return limits
    }
}
