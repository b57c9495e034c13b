/// What SparkDeck believes about a service or node right now.
public enum HealthState: String, Sendable, Codable, Equatable {
    /// Not probed yet.
    case unknown
    /// Starting: the service says it is loading, or refuses connections during its start-up grace.
    case loading
    case up
    /// Answering, but slowly on several probes in a row.
    case degraded
    case down

    /// Whether clients can use the target in this state.
    public var isServing: Bool { self == .up || self == .degraded }
}

/// What is being watched.
public enum TargetKind: String, Sendable, Codable, Equatable {
    case service, node
}

/// One probe's result, classified by the target's readiness rule.
public struct Observation: Sendable, Equatable {
    public enum Verdict: Sendable, Equatable {
        /// The target answered and is ready.
        case ready
        /// The target answered that it is still loading.
        case loading
        /// Nothing listens (connection refused): loading during start-up grace, down after it.
        case refused
        /// The target failed: timed out, answered with an error, or the connection broke.
        case failed
    }

    public var verdict: Verdict
    /// Time from sending the probe to its answer; nil when it got none.
    public var latencyMs: Double?
    /// Why the target is not ready, in words for the owner.
    public var cause: String?
    /// When the probe was sent and when it finished (answer, refusal or timeout).
    public var sentAt: Double
    public var finishedAt: Double

    public init(verdict: Verdict, latencyMs: Double? = nil, cause: String? = nil, sentAt: Double, finishedAt: Double) {
        self.verdict = verdict
        self.latencyMs = latencyMs
        self.cause = cause
        self.sentAt = sentAt
        self.finishedAt = finishedAt
    }
}
