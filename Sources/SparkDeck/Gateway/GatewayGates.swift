import Synchronization

/// The admission gates, one per upstream and one per admission group, made from the inventory's limits when first
/// asked for, or from limits applied since (a capacity sweep's).
public final class GatewayGates: Sendable {
    private let state = Mutex<(gates: [String: AdmissionGate], applied: [String: AdmissionLimits])>(([:], [:]))

    public init() {}

    /// The upstream's own gate, then its group's (shared by every service of the group).
    public func gates(for upstream: Upstream) -> [AdmissionGate] {
        state.withLock { state in
            upstream.gateLimits.map { name, limits in
                if let gate = state.gates[name] { return gate }
                let gate = AdmissionGate(name: name, limits: state.applied[name] ?? limits)
                state.gates[name] = gate
                return gate
            }
        }
    }

    /// Changes the limits of the gate `name` (a service id or an admission group) while SparkDeck runs: the gate
    /// admits by them at once, and one made later starts with them.
    public func apply(_ limits: AdmissionLimits, to name: String) {
        let gate = state.withLock { state in
            state.applied[name] = limits
            return state.gates[name]
        }
        gate?.update(limits)
    }

    /// The limits gate `name` admits by: applied ones, else `configured` (the inventory's).
    public func limits(of name: String, configured: AdmissionLimits) -> AdmissionLimits {
        applied(name) ?? configured
    }

    /// The most requests `upstream` takes at once now: the tightest of its gates, applied limits counted (for work
    /// that fans out, so it sends no more at once than the gates would let through).
    public func maxInFlight(for upstream: Upstream) -> Int {
        upstream.gateLimits.map { limits(of: $0.name, configured: $0.limits).maxInFlight }.min() ?? 1
    }

    /// The limits applied to gate `name` since SparkDeck started (a capacity sweep's), if any.
    public func applied(_ name: String) -> AdmissionLimits? {
        state.withLock { $0.applied[name] }
    }

    /// The gate named `name`, made with `limits` when first asked for (work that is no upstream but is capped like
    /// one: redaction).
    public func gate(named name: String, limits: AdmissionLimits) -> AdmissionGate {
        state.withLock { state in
            if let gate = state.gates[name] { return gate }
            let gate = AdmissionGate(name: name, limits: limits)
            state.gates[name] = gate
            return gate
        }
    }

    /// Requests holding a slot of a service's gate (0 before its first request).
    public func inFlight(serviceID: String) -> Int {
        state.withLock { $0.gates[serviceID] }?.inFlight ?? 0
    }

    /// In flight and queued per gate, for the dashboard and metrics.
    public func snapshot() -> [String: (inFlight: Int, queued: Int)] {
        state.withLock { $0.gates }.mapValues { $0.load }
    }

    /// Each gate's load with the limits it admits by now.
    public func loads() -> [String: (load: AdmissionGate.Load, limits: AdmissionLimits)] {
        state.withLock { $0.gates }.mapValues { ($0.load, $0.limits) }
    }
}
