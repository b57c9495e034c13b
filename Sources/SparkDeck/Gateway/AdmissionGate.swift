import Synchronization

/// Why a request was not admitted; becomes a 503 `overloaded` with `Retry-After`.
public struct AdmissionRejection: Error, Equatable, Sendable {
    public enum Reason: String, Sendable {
        case queueFull = "queue_full"
        case queueTimeout = "queue_timeout"
    }
    public var gate: String
    public var reason: Reason
    /// Seconds after which a retry is likely to be admitted.
    public var retryAfterSeconds: Int
}

/// An admission gate for one upstream (or a group of them): a cap on requests in flight, a bounded FIFO queue
/// behind it, and a queue timeout. Callers `enter` before they call the upstream and `release` when done.
///
/// A lock, not an actor: admitting under the cap is the path every request takes, and it returns without
/// suspending. Only a request that has to queue waits on a continuation.
public final class AdmissionGate: Sendable {
    public typealias Load = (inFlight: Int, queued: Int)

    public let name: String
    private let state: Mutex<State>

    private struct State {
        var queue: AdmissionQueue<UInt64>
        var limits: AdmissionLimits
        var lastID: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        /// Outcomes decided before the waiter had registered its continuation (admitted, or gave up).
        var decided: [UInt64: Bool] = [:]
        /// A moving average of how long a request holds a slot, for Retry-After.
        var averageHoldSeconds = 1.0

        var load: Load { (queue.inFlight, queue.queued) }

        func retryAfter(position: Int) -> Int {
            max(1, Int((averageHoldSeconds * Double(position) / Double(queue.maxInFlight)).rounded(.up)))
        }
    }

    public init(name: String, limits: AdmissionLimits) {
        self.name = name
        state = Mutex(State(queue: AdmissionQueue(maxInFlight: limits.maxInFlight, maxQueued: limits.queueDepth), limits: limits))
    }

    /// The limits the gate admits by now.
    public var limits: AdmissionLimits { state.withLock { $0.limits } }

    /// Admits by `limits` from now on, without a restart: waiters that fit under a higher cap start at once; a
    /// new queue timeout applies to requests that queue after the change.
    public func update(_ limits: AdmissionLimits) {
        let admitted = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.limits = limits
            return state.queue.resize(maxInFlight: limits.maxInFlight, maxQueued: limits.queueDepth).compactMap { id in
                guard let continuation = state.waiters.removeValue(forKey: id) else {
                    state.decided[id] = true
                    return nil
                }
                return continuation
            }
        }
        for continuation in admitted { continuation.resume(returning: true) }
    }

    public var inFlight: Int { state.withLock { $0.queue.inFlight } }
    public var queued: Int { state.withLock { $0.queue.queued } }
    public var load: Load { state.withLock { $0.load } }

    /// Waits for a slot. Returns how long it waited.
    public func acquire() async throws(AdmissionRejection) -> Duration {
        try await enter().waited
    }

    /// Waits for a slot. Returns how long it waited and the gate's load once admitted (one call for both).
    public func enter() async throws(AdmissionRejection) -> (waited: Duration, inFlight: Int, queued: Int) {
        let start = ContinuousClock.now
        let (id, decision, load, retryAfter, timeout) = state.withLock { state in
            state.lastID &+= 1
            let decision = state.queue.arrive(state.lastID)
            return (
                state.lastID, decision, state.load, decision == .reject ? state.retryAfter(position: state.queue.queued + 1) : 0,
                Duration.milliseconds(state.limits.queueTimeoutMs)
            )
        }
        switch decision {
        case .admit:
            return (.zero, load.inFlight, load.queued)
        case .reject:
            throw AdmissionRejection(gate: name, reason: .queueFull, retryAfterSeconds: retryAfter)
        case .wait:
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                self?.giveUp(id)
            }
            let admitted = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let early: Bool? = state.withLock { state in
                        if let outcome = state.decided.removeValue(forKey: id) { return outcome }
                        state.waiters[id] = continuation
                        return nil
                    }
                    if let early { continuation.resume(returning: early) }
                }
            } onCancel: {
                giveUp(id)
            }
            timer.cancel()
            let (after, retryAfter) = state.withLock { ($0.load, $0.retryAfter(position: $0.queue.queued + 1)) }
            guard admitted else {
                throw AdmissionRejection(gate: name, reason: .queueTimeout, retryAfterSeconds: retryAfter)
            }
            return (ContinuousClock.now - start, after.inFlight, after.queued)
        }
    }

    /// Gives the slot back; `held` feeds the Retry-After estimate. Returns the gate's load after.
    @discardableResult
    public func release(held: Duration? = nil) -> Load {
        let (next, load) = state.withLock { state -> (CheckedContinuation<Bool, Never>?, Load) in
            if let held {
                state.averageHoldSeconds = state.averageHoldSeconds * 0.8 + held.seconds * 0.2
            }
            guard let next = state.queue.leave() else { return (nil, state.load) }
            guard let continuation = state.waiters.removeValue(forKey: next) else {
                state.decided[next] = true
                return (nil, state.load)
            }
            return (continuation, state.load)
        }
        next?.resume(returning: true)
        return load
    }

    private func giveUp(_ id: UInt64) {
        // Only a waiter still in the queue gives up; one admitted meanwhile keeps its slot.
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard state.queue.abandon(id) else { return nil }
            guard let continuation = state.waiters.removeValue(forKey: id) else {
                state.decided[id] = false
                return nil
            }
            return continuation
        }
        waiter?.resume(returning: false)
    }
}
