/// The state machine of one watched target: turns observations into states, transitions and outages.
///
/// Pure: no clock, no IO. Outages start at the send time of the first failing probe (the target was fine before it)
/// and end when the first good answer arrives, so their length is what a client would have lived through.
public struct TargetTracker: Sendable {
    public struct Transition: Sendable, Equatable {
        public var from: HealthState
        public var to: HealthState
        public var at: Double
        public var cause: String?
        public var outage: OutageEdge?
    }

    public enum OutageEdge: Sendable, Equatable {
        case started
        case ended(startedAt: Double)
    }

    public private(set) var state: HealthState = .unknown
    public private(set) var since: Double
    public private(set) var latencyMs: Double?
    public private(set) var lastError: String?
    /// Start of the outage going on, if any.
    public private(set) var outageStartedAt: Double?

    /// Set while SparkDeck itself is (re)loading the target (a model swap): not answering is then `loading`,
    /// planned, and not an outage.
    public var maintenance = false

    let startedAt: Double
    let startupGraceSeconds: Double
    let degradedMs: Double
    private var slowInARow = 0
    private var everServed = false

    /// Slow answers in a row that make a target `degraded`: one slow answer is a blip.
    static let slowProbesForDegraded = 3

    public init(startedAt: Double, startupGraceSeconds: Double, degradedMs: Double, openOutageStartedAt: Double? = nil) {
        self.startedAt = startedAt
        self.since = startedAt
        self.startupGraceSeconds = startupGraceSeconds
        self.degradedMs = degradedMs
        self.outageStartedAt = openOutageStartedAt
    }

    /// Applies one observation; returns the transition when the state changed.
    public mutating func apply(_ observation: Observation) -> Transition? {
        latencyMs = observation.latencyMs
        let next: HealthState
        switch observation.verdict {
        case .ready:
            let slow = (observation.latencyMs ?? 0) > degradedMs
            slowInARow = slow ? slowInARow + 1 : 0
            next = slowInARow >= Self.slowProbesForDegraded ? .degraded : .up
        case .loading:
            slowInARow = 0
            next = .loading
        case .refused where maintenance, .failed where maintenance:
            slowInARow = 0
            next = .loading
        case .refused:
            slowInARow = 0
            let inGrace = !everServed && observation.sentAt - startedAt < startupGraceSeconds
            next = inGrace && state != .down ? .loading : .down
        case .failed:
            slowInARow = 0
            next = .down
        }
        var cause = observation.cause
        if next == .degraded, let latency = observation.latencyMs {
            cause = "answering slowly: \(Int(latency)) ms (over \(Int(degradedMs)) ms)"
        }
        lastError = next == .up ? nil : cause ?? lastError
        if next.isServing { everServed = true }
        guard next != state else { return nil }

        let at = next.isServing ? observation.finishedAt : observation.sentAt
        var edge: OutageEdge?
        if next.isServing, let started = outageStartedAt {
            edge = .ended(startedAt: started)
            outageStartedAt = nil
        } else if outageStartedAt == nil, !maintenance, next == .down || (next == .loading && state.isServing) {
            edge = .started
            outageStartedAt = at
        }
        let transition = Transition(from: state, to: next, at: at, cause: next == .up ? nil : cause, outage: edge)
        state = next
        since = at
        return transition
    }
}
