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

    public private(set) var maxInFlight: Int
    public private(set) var maxQueued: Int
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
        // Over a cap lowered meanwhile, the slot is given up instead of passed on.
        if !waiting.isEmpty, inFlight <= maxInFlight { return waiting.removeFirst() }
        inFlight = max(0, inFlight - 1)
        return nil
    }

    /// New caps, taking effect at once: waiters that now fit under a higher in-flight cap are admitted and
    /// returned, in arrival order. Under a lower cap the requests in flight finish and no new one starts until they
    /// are under it; under a smaller queue nobody waiting is turned away, only new arrivals while it is over.
    public mutating func resize(maxInFlight: Int, maxQueued: Int) -> [Waiter] {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueued = max(0, maxQueued)
        var admitted: [Waiter] = []
        while inFlight < self.maxInFlight, let next = waiting.popFirst() {
            inFlight += 1
            admitted.append(next)
        }
        return admitted
    }

    /// A waiter gave up (timed out or cancelled). Returns false if it was not waiting (it was admitted meanwhile).
    public mutating func abandon(_ waiter: Waiter) -> Bool {
        guard let index = waiting.firstIndex(of: waiter) else { return false }
        waiting.remove(at: index)
        return true
    }
}
