import DequeModule

/// The admission state of one gate: how many requests run, who waits, in arrival order. Pure: no clocks, no tasks.
public struct AdmissionQueue<Waiter: Hashable>: Sendable where Waiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case admit
        /// Queued at this 1-based position.
        case wait(position: Int)
        /// In-flight cap and queue are both full.
        case reject
    }

    public let maxInFlight: Int
    public let maxQueued: Int
    public private(set) var inFlight = 0
    private var waiting = Deque<Waiter>()

    public init(maxInFlight: Int, maxQueued: Int) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueued = max(0, maxQueued)
    }

    public var queued: Int { waiting.count }

    public mutating func arrive(_ waiter: Waiter) -> Decision {
        if inFlight < maxInFlight && waiting.isEmpty {
            inFlight += 1
            return .admit
        }
        guard waiting.count < maxQueued else { return .reject }
        waiting.append(waiter)
        return .wait(position: waiting.count)
    }

    /// A request finished. Returns the waiter that now gets its slot (the slot passes on; `inFlight` stays).
    public mutating func leave() -> Waiter? {
        if !waiting.isEmpty { return waiting.removeFirst() }
        inFlight = max(0, inFlight - 1)
        return nil
    }

    /// A waiter gave up (timed out or cancelled). Returns false if it was not waiting (it was admitted meanwhile).
    public mutating func abandon(_ waiter: Waiter) -> Bool {
        guard let index = waiting.firstIndex(of: waiter) else { return false }
        waiting.remove(at: index)
        return true
    }
}
