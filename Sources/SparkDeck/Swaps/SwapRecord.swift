import Foundation

/// The states of a swap, in the order a good one passes through them, then the failure path.
public enum SwapState: String, Sendable, Codable, Equatable, CaseIterable {
    case queued, draining, stopping, releasing, launching, loading, verifying, ready
    case failed
    case rollingBack = "rolling_back"
    case rolledBack = "rolled_back"
    case rollbackFailed = "rollback_failed"
}

/// How a swap ended.
public enum SwapResult: String, Sendable, Codable, Equatable {
    case ready
    /// The new model failed; the previous one is back.
    case rolledBack = "rolled_back"
    /// The owner cancelled; the previous model is back.
    case cancelledRolledBack = "cancelled_rolled_back"
    /// The new model failed and so did restoring the previous one: the LLM node needs a look.
    case rollbackFailed = "rollback_failed"
    /// The new model failed and there was nothing to go back to (or rollback is off).
    case failed
}

/// The durable record of one swap.
public struct SwapRecord: Sendable, Codable, Equatable {
    public struct Stage: Sendable, Codable, Equatable {
        public var state: SwapState
        public var at: Double
        public var detail: String?
    }

    public var id: String
    public var model: String
    public var fromModel: String?
    public var state: SwapState
    public var result: SwapResult?
    public var progress: LoadProgress?
    public var expectedSeconds: Double
    public var stages: [Stage]
    public var logTail: [String]
    public var error: String?
    public var createdAt: Double
    public var loadStartedAt: Double?
    public var finishedAt: Double?
    public var loadSeconds: Double?

    static let logTailLines = 20

    public init(
        id: String = "swap-" + UUID().uuidString.prefix(8).lowercased(), model: String, fromModel: String?,
        expectedSeconds: Double, at: Double
    ) {
        self.id = id
        self.model = model
        self.fromModel = fromModel
        self.state = .queued
        self.expectedSeconds = expectedSeconds
        self.stages = [Stage(state: .queued, at: at, detail: nil)]
        self.logTail = []
        self.createdAt = at
    }

    public var isFinished: Bool { result != nil }

    /// Moves to `state`. While rolling back, the forward steps (stopping, loading, ...) are recorded as
    /// rolling-back stages, so the swap reads as "rolling back" until the rollback has ended.
    mutating func enter(_ state: SwapState, at: Double, detail: String? = nil) {
        let forwardStep = ![.failed, .rollingBack, .rolledBack, .rollbackFailed].contains(state)
        if self.state == .rollingBack && forwardStep {
            stages.append(Stage(state: .rollingBack, at: at, detail: [state.rawValue, detail].compactMap { $0 }.joined(separator: ": ")))
            return
        }
        self.state = state
        stages.append(Stage(state: state, at: at, detail: detail))
    }

    /// Replaces the detail of the stage going on (e.g. "waiting for 2 requests").
    mutating func note(_ detail: String) {
        guard !stages.isEmpty else { return }
        stages[stages.count - 1].detail = detail
    }

    mutating func appendLog(_ line: String) {
        logTail.append(TerminalText.visible(line))
        if logTail.count > Self.logTailLines { logTail.removeFirst(logTail.count - Self.logTailLines) }
    }

    /// Seconds left, from progress when there is some, else from the expected load time.
    public func etaSeconds(now: Double) -> Double? {
        guard !isFinished else { return nil }
        if let started = loadStartedAt, let percent = progress?.percent, percent >= 10 {
            let elapsed = now - started
            return max(1, elapsed * Double(100 - percent) / Double(percent))
        }
        let base = loadStartedAt ?? createdAt
        return max(1, expectedSeconds - (now - base))
    }

    public func json(now: Double = Timestamp.now()) -> JSONValue {
        .object([
            "id": .string(id), "model": .string(model), "from_model": .optional(fromModel),
            "state": .string(state.rawValue), "result": .optional(result?.rawValue),
            "progress": progress.map {
                .object([
                    "percent": .number(Double($0.percent)), "stage": .string($0.stage.rawValue),
                    "detail": .string($0.detail),
                ])
            } ?? .null,
            "eta_seconds": .optional(etaSeconds(now: now).map { $0.rounded() }),
            "expected_seconds": .number(expectedSeconds.rounded()),
            "stages": .array(
                stages.map {
                    .object([
                        "state": .string($0.state.rawValue), "at": .string(Timestamp.iso($0.at)),
                        "detail": .optional($0.detail),
                    ])
                }),
            "log_tail": .array(logTail.map(JSONValue.string)),
            "error": .optional(error),
            "rollback": fromModel.flatMap { from in
                stages.contains { $0.state == .rollingBack }
                    ? .object([
                        "to": .string(from), "state": .string(result == .rollbackFailed ? "failed" : (isFinished ? "done" : "running")),
                    ])
                    : nil
            } ?? .null,
            "created_at": .string(Timestamp.iso(createdAt)),
            "finished_at": finishedAt.map { .string(Timestamp.iso($0)) } ?? .null,
            "load_seconds": .optional(loadSeconds.map { ($0 * 10).rounded() / 10 }),
        ])
    }
}
