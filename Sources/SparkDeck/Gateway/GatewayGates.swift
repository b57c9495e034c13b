import Synchronization

/// The admission gates, one per upstream and one per admission group, made from the inventory's limits when first
/// asked for.
public final class GatewayGates: Sendable {
    private let gates = Mutex<[String: AdmissionGate]>([:])

    public init() {}

    /// The upstream's own gate, then its group's (shared by every service of the group).
    public func gates(for upstream: Upstream) -> [AdmissionGate] {
        gates.withLock { gates in
            upstream.gateLimits.map { name, limits in
                if let gate = gates[name] { return gate }
                let gate = AdmissionGate(name: name, limits: limits)
                gates[name] = gate
                return gate
            }
        }
    }

    /// The gate named `name`, made with `limits` when first asked for (work that is no upstream but is capped like
    /// one: redaction).
    public func gate(named name: String, limits: AdmissionLimits) -> AdmissionGate {
        gates.withLock { gates in
            if let gate = gates[name] { return gate }
            let gate = AdmissionGate(name: name, limits: limits)
            gates[name] = gate
            return gate
        }
    }

    /// Requests holding a slot of a service's gate (0 before its first request).
    public func inFlight(serviceID: String) -> Int {
        gates.withLock { $0[serviceID] }?.inFlight ?? 0
    }

    /// In flight and queued per gate, for the dashboard.
    public func snapshot() -> [String: (inFlight: Int, queued: Int)] {
        gates.withLock { $0 }.mapValues { $0.load }
    }
}
