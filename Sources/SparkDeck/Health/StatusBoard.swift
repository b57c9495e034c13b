import Foundation
import Logging
import Synchronization

/// The live picture of the cluster: each target's tracker, the loaded model, and what clients are told.
///
/// Every state change is written to the connectivity log before it is published, so what a client sees is on disk.
public actor StatusBoard {
    public struct Key: Hashable, Sendable {
        public var kind: TargetKind
        public var id: String
    }

    let inventory: Inventory
    let log: ConnectivityLog
    let events: EventBroadcaster
    let metrics: HealthMetrics
    let logger: Logger
    let demo: Bool
    /// When the gateway last received bytes from each service (a positive passive signal).
    let traffic: TrafficClock?
    /// Raised when a service has stopped serving for `inFlightCutAfter` seconds, so the calls in flight to it end.
    public nonisolated let outages = EndSignal()
    /// How long a service must have been seen down before its calls in flight are ended. A missed probe or a GPU stall
    /// of a few seconds (UPSTREAMS.md: 1-4 s under load) must not cut answers that would still come; a hung or dead
    /// service should not hold its clients for the 120 s / 300 s timeouts either.
    let inFlightCutAfter: Double
    /// When each service stopped serving (cleared when it serves again), and whether its calls were ended since.
    private var stoppedServing: [String: (at: Double, cut: Bool)] = [:]
    private var trackers: [Key: TargetTracker] = [:] {
        didSet { mirrorGatewayView() }
    }
    private var servedModels: [String] = [] {
        didSet { mirrorGatewayView() }
    }
    /// Service states and served models for readers that must not wait for the actor (every gateway request).
    private let gatewayMirror = Mutex<(states: [String: HealthState], served: [String])>(([:], []))

    private func mirrorGatewayView() {
        var states: [String: HealthState] = [:]
        for (key, tracker) in trackers where key.kind == .service { states[key.id] = tracker.state }
        gatewayMirror.withLock { $0 = (states, servedModels) }
    }
    /// The last GPU and container reading of each node.
    private var nodeStats: [String: NodeStats] = [:]
    /// Whether the API is open (no API keys exist); refreshed about once a second.
    private var authOpen = true
    /// The gateway's admission gates, shown as live load.
    private var gatewayLoad: JSONValue = .object([:])
    /// The running swap's document, shown in `/api/status`.
    private var swap: JSONValue = .null
    /// Latencies moved since the last `status` event.
    private var latenciesMoved = false

    public init(
        inventory: Inventory, log: ConnectivityLog, events: EventBroadcaster, metrics: HealthMetrics,
        demo: Bool, logger: Logger, traffic: TrafficClock? = nil, startedAt: Double = Timestamp.now(), inFlightCutAfter: Double = 5
    ) throws {
        self.inFlightCutAfter = inFlightCutAfter
        self.inventory = inventory
        self.traffic = traffic
        self.log = log
        self.events = events
        self.metrics = metrics
        self.demo = demo
        self.logger = logger
        let openServices = try log.openOutages(kind: .service)
        let openNodes = try log.openOutages(kind: .node)
        let nodeDefaults = HealthCheckSettings.defaults
        for service in inventory.services {
            trackers[Key(kind: .service, id: service.id)] = TargetTracker(
                startedAt: startedAt, startupGraceSeconds: Double(service.health.startupGraceSeconds),
                degradedMs: Double(service.health.degradedMs), openOutageStartedAt: openServices[service.id])
        }
        for node in inventory.nodes {
            trackers[Key(kind: .node, id: node.id)] = TargetTracker(
                startedAt: startedAt, startupGraceSeconds: Double(nodeDefaults.startupGraceSeconds),
                degradedMs: Double(nodeDefaults.degradedMs), openOutageStartedAt: openNodes[node.id])
        }
    }

    public func state(of key: Key) -> HealthState { trackers[key]?.state ?? .unknown }

    /// Applies one probe's observation; logs and publishes a state change.
    public func record(_ key: Key, _ observation: Observation) async {
        guard var tracker = trackers[key] else { return }
        var observation = observation
        // A probe that got no answer while the gateway was receiving bytes from the same service meets a busy
        // service, not a dead one: it counts as a slow answer (three in a row make it degraded), not as down.
        if observation.verdict == .failed, observation.latencyMs == nil, key.kind == .service,
            let traffic = traffic?.lastBytes(from: key.id), traffic >= observation.sentAt
        {
            observation.verdict = .ready
            observation.latencyMs = (observation.finishedAt - observation.sentAt) * 1000
        }
        let transition = tracker.apply(observation)
        trackers[key] = tracker
        if key.kind == .service { endCallsIfStillDown(key.id, state: tracker.state, at: observation.finishedAt) }
        metrics.probeFinished(
            target: key.id, kind: key.kind, latencyMs: observation.latencyMs,
            ok: observation.verdict == .ready)
        guard let transition else {
            latenciesMoved = true
            return
        }
        metrics.stateChanged(target: key.id, kind: key.kind, to: transition.to, outageStarted: transition.outage == .started)
        logger.info(
            "\(key.kind.rawValue) \(key.id): \(transition.from.rawValue) -> \(transition.to.rawValue)",
            metadata: transition.cause.map { ["cause": "\($0)"] } ?? [:])
        var ended: OutageRecord?
        do {
            ended = try await log.record(target: key.id, kind: key.kind, transition: transition)
        } catch {
            logger.error("connectivity log write failed: \(error)")
        }
        await events.publish(
            .named(
                "health",
                .object([
                    "target": .string(key.id), "target_kind": .string(key.kind.rawValue),
                    "from": .string(transition.from.rawValue), "to": .string(transition.to.rawValue),
                    "at": .string(Timestamp.iso(transition.at)), "cause": .optional(transition.cause),
                ])))
        if let ended { await events.publish(.named("outage", .object(ended.json(now: Timestamp.now())))) }
        await publishStatus()
    }

    /// Ends the calls in flight to a service once it has been down for `inFlightCutAfter` seconds (once per outage).
    private func endCallsIfStillDown(_ id: String, state: HealthState, at now: Double) {
        guard !state.isServing else {
            stoppedServing[id] = nil
            return
        }
        let stopped = stoppedServing[id] ?? (now, false)
        stoppedServing[id] = stopped
        guard !stopped.cut, now - stopped.at >= inFlightCutAfter else { return }
        stoppedServing[id] = (stopped.at, true)
        outages.raise(id)
    }

    /// Records a node's GPU and container reading; sent with the next `status` event.
    public func setNodeStats(_ node: String, _ stats: NodeStats) {
        guard nodeStats[node] != stats else { return }
        nodeStats[node] = stats
        latenciesMoved = true
    }

    /// Marks a service as being (re)loaded by SparkDeck: not answering is then planned, not an outage.
    public func setMaintenance(_ serviceID: String, _ on: Bool) {
        trackers[Key(kind: .service, id: serviceID)]?.maintenance = on
    }

    /// Sets the running swap shown in `/api/status` (`.null` when none runs).
    public func setSwap(_ document: JSONValue) async {
        swap = document
    }

    /// What the LLM service lists in `/v1/models` (empty while it is not serving).
    public func servedModelNames() -> [String] { servedModels }

    /// A service's state and the models the LLM serves, in one call (the gateway asks on every request).
    public nonisolated func gatewayView(of serviceID: String) -> (state: HealthState, served: [String]) {
        gatewayMirror.withLock { ($0.states[serviceID] ?? .unknown, $0.served) }
    }

    /// The recipe whose served name the LLM service lists now.
    public func servedModelID() -> String? {
        inventory.models.first { servedModels.contains($0.servedName) }?.id
    }

    /// Sets what the LLM service lists in `/v1/models`.
    public func setServedModels(_ names: [String]) async {
        guard names != servedModels else { return }
        servedModels = names
        await publishStatus()
    }

    /// Sets whether the API is open, and the gateway's load; both go out with the next `status` event.
    public func setAccess(open: Bool, gatewayLoad: JSONValue) {
        if open != authOpen || gatewayLoad != self.gatewayLoad { latenciesMoved = true }
        authOpen = open
        self.gatewayLoad = gatewayLoad
    }

    /// Sends a `status` event if only latencies changed since the last one (called about once a second).
    public func publishIfLatenciesMoved() async {
        guard latenciesMoved else { return }
        await publishStatus()
    }

    public func publishStatus() async {
        latenciesMoved = false
        await events.publish(.named("status", statusDocument()))
    }

    /// The `/api/status` document.
    public func statusDocument(now: Double = Timestamp.now()) -> JSONValue {
        let nodes: [JSONValue] = inventory.nodes.map { node in
            let tracker = trackers[Key(kind: .node, id: node.id)]
            var fields = trackerFields(tracker)
            fields["id"] = .string(node.id)
            fields["host"] = .string(node.host)
            fields["transport"] = .string(node.transport.rawValue)
            fields["services"] = .array(inventory.services.filter { $0.node == node.id }.map { .string($0.id) })
            let stats = nodeStats[node.id]
            fields["gpu"] = stats?.gpu?.json ?? .null
            fields["containers"] = stats?.containers.map { .array($0.map(\.json)) } ?? .null
            fields["probe_note"] = .optional(stats?.note)
            return .object(fields)
        }
        let services: [JSONValue] = inventory.services.map { service in
            var fields = trackerFields(trackers[Key(kind: .service, id: service.id)])
            fields["id"] = .string(service.id)
            fields["kind"] = .string(service.kind.rawValue)
            fields["node"] = .string(service.node)
            fields["url"] = .string(service.baseURL)
            fields["health_path"] = .string(service.health.path)
            return .object(fields)
        }
        return .object([
            "generated_at": .string(Timestamp.iso(now)),
            "version": .string(SparkDeckVersion.version),
            "demo": .bool(demo),
            "auth": .object(["open": .bool(authOpen)]),
            "gateway": gatewayLoad,
            "cluster": .object(["name": .string(inventory.clusterName)]),
            "nodes": .array(nodes),
            "services": .array(services),
            "loaded_model": loadedModel(),
            "swap": swap,
        ])
    }

    /// Each service's state, for `/readyz`.
    public func serviceStates() -> [String: HealthState] {
        Dictionary(uniqueKeysWithValues: inventory.services.map { ($0.id, state(of: Key(kind: .service, id: $0.id))) })
    }

    private func loadedModel() -> JSONValue {
        // The last list read stays known while the LLM is down (so requests get "down", not "nothing loaded"),
        // but nothing is shown as loaded while it does not answer.
        let llmServing = inventory.services.filter { $0.kind == .vllm }
            .contains { trackers[Key(kind: .service, id: $0.id)]?.state.isServing == true }
        guard llmServing, let served = servedModels.first else { return .null }
        let recipe = inventory.models.first { servedModels.contains($0.servedName) }
        return .object(["id": .optional(recipe?.id), "served_name": .string(recipe?.servedName ?? served)])
    }

    private func trackerFields(_ tracker: TargetTracker?) -> [String: JSONValue] {
        guard let tracker else { return ["state": .string(HealthState.unknown.rawValue)] }
        var detail: String?
        if tracker.state == .loading, tracker.lastError == "connection refused" { detail = "waiting for first answer" }
        return [
            "state": .string(tracker.state.rawValue),
            "since": .string(Timestamp.iso(tracker.since)),
            "latency_ms": tracker.latencyMs.map { .number(($0 * 10).rounded() / 10) } ?? .null,
            "last_error": .optional(tracker.lastError),
            "detail": .optional(detail),
        ]
    }
}

/// When the gateway last received bytes from each upstream service. Written on every forwarded chunk, so it is a
/// lock, not an actor hop.
public final class TrafficClock: Sendable {
    private let last = Mutex<[String: Double]>([:])

    public init() {}

    public func noteBytes(from service: String, at time: Double = Timestamp.now()) {
        last.withLock { $0[service] = time }
    }

    public func lastBytes(from service: String) -> Double? {
        last.withLock { $0[service] }
    }
}
