/// What one request added to the activity of its app, route and upstream.
public struct RequestOutcome: Sendable, Equatable {
    public var status: Int
    /// The error's `type` and `code` when SparkDeck answered with one (`overloaded`/`queue_full`, `model_swapping`).
    public var errorType: String?
    public var errorCode: String?
    public var durationMs: Double
    public var queueMs: Double

    public init(status: Int, errorType: String? = nil, errorCode: String? = nil, durationMs: Double, queueMs: Double = 0) {
        self.status = status
        self.errorType = errorType
        self.errorCode = errorCode
        self.durationMs = durationMs
        self.queueMs = queueMs
    }

    /// The kind of error the outcome is, if any.
    public var errorKind: ErrorKind? {
        if errorCode == "model_swapping" { return .swapping }
        if status == 503, errorType == "overloaded" { return .overloaded }
        if status >= 500 { return .upstream }
        if status >= 400 { return .client }
        return nil
    }

    public enum ErrorKind: String, Sendable, CaseIterable {
        /// 4xx: the request was wrong (or lacked a key).
        case client
        /// 503 `overloaded`: the gate's queue was full or the wait too long.
        case overloaded
        /// 503 `model_swapping`.
        case swapping
        /// Any other 5xx, and answers that broke off: the upstream failed.
        case upstream
    }
}

/// Counts of requests over some span (a minute, an hour) for one app, route and upstream. Pure: merged by adding,
/// so minutes add up to hours and a partial minute saved at shutdown adds to the rest of it after a restart.
public struct ActivityCounts: Sendable, Equatable {
    public var requests = 0
    public var errors = [Int](repeating: 0, count: RequestOutcome.ErrorKind.allCases.count)
    /// Request durations by `ActivityCounts.latencyBoundsMs` (one more bucket past the last bound).
    public var latency = [Int](repeating: 0, count: ActivityCounts.latencyBoundsMs.count + 1)
    public var queueMs = 0.0
    public var tokensIn = 0
    public var tokensOut = 0
    /// Texts embedded (dense or sparse) for the app.
    public var documents = 0
    /// Seconds of audio transcribed or diarized through audio jobs.
    public var audioSeconds = 0.0

    /// Upper bounds of the latency buckets, in ms: about three per decade, enough for p50/p95 within a bucket.
    public static let latencyBoundsMs: [Double] = [
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000,
    ]

    public init() {}

    public mutating func add(_ outcome: RequestOutcome) {
        requests += 1
        if let kind = outcome.errorKind { errors[kind.index] += 1 }
        let bucket = Self.latencyBoundsMs.firstIndex { outcome.durationMs <= $0 } ?? Self.latencyBoundsMs.count
        latency[bucket] += 1
        queueMs += outcome.queueMs
    }

    public mutating func add(_ other: ActivityCounts) {
        requests += other.requests
        for index in errors.indices { errors[index] += other.errors[index] }
        for index in latency.indices where index < other.latency.count { latency[index] += other.latency[index] }
        queueMs += other.queueMs
        tokensIn += other.tokensIn
        tokensOut += other.tokensOut
        documents += other.documents
        audioSeconds += other.audioSeconds
    }

    public func errors(_ kind: RequestOutcome.ErrorKind) -> Int { errors[kind.index] }
    public var errorTotal: Int { errors.reduce(0, +) }

    /// The latency under which a `fraction` of the requests finished: the upper bound of the bucket that holds that
    /// rank (for the last, open bucket: its lower bound). Nil with no requests.
    public func latencyQuantileMs(_ fraction: Double) -> Double? {
        let total = latency.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in latency.enumerated() {
            seen += count
            if seen >= rank { return Self.latencyBoundsMs[min(index, Self.latencyBoundsMs.count - 1)] }
        }
        return Self.latencyBoundsMs.last
    }

    /// The latency buckets as stored: counts joined by commas.
    var latencyText: String { latency.map(String.init).joined(separator: ",") }

    static func latency(from text: String) -> [Int] {
        var counts = [Int](repeating: 0, count: latencyBoundsMs.count + 1)
        for (index, part) in text.split(separator: ",").enumerated() where index < counts.count { counts[index] = Int(part) ?? 0 }
        return counts
    }
}

extension RequestOutcome.ErrorKind {
    var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// What activity is counted by: the minute (Unix seconds / 60), the app, the route and the upstream.
public struct ActivityKey: Sendable, Hashable {
    public var minute: Int
    public var app: String
    public var route: String
    public var upstream: String
}

/// One request in the live log: no body, no personal data.
public struct RequestLogEntry: Sendable, Equatable {
    public var time: Double
    public var app: String
    public var route: String
    public var upstream: String
    public var status: Int
    public var errorCode: String?
    public var durationMs: Double
    public var queueMs: Double
}
