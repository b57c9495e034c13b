import Synchronization

/// The admission slots a request (or a job of many calls) holds on an upstream and its group. Given back exactly
/// once: by `release()`, or when the lease is dropped on any other path (an error thrown, a response never written,
/// a task cancelled). No caller releases gates by hand.
public final class AdmissionLease: Sendable {
    private struct State {
        var gates: [AdmissionGate] = []
        var admitted: ContinuousClock.Instant?
        var released = false
    }

    private let state = Mutex(State())
    /// Time spent in admission queues.
    public let waited: Duration

    private init(waited: Duration, gates: [AdmissionGate], admitted: ContinuousClock.Instant) {
        self.waited = waited
        state.withLock {
            $0.gates = gates
            $0.admitted = admitted
        }
    }

    /// Enters `gates` in order. When one refuses, the slots of those entered before it are given back (the partial
    /// lease is dropped) and the refusal is thrown.
    static func acquire(_ gates: [AdmissionGate]) async throws(AdmissionRejection) -> AdmissionLease {
        let partial = PartialLease()
        var waited = Duration.zero
        for gate in gates {
            waited += try await partial.enter(gate)
        }
        return AdmissionLease(waited: waited, gates: partial.take(), admitted: .now)
    }

    /// Gives the slots back; only the first call counts.
    public func release() {
        let (gates, admitted) = state.withLock { state -> ([AdmissionGate], ContinuousClock.Instant?) in
            guard !state.released else { return ([], nil) }
            state.released = true
            return (state.gates, state.admitted)
        }
        let held = admitted.map { ContinuousClock.now - $0 }
        for gate in gates.reversed() { gate.release(held: held) }
    }

    public var isReleased: Bool { state.withLock { $0.released } }

    deinit { release() }

    /// The gates entered so far while a lease is being acquired; gives them back if it is dropped unfinished.
    private final class PartialLease: Sendable {
        private let gates = Mutex<[AdmissionGate]?>([])

        func enter(_ gate: AdmissionGate) async throws(AdmissionRejection) -> Duration {
            let waited = try await gate.enter().waited
            gates.withLock { $0?.append(gate) }
            return waited
        }

        func take() -> [AdmissionGate] {
            gates.withLock { gates in
                defer { gates = nil }
                return gates ?? []
            }
        }

        deinit {
            // Not fully admitted: the slots go back without a hold time (it would skew the Retry-After estimate).
            for gate in (gates.withLock { $0 } ?? []).reversed() { gate.release() }
        }
    }
}
