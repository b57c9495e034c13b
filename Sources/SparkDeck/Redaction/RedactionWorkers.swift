import Dispatch
import Foundation

/// Where scrubbing runs: CPU-heavy work on threads of its own (a Dispatch queue, not the Swift concurrency pool that
/// serves requests and runs the health monitor), behind an admission gate like any upstream's (`redaction` in the
/// gateway's gates): at most `limits.maxInFlight` scrubs at once, a bounded queue, and `503 overloaded` with
/// `Retry-After` when it is full. A caller that is cancelled (its client left) stops the work at the next step.
public final class RedactionWorkers: Sendable {
    /// The gate's name, as `/api/status` and the metrics show it.
    public static let gateName = "redaction"

    let gate: AdmissionGate
    private let queue = DispatchQueue(label: "sparkdeck.redaction", qos: .utility, attributes: .concurrent)

    /// One scrub at a time per core but one (at least one), so a core stays free for requests and the monitor.
    public static var defaultLimits: AdmissionLimits {
        AdmissionLimits(
            maxInFlight: max(1, ProcessInfo.processInfo.activeProcessorCount - 1), queueDepth: 32, queueTimeoutMs: 30_000)
    }

    public init(gates: GatewayGates, limits: AdmissionLimits = RedactionWorkers.defaultLimits) {
        gate = gates.gate(named: Self.gateName, limits: limits)
        queue.setSpecific(key: Self.queueKey, value: true)
    }

    // Set once before any use and only read after: the key itself holds no state.
    nonisolated(unsafe) private static let queueKey = DispatchSpecificKey<Bool>()

    /// Whether the caller runs on a redaction thread.
    static var onRedactionThread: Bool { DispatchQueue.getSpecific(key: queueKey) ?? false }

    /// Runs `work` on a redaction thread once admitted. `work` is handed a flag that turns true when the caller is
    /// cancelled; it should check it between steps and give up (then this throws `CancellationError`).
    public func run<T: Sendable>(_ work: @escaping @Sendable (CancelFlag) throws -> T) async throws -> T {
        do {
            _ = try await gate.acquire()
        } catch {
            var apiError = APIError(
                .serviceUnavailable, type: "overloaded", code: error.reason.rawValue,
                message:
                    "Redaction is at capacity (\(gate.inFlight) scrubs in flight, queue full or waited too long). Retry after \(error.retryAfterSeconds) s."
            )
            apiError.headers[.retryAfter] = "\(error.retryAfterSeconds)"
            throw apiError
        }
        let started = ContinuousClock.now
        defer { gate.release(held: ContinuousClock.now - started) }
        try Task.checkCancellation()
        let stop = CancelFlag()
        let queue = self.queue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    continuation.resume(
                        with: Result {
                            let value = try work(stop)
                            if stop.isSet { throw CancellationError() }
                            return value
                        })
                }
            }
        } onCancel: {
            stop.set()
        }
    }
}
