import Foundation
import Logging
import ServiceLifecycle

/// Why a sweep, or applying its proposal, was refused.
public enum SweepRequestError: Error, Sendable {
    /// Nothing runs without `confirm: true`; the message says what would happen.
    case notConfirmed(String)
    case swapRunning(String)
    case sweepRunning(String)
    case unknownService(String, known: [String])
    case invalid(String, param: String)
    case notFound(String)
    /// The sweep cannot be applied (still running, no proposal, a newer one was applied, the file cannot be edited).
    case cannotApply(String)
}

/// Runs capacity sweeps, one at a time and never during a swap: per service it ramps synthetic requests from one in
/// flight upwards, stops at the knee (`KneeFinder`) and proposes limits; applying them changes the gates live and
/// writes them to the inventory, keeping the file as it was beside it.
///
/// The sweep's requests go to the services directly, past the gateway's gates: they measure what the hardware
/// takes, which the gates would cap at what they are set to now.
public actor CapacitySweeps {
    let inventory: Inventory
    /// The inventory file proposals are written to (nil: applied live only).
    let inventoryPath: String?
    let sender: UpstreamSender
    let gates: GatewayGates
    let store: SweepStore
    let events: EventBroadcaster
    let currentSwap: @Sendable () -> SwapRecord?
    let activeModel: @Sendable () async -> String?
    let logger: Logger
    let finder = KneeFinder()
    /// The sweep running, held from the moment it is accepted (its task is nil while it is being prepared), so two
    /// starts that interleave at an `await` cannot both run.
    private var running: (id: String, task: Task<Void, Never>?)?
    private var sweepMirror: CapacitySweep?

    /// Most requests in flight a sweep may try.
    public static let largestConcurrency = 1024

    public init(
        inventory: Inventory, inventoryPath: String?, sender: UpstreamSender, gates: GatewayGates, store: SweepStore,
        events: EventBroadcaster, currentSwap: @escaping @Sendable () -> SwapRecord?,
        activeModel: @escaping @Sendable () async -> String?, logger: Logger
    ) {
        self.inventory = inventory
        self.inventoryPath = inventoryPath
        self.sender = sender
        self.gates = gates
        self.store = store
        self.events = events
        self.currentSwap = currentSwap
        self.activeModel = activeModel
        self.logger = logger
    }

    /// Services a sweep measures: those with a GPU behind them.
    var sweepable: [ClusterService] { inventory.services.filter { $0.kind != .qdrant } }

    /// The limits a service's gate admits by now.
    func limits(of service: ClusterService) -> AdmissionLimits { gates.limits(of: service.id, configured: service.limits) }

    /// Starts a sweep of `serviceIDs` (every sweepable service when nil).
    public func start(
        serviceIDs: [String]?, maxConcurrency: Int?, requestsPerClient: Int?, confirm: Bool
    ) async throws(SweepRequestError) -> CapacitySweep {
        let known = sweepable.map(\.id)
        let services: [ClusterService]
        if let serviceIDs {
            guard !serviceIDs.isEmpty else {
                throw .invalid("`services` is empty; name at least one, or leave it out for all.", param: "services")
            }
            guard Set(serviceIDs).count == serviceIDs.count else {
                throw .invalid("`services` names a service more than once; name each once.", param: "services")
            }
            services = try serviceIDs.map { id throws(SweepRequestError) in
                guard let service = sweepable.first(where: { $0.id == id }) else { throw .unknownService(id, known: known) }
                return service
            }
        } else {
            services = sweepable
        }
        guard !services.isEmpty else { throw .invalid("The inventory has no service a sweep can measure.", param: "services") }
        if let maxConcurrency, !(1...Self.largestConcurrency).contains(maxConcurrency) {
            throw .invalid(
                "`max_concurrency` must be from 1 to \(Self.largestConcurrency), got \(maxConcurrency).", param: "max_concurrency")
        }
        let perClient = requestsPerClient ?? 4
        guard (1...100).contains(perClient) else {
            throw .invalid("`requests_per_client` must be from 1 to 100, got \(perClient).", param: "requests_per_client")
        }
        let ceilings = services.map { maxConcurrency ?? Self.defaultCeiling(limits(of: $0)) }
        guard confirm else {
            let list = zip(services, ceilings).map { "\($0.id) (up to \($1) in flight)" }.joined(separator: ", ")
            throw .notConfirmed(
                "A capacity sweep sends synthetic requests to \(list), rising until each reaches its knee. It loads the GPUs and slows every app that uses them meanwhile: run it in a quiet window."
            )
        }
        if let swap = currentSwap() { throw .swapRunning("A model swap is running (swap \(swap.id)); sweep when it has ended.") }
        if let running { throw .sweepRunning("A capacity sweep is running (sweep \(running.id)); wait for it or cancel it.") }
        let id = "sweep-" + UUID().uuidString.prefix(8).lowercased()
        running = (id, nil)

        let model = await activeModel().flatMap { inventory.model($0)?.servedName }
        var entries: [CapacitySweep.ServiceSweep] = []
        var payloads: [String: SweepPayload] = [:]
        for service in services {
            let voice = service.kind == .tts ? await firstVoice(of: service) : nil
            var entry = CapacitySweep.ServiceSweep(
                service: service.id, kind: service.kind.rawValue, payload: "", current: .init(limits(of: service)))
            if let payload = SweepPayload.make(for: service, model: model, voice: voice) {
                entry.payload = payload.description
                payloads[service.id] = payload
            } else {
                entry.state = .skipped
                entry.message = service.kind == .vllm ? "No model is loaded to send prompts to." : "Nothing to measure."
            }
            entries.append(entry)
        }
        let previous = try? await store.lastFinished()
        let sweep = CapacitySweep(
            id: id, state: .running, startedAt: Timestamp.now(),
            maxConcurrency: maxConcurrency ?? ceilings.max() ?? 1, requestsPerClient: perClient, services: entries,
            previousID: previous?.id)
        await save(sweep)
        let ceilingByService = Dictionary(uniqueKeysWithValues: zip(services.map(\.id), ceilings))
        running = (
            id,
            Task {
                await self.run(sweep, payloads: payloads, ceilings: ceilingByService)
                await self.ended(id)
            }
        )
        return sweep
    }

    /// Twice what the gate lets through now, at least 4 and at most the largest: room to find a knee above it.
    static func defaultCeiling(_ limits: AdmissionLimits) -> Int { min(largestConcurrency, max(4, limits.maxInFlight * 2)) }

    private func ended(_ id: String) {
        if running?.id == id { running = nil }
    }

    /// Cancels the running sweep `id`. False when it is not running.
    public func cancel(_ id: String) -> Bool {
        guard let running, running.id == id, let task = running.task else { return false }
        task.cancel()
        return true
    }

    /// Cancels the running sweep, if any, and waits for it to be stored.
    func cancelRunning() async {
        guard let task = running?.task else { return }
        task.cancel()
        await task.value
    }

    public func sweep(_ id: String) async throws -> CapacitySweep? {
        if let mirror = sweepMirror, mirror.id == id { return mirror }
        return try await store.sweep(id)
    }

    public func recent(limit: Int) async throws -> [CapacitySweep] { try await store.recent(limit: limit) }

    /// Marks sweeps SparkDeck stopped during as failed (at start-up).
    public func reconcile() async {
        for var sweep in (try? await store.unfinished()) ?? [] where sweep.id != running?.id {
            sweep.state = .failed
            sweep.finishedAt = Timestamp.now()
            sweep.message = "SparkDeck stopped during this sweep; the levels measured until then are kept."
            for index in sweep.services.indices where sweep.services[index].state == .running || sweep.services[index].state == .pending {
                sweep.services[index].state = .failed
            }
            try? await store.save(sweep)
        }
    }

    // MARK: Applying

    /// What applying a sweep changed: each gate's limits before and after, and the files.
    public struct Application: Codable, Sendable, Equatable {
        public struct Change: Codable, Sendable, Equatable {
            /// `service` or `group`.
            public var kind: String
            public var name: String
            public var from: CapacitySweep.Limits
            public var to: CapacitySweep.Limits
        }
        public var sweep: String
        public var changes: [Change]
        /// The inventory file written, and the copy of it as it was (nil: applied live only).
        public var inventory: String?
        public var previousInventory: String?

        enum CodingKeys: String, CodingKey {
            case sweep, changes, inventory
            case previousInventory = "previous_inventory"
        }
    }

    /// Applies the proposal of finished sweep `id` after confirmation: writes it to the inventory (the file as it
    /// was kept beside it as `<file>.before-<sweep>`), then sets the gates, which admit by it at once. Nothing is
    /// changed when the inventory cannot be edited.
    public func apply(_ id: String, confirm: Bool) async throws(SweepRequestError) -> Application {
        guard var sweep = try? await self.sweep(id) else { throw .notFound(id) }
        guard sweep.state == .finished else {
            throw .cannotApply("Sweep \(id) is \(sweep.state.rawValue); only a finished sweep's proposal can be applied.")
        }
        if let running { throw .sweepRunning("A capacity sweep is running (sweep \(running.id)); apply when it has ended.") }
        var changes: [Application.Change] = []
        for entry in sweep.services {
            guard let proposal = entry.proposal, let service = inventory.service(entry.service) else { continue }
            changes.append(.init(kind: "service", name: service.id, from: .init(limits(of: service)), to: proposal))
        }
        for group in sweep.groups {
            guard let configured = inventory.services.compactMap(\.admissionGroup).first(where: { $0.name == group.group }) else {
                continue
            }
            changes.append(
                .init(
                    kind: "group", name: group.group, from: .init(gates.limits(of: group.group, configured: configured.limits)),
                    to: group.proposal))
        }
        guard !changes.isEmpty else { throw .cannotApply("Sweep \(id) proposes no limits (no service reached a knee).") }
        let backup = inventoryPath.map { "\($0).before-\(id)" }
        guard confirm else {
            let list = changes.map {
                "\($0.kind) \($0.name) to \($0.to.maxInFlight) in flight and \($0.to.queue) queued (now \($0.from.maxInFlight) and \($0.from.queue))"
            }
            let file =
                inventoryPath.map { " and writes them to \($0), keeping the file as it is now as \(backup!)" }
                ?? " (live only: no inventory file)"
            throw .notConfirmed("Applying sets \(list.joined(separator: "; ")) at once\(file).")
        }
        if let inventoryPath, let backup {
            try writeInventory(changes, path: inventoryPath, backup: backup)
        }
        for change in changes {
            let configured: AdmissionLimits
            if change.kind == "service" {
                configured = limits(of: inventory.service(change.name)!)
            } else {
                configured = gates.limits(
                    of: change.name, configured: inventory.services.compactMap(\.admissionGroup).first { $0.name == change.name }!.limits)
            }
            var limits = configured
            limits.maxInFlight = change.to.maxInFlight
            limits.queueDepth = change.to.queue
            gates.apply(limits, to: change.name)
        }
        sweep.appliedAt = Timestamp.now()
        await save(sweep)
        logger.notice("capacity sweep applied", metadata: ["sweep": "\(id)", "changes": "\(changes.count)"])
        return Application(sweep: id, changes: changes, inventory: inventoryPath, previousInventory: inventoryPath == nil ? nil : backup)
    }

    /// Edits the inventory for `changes`, checks that it still loads and says what was meant, keeps the file as
    /// it was beside it, and replaces it (atomically: a crash leaves the old file or the new one).
    private func writeInventory(_ changes: [Application.Change], path: String, backup: String) throws(SweepRequestError) {
        let original: String
        do { original = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .cannotApply("The inventory \(path) could not be read: \(error.localizedDescription)")
        }
        var text = original
        do {
            for change in changes {
                text = try InventoryLimitsEdit.apply(
                    maxInFlight: change.to.maxInFlight, queue: change.to.queue,
                    to: change.kind == "service" ? .service(change.name) : .group(change.name), in: text)
            }
        } catch {
            throw .cannotApply("The inventory could not be edited: \(error.description). Nothing was changed.")
        }
        let edited: Inventory
        do { edited = try InventoryLoader.parse(text, file: path) } catch {
            throw .cannotApply("The edited inventory would not load (\(error.description)); nothing was changed.")
        }
        for change in changes where change.kind == "service" {
            guard let limits = edited.service(change.name)?.limits, limits.maxInFlight == change.to.maxInFlight,
                limits.queueDepth == change.to.queue
            else { throw .cannotApply("The edited inventory does not hold the limits of \(change.name); nothing was changed.") }
        }
        do {
            try original.write(toFile: backup, atomically: true, encoding: .utf8)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw .cannotApply("The inventory could not be written: \(error.localizedDescription). The gates were not changed.")
        }
    }

    // MARK: Running

    private func run(_ started: CapacitySweep, payloads: [String: SweepPayload], ceilings: [String: Int]) async {
        var sweep = started
        for index in sweep.services.indices where sweep.services[index].state == .pending {
            guard let payload = payloads[sweep.services[index].service],
                let service = inventory.service(sweep.services[index].service)
            else { continue }
            sweep.services[index].state = .running
            await save(sweep)
            // One request first, not measured: a cold first call (a connection, a cache, a lazy load) would set
            // the baseline every later level is compared with.
            _ = await measure(payload, on: service, concurrency: 1, requestsPerClient: 1)
            for concurrency in KneeFinder.levels(upTo: ceilings[service.id] ?? 4) {
                if Task.isCancelled { break }
                if let swap = currentSwap() {
                    sweep.message = "A model swap started (swap \(swap.id)); the sweep stopped so as not to measure it."
                    break
                }
                let level = await measure(payload, on: service, concurrency: concurrency, requestsPerClient: sweep.requestsPerClient)
                if Task.isCancelled { break }
                sweep.services[index].levels.append(level)
                let verdict = finder.verdict(sweep.services[index].levels)
                sweep.services[index].knee = verdict.knee
                sweep.services[index].limit = verdict.limit
                sweep.services[index].limitedAt = verdict.limitedAt
                await save(sweep)
                if verdict.done { break }
            }
            conclude(&sweep.services[index], service: service, ceiling: ceilings[service.id] ?? 4)
            await save(sweep)
            if Task.isCancelled || sweep.message != nil { break }
        }
        for index in sweep.services.indices where sweep.services[index].state == .pending || sweep.services[index].state == .running {
            sweep.services[index].state = .skipped
        }
        sweep.groups = groupProposals(sweep.services)
        sweep.finishedAt = Timestamp.now()
        if Task.isCancelled {
            sweep.state = .cancelled
            sweep.message = "Cancelled."
        } else {
            sweep.state = sweep.message == nil ? .finished : .failed
        }
        await save(sweep)
        logger.info(
            "capacity sweep ended", metadata: ["sweep": "\(sweep.id)", "state": "\(sweep.state.rawValue)"])
    }

    private func conclude(_ entry: inout CapacitySweep.ServiceSweep, service: ClusterService, ceiling: Int) {
        guard let knee = entry.knee, let level = entry.levels.first(where: { $0.concurrency == knee }) else {
            entry.state = entry.levels.isEmpty ? .skipped : .failed
            if !entry.levels.isEmpty {
                entry.message =
                    "Even one request at a time failed (\(entry.levels[0].errors) of \(entry.levels[0].requests)); is the service working?"
            }
            return
        }
        entry.state = .done
        entry.proposal = .init(KneeFinder.proposal(knee: knee, throughput: level.throughput, current: limits(of: service)))
        switch entry.limit {
        case nil:
            entry.message = "No knee up to \(ceiling) in flight: the service may take more; sweep higher (max_concurrency) to find it."
        case .errors?:
            entry.message = "Errors passed \(Int(finder.maxErrorShare * 100))% at \(entry.limitedAt ?? 0) in flight."
        case .latency?:
            entry.message = "p95 latency passed \(Int(finder.p95Factor))x that of one request alone at \(entry.limitedAt ?? 0) in flight."
        case .flatThroughput?:
            entry.message = "Throughput stopped rising at \(entry.limitedAt ?? 0) in flight."
        }
    }

    /// A group's cap: the largest of its swept members' knees (the GPU they share takes no more than its best
    /// single use), its queue the largest proposed.
    private func groupProposals(_ services: [CapacitySweep.ServiceSweep]) -> [CapacitySweep.GroupProposal] {
        var byGroup: [String: (group: AdmissionGroup, proposals: [CapacitySweep.Limits])] = [:]
        for entry in services {
            guard let proposal = entry.proposal, let group = inventory.service(entry.service)?.admissionGroup else { continue }
            byGroup[group.name, default: (group, [])].proposals.append(proposal)
        }
        return byGroup.keys.sorted().map { name in
            let (group, proposals) = byGroup[name]!
            let current = gates.limits(of: name, configured: group.limits)
            var proposal = CapacitySweep.Limits(current)
            proposal.maxInFlight = proposals.map(\.maxInFlight).max() ?? current.maxInFlight
            proposal.queue = proposals.map(\.queue).max() ?? current.queueDepth
            return CapacitySweep.GroupProposal(group: name, current: .init(current), proposal: proposal)
        }
    }

    /// `concurrency` clients in a closed loop, `requestsPerClient` requests each.
    private nonisolated func measure(
        _ payload: SweepPayload, on service: ClusterService, concurrency: Int, requestsPerClient: Int
    ) async -> SweepLevel {
        let upstream = Upstream(service: service)
        let sender = self.sender
        let start = ContinuousClock.now
        let results = await withTaskGroup(of: [(Double, Bool)].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var results: [(Double, Bool)] = []
                    for _ in 0..<requestsPerClient {
                        if Task.isCancelled { break }
                        let sent = ContinuousClock.now
                        var failed = true
                        do {
                            let answer = try await sender.send(payload.request, to: upstream)
                            _ = try await answer.body.collect(upTo: 64 * 1024 * 1024)
                            failed = answer.status.code >= 400
                        } catch {}
                        results.append(((ContinuousClock.now - sent).milliseconds, failed))
                    }
                    return results
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        return SweepLevel(
            concurrency: concurrency, latenciesMs: results.map(\.0), errors: results.filter(\.1).count,
            seconds: (ContinuousClock.now - start).seconds)
    }

    private func firstVoice(of service: ClusterService) async -> String? {
        let request = UpstreamRequest(
            route: "capacity_sweep", method: .get, path: "/v1/audio/voices", contentType: nil, timeout: .seconds(10))
        guard let answer = try? await sender.send(request, to: Upstream(service: service)),
            let body = try? await answer.body.collect(upTo: 1024 * 1024),
            let catalog = VoiceCatalog(upstreamAnswer: Data(buffer: body))
        else { return nil }
        return catalog.ids.first
    }

    private func save(_ sweep: CapacitySweep) async {
        sweepMirror = sweep
        do {
            // In a task of its own: a cancelled sweep's last state must still be written, and GRDB refuses work to
            // a cancelled task.
            let store = store
            try await Task { try await store.save(sweep) }.value
        } catch {
            logger.error("capacity sweep not saved", metadata: ["sweep": "\(sweep.id)", "error": "\(error)"])
        }
        if let event = try? ServerEvent.named("capacity_sweep", encoding: sweep) { await events.publish(event) }
    }
}

/// At start-up marks the sweeps SparkDeck stopped during as failed; at shutdown cancels the one running, so it is
/// stored as cancelled rather than left running.
struct SweepReconciler: Service {
    let sweeps: CapacitySweeps

    func run() async throws {
        await sweeps.reconcile()
        try? await gracefulShutdown()
        await sweeps.cancelRunning()
    }
}
