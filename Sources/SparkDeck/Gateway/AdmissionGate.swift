import Foundation

/// Why a request was not admitted; becomes a 503 `overloaded` with `Retry-After`.
public struct AdmissionRejection: Error, Equatable, Sendable {
    public enum Reason: String, Sendable { case queueFull = "queue_full", queueTimeout = "queue_timeout" }
    public var gate: String
    public var reason: Reason
    /// Seconds after which a retry is likely to be admitted.
    public var retryAfterSeconds: Int
}

/// An admission gate for one upstream (or a group of them): a cap on requests in flight, a bounded FIFO queue
/// behind it, and a queue timeout. Callers `acquire` before they call the upstream and `release` when done.
public actor AdmissionGate {
    public let name: String
    let queueTimeout: Duration
    private var queue: AdmissionQueue<UUID>
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    /// A moving average of how long a request holds a slot, for Retry-After.
    private var averageHoldSeconds = 1.0

    public init(name: String, limits: AdmissionLimits) {
        self.name = name
        queue = AdmissionQueue(maxInFlight: limits.maxInFlight, maxQueued: limits.queueDepth)
        queueTimeout = .milliseconds(limits.queueTimeoutMs)
    }

    public var inFlight: Int { queue.inFlight }
    public var queued: Int { queue.queued }

    /// Waits for a slot. Returns how long it waited.
    public func acquire() async throws(AdmissionRejection) -> Duration {
        try await enter().waited
    }

    /// Waits for a slot. Returns how long it waited and the gate's load once admitted (one call for both).
    public func enter() async throws(AdmissionRejection) -> (waited: Duration, inFlight: Int, queued: Int) {
        let start = ContinuousClock.now
        let id = UUID()
        switch queue.arrive(id) {
        case .admit:
            return (.zero, queue.inFlight, queue.queued)
        case .reject:
            throw AdmissionRejection(gate: name, reason: .queueFull, retryAfterSeconds: retryAfter(position: queue.queued + 1))
        case .wait:
            let timeout = queueTimeout
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                await self?.giveUp(id)
            }
            let admitted = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    waiters[id] = continuation
                }
            } onCancel: {
                Task { await self.giveUp(id) }
            }
            timer.cancel()
            guard admitted else {
                throw AdmissionRejection(gate: name, reason: .queueTimeout, retryAfterSeconds: retryAfter(position: queue.queued + 1))
            }
            return (ContinuousClock.now - start, queue.inFlight, queue.queued)
        }
    }

    /// Gives the slot back; `held` feeds the Retry-After estimate. Returns the gate's load after.
    @discardableResult
    public func release(held: Duration? = nil) -> (inFlight: Int, queued: Int) {
        if let held {
            let seconds = Double(held.components.seconds) + Double(held.components.attoseconds) / 1e18
            averageHoldSeconds = averageHoldSeconds * 0.8 + seconds * 0.2
        }
        if let next = queue.leave() {
            waiters.removeValue(forKey: next)?.resume(returning: true)
        }
        return (queue.inFlight, queue.queued)
    }

    private func giveUp(_ id: UUID) {
        // The continuation may not be registered yet if the timer fired at once; then the waiter is admitted or
        // abandoned when it registers, so nothing hangs.
        if queue.abandon(id) {
            waiters.removeValue(forKey: id)?.resume(returning: false)
        }
    }

    private func retryAfter(position: Int) -> Int {
        max(1, Int((averageHoldSeconds * Double(position) / Double(queue.maxInFlight)).rounded(.up)))
    }
}
