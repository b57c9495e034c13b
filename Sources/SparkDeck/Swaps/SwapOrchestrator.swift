import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Why a swap request was refused.
public enum SwapRequestError: Error, Equatable {
    case unknownModel(String, known: [String])
    case notConfirmed(plan: String)
    case conflict(running: String, model: String)
    case unknownSwap(String)
    case alreadyEnded(String)
}

/// A step of a swap that failed, with the words the owner sees.
struct SwapStepFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs model swaps one at a time: drain, stop, wait for release, launch, follow the load, verify, and roll back
/// to the previous model on any failure or on cancel. Every change is saved before it is published.
public actor SwapOrchestrator {
    public struct Settings: Sendable {
        public var drainTimeout: Duration = .seconds(30)
        public var stopTimeout: Duration = .seconds(90)
        public var releaseTimeout: Duration = .seconds(60)
        public var commandTimeout: Duration = .seconds(120)
        public var pollInterval: Duration = .milliseconds(250)
        /// How often `/health` is asked while a model loads: SparkDeck's own share of a swap is about half of it.
        public var loadPollInterval: Duration = .milliseconds(100)
        /// How long a model that answers healthy waits for its log to show the server up (vLLM's "Application
        /// startup complete."), so the record's log ends with it; a log that never says so costs this much once.
        public var logGrace: Duration = .seconds(3)
        public var rollback = true
        public init() {}
    }

    let inventory: Inventory
    let runners: RunnerPool
    let store: SwapStore
    let board: StatusBoard
    let events: EventBroadcaster
    let prober: any Prober
    /// The upstream core's sender: a swap's 1-token check goes out like every other call to the LLM.
    let sender: UpstreamSender
    let settings: Settings
    let logger: Logger
    /// Requests the gateway has in flight to a service (drained before a swap stops the model).
    let gatewayInFlight: @Sendable (String) async -> Int
    private var running: SwapRecord? {
        didSet { runningMirror.withLock { $0 = running } }
    }
    /// `running` for readers that must not wait for the actor (every gateway request asks).
    private let runningMirror = Mutex<SwapRecord?>(nil)
    private var task: Task<Void, Never>?
    private var cancelRequested = false
    private var lastPublished = ContinuousClock.now - .seconds(1)

    public init(
        inventory: Inventory, runners: RunnerPool, store: SwapStore, board: StatusBoard, events: EventBroadcaster,
        prober: any Prober = SocketProber(), sender: UpstreamSender, settings: Settings = Settings(),
        gatewayInFlight: @escaping @Sendable (String) async -> Int = { _ in 0 }, logger: Logger
    ) {
        self.gatewayInFlight = gatewayInFlight
        self.inventory = inventory
        self.runners = runners
        self.store = store
        self.board = board
        self.events = events
        self.prober = prober
        self.sender = sender
        self.settings = settings
        self.logger = logger
    }

    // MARK: Requests

    public nonisolated func current() -> SwapRecord? { runningMirror.withLock { $0 } }

    /// The model loaded now: what the LLM lists, else what the last swap left.
    public func activeModelID() async -> String? {
        if let served = await board.servedModelID() { return served }
        return try? await store.lastLoadedModel()
    }

    /// Seconds the next load of `model` is expected to take: the median of its last measured loads, else the recipe's.
    public func expectedSeconds(_ model: ModelRecipe) async -> Double {
        let measured = ((try? await store.loadSeconds(of: model.id)) ?? []).sorted()
        return measured.isEmpty ? Double(model.expectedLoadSeconds) : measured[measured.count / 2]
    }

    /// How long a load may take before it is given up: 2.5 times the slowest of the recipe's `load_seconds`, the
    /// typical measured load and the slowest measured one, and at least 2 minutes. Not the typical load alone: loads
    /// from the page cache are much faster than the first one after a reboot, which must not be rolled back.
    func loadTimeout(_ model: ModelRecipe) async -> Duration {
        let slowest = ((try? await store.loadSeconds(of: model.id)) ?? []).max() ?? 0
        let longest = max(await expectedSeconds(model), Double(model.expectedLoadSeconds), slowest)
        return .seconds(max(120, longest * 2.5))
    }

    /// The sentence that says what a swap to `model` will do.
    public func plan(for model: ModelRecipe) async -> String {
        let active = await activeModelID().flatMap { inventory.model($0) }
        let seconds = Int(await expectedSeconds(model).rounded())
        let duration = seconds >= 90 ? "about \(Int((Double(seconds) / 60).rounded())) min" : "about \(seconds) s"
        let stop = active.map { "Stops \($0.name) on \($0.nodes.joined(separator: ", ")) and loads" } ?? "Loads"
        return "\(stop) \(model.name) on \(model.nodes.joined(separator: ", ")) (\(duration)); chat requests get 503 meanwhile."
    }

    /// Starts a swap to `modelID`. Refused without confirmation (with the plan), while another runs, or for an unknown model.
    public func request(modelID: String, confirm: Bool) async throws(SwapRequestError) -> SwapRecord {
        guard let model = inventory.model(modelID) else {
            throw .unknownModel(modelID, known: inventory.models.map(\.id))
        }
        if let running { throw .conflict(running: running.id, model: running.model) }
        guard confirm else { throw .notConfirmed(plan: await plan(for: model)) }
        let from = await activeModelID()
        let expected = await expectedSeconds(model)
        // Checked again with no suspension point before `running` is set: the awaits above let another request in.
        if let running { throw .conflict(running: running.id, model: running.model) }
        let record = SwapRecord(
            model: model.id, fromModel: from == model.id ? nil : from,
            expectedSeconds: expected, at: Timestamp.now())
        await begin(record)
        let fromRecipe = record.fromModel.flatMap { inventory.model($0) }
        task = Task { await self.execute(target: model, from: fromRecipe, resumeAtLoad: false) }
        return record
    }

    public func cancel(id: String) async throws(SwapRequestError) -> SwapRecord {
        guard let running, running.id == id else {
            if (try? await store.record(id)) != nil { throw .alreadyEnded(id) }
            throw .unknownSwap(id)
        }
        cancelRequested = true
        task?.cancel()
        return running
    }

    public func record(_ id: String) async -> SwapRecord? {
        if let running, running.id == id { return running }
        return try? await store.record(id)
    }

    /// At start-up: finds swaps that were under way when SparkDeck stopped and settles them against what the node
    /// really runs before anything trusts either.
    public func reconcile() async {
        guard let unfinished = try? await store.unfinished() else { return }
        for var record in unfinished {
            guard let model = inventory.model(record.model) else {
                record.error = "SparkDeck restarted during this swap and \(record.model) is no longer in the inventory"
                record.result = .failed
                record.finishedAt = Timestamp.now()
                try? await store.save(record)
                continue
            }
            // A swap the owner started in the moment before this check got here runs on; this one cannot as well.
            if let running, running.id != record.id {
                record.error = "SparkDeck restarted during this swap, and swap \(running.id) began before it could be checked"
                record.result = .failed
                record.finishedAt = Timestamp.now()
                try? await store.save(record)
                continue
            }
            let from = record.fromModel.flatMap { inventory.model($0) }
            record.enter(record.state, at: Timestamp.now(), detail: "SparkDeck restarted during the swap; checking what the node runs")
            await begin(record)
            // The task exists before the first wait on the node, so a cancel that comes meanwhile reaches it.
            let state = record.state
            task = Task { await self.resume(target: model, from: from, at: state) }
            await task?.value
        }
    }

    /// Continues a swap found unfinished at start-up, from the stage it was in: one that had not stopped anything
    /// yet ends with nothing changed; a rollback goes on; otherwise loading goes on if the target runs, else the
    /// swap fails and rolls back.
    private func resume(target model: ModelRecipe, from: ModelRecipe?, at state: SwapState) async {
        switch state {
        case .queued, .draining:
            // The old model was never stopped: it still serves, and stopping it now would be an outage for nothing.
            await update { record in
                record.error = "SparkDeck restarted before the swap changed anything on the cluster"
                record.enter(.failed, at: Timestamp.now(), detail: "nothing was changed on the cluster")
            }
            await finish(.failed)
            return
        case .rollingBack:
            await fail(SwapStepFailure("SparkDeck restarted during the rollback"), target: model, from: from)
            return
        default:
            break
        }
        let service = inventory.service(model.service)
        let endpoint = service.flatMap { LLMEndpoint(service: $0, prober: prober, sender: sender) }
        if let endpoint, await endpoint.servedModels()?.contains(model.servedName) == true {
            await execute(target: model, from: from, resumeAtLoad: true)
        } else if await isRunning(model) == true {
            await execute(target: model, from: from, resumeAtLoad: true)
        } else {
            await fail(
                SwapStepFailure("SparkDeck restarted during the swap and \(model.id) is not running"),
                target: model, from: from)
        }
    }

    // MARK: Record keeping

    private func begin(_ record: SwapRecord) async {
        running = record
        cancelRequested = false
        // Set before the swap's first step, so the health monitor never logs the planned stop as an outage.
        await board.setMaintenance(inventory.model(record.model)?.service ?? "", true)
    }

    /// Applies `change` to the running record, saves it, and publishes it (progress at most 4 times a second).
    func update(force: Bool = true, _ change: (inout SwapRecord) -> Void) async {
        guard var record = running else { return }
        change(&record)
        running = record
        let now = ContinuousClock.now
        guard force || now - lastPublished >= .milliseconds(250) else { return }
        lastPublished = now
        do { try await store.save(record) } catch { logger.error("swap \(record.id): cannot save: \(error)") }
        await publish(record)
    }

    /// One line of the loading model's log, as a `log` event (what a terminal would show of it).
    private func publishLog(_ line: String, model: String) async {
        guard let id = running?.id else { return }
        await events.publish(
            .named(
                "log",
                .object([
                    "swap": .string(id), "model": .string(model), "line": .string(TerminalText.visible(line)),
                ])))
    }

    private func publish(_ record: SwapRecord) async {
        let document = record.json()
        // A finished swap clears the board's swap only if no other has started since.
        if !record.isFinished || running == nil { await board.setSwap(record.isFinished ? .null : document) }
        await events.publish(.named("swap", document))
        await board.publishStatus()
    }

    /// Ends the running swap: its last state is saved, and with no `await` in between it stops being the running one.
    /// So whoever reads the stored result (a client that saw `ready` and asks for the next swap at once) finds the slot
    /// free, and whoever sees the slot free finds the result stored.
    private func finish(_ result: SwapResult, error: String? = nil) async {
        guard var record = running else { return }
        record.result = result
        record.finishedAt = Timestamp.now()
        if let error { record.error = error }
        do { try await store.save(record) } catch { logger.error("swap \(record.id): cannot save: \(error)") }
        running = nil
        task = nil
        lastPublished = ContinuousClock.now
        logger.info("swap \(record.id) to \(record.model) ended: \(result.rawValue)", metadata: error.map { ["error": "\($0)"] } ?? [:])
        await publish(record)
        await board.setMaintenance(inventory.model(record.model)?.service ?? "", false)
    }

    // MARK: The swap

    private func execute(target: ModelRecipe, from: ModelRecipe?, resumeAtLoad: Bool) async {
        if !resumeAtLoad {
            do {
                try await preflight(Set(target.nodes + (from?.nodes ?? [])).sorted())
            } catch {
                // Nothing on the cluster was touched: there is nothing to roll back.
                await update { record in
                    record.error = "\(error)"
                    record.enter(.failed, at: Timestamp.now(), detail: "nothing was changed on the cluster")
                }
                await finish(.failed)
                return
            }
        }
        do {
            if !resumeAtLoad {
                try await drain(target)
                if let from { try await stop(from) }
                // The "container name already in use" trap: make sure nothing of the target is left either.
                try await stop(target, quietly: true)
                try await release(for: target, after: from)
                try await launch(target)
            }
            try await load(target)
            try await verify(target)
            await update { $0.enter(.ready, at: Timestamp.now()) }
            await finish(.ready)
        } catch {
            let cancelled = cancelRequested
            let failure = cancelled ? SwapStepFailure("cancelled by the owner") : error
            // The rollback must not inherit this task's cancellation.
            await Task { await self.fail(failure, target: target, from: from, cancelled: cancelled) }.value
        }
    }

    private func fail(_ error: any Error, target: ModelRecipe, from: ModelRecipe?, cancelled: Bool = false) async {
        let cause = "\(error)"
        logger.warning("swap to \(target.id) failed: \(cause)")
        await update { record in
            record.error = cause
            record.enter(.failed, at: Timestamp.now(), detail: cause)
        }
        guard settings.rollback, let from else {
            try? await stop(target, quietly: true)
            await finish(.failed)
            return
        }
        await update { $0.enter(.rollingBack, at: Timestamp.now(), detail: "restoring \(from.id)") }
        do {
            try await stop(target)
            try await release(for: from, after: target)
            try await launch(from)
            try await load(from)
            try await verify(from)
            await update { $0.enter(.rolledBack, at: Timestamp.now(), detail: "\(from.id) is back") }
            await finish(cancelled ? .cancelledRolledBack : .rolledBack)
        } catch {
            await update { $0.enter(.rollbackFailed, at: Timestamp.now(), detail: "\(error)") }
            await finish(.rollbackFailed, error: "\(cause); rollback to \(from.id) failed too: \(error)")
        }
    }

    private func runner(_ node: String) throws -> any CommandRunner {
        guard let runner = runners.runner(for: node) else { throw SwapStepFailure("no command runner for node \(node)") }
        return runner
    }

    private func endpoint(_ model: ModelRecipe) throws -> LLMEndpoint {
        guard let service = inventory.service(model.service), let endpoint = LLMEndpoint(service: service, prober: prober, sender: sender)
        else {
            throw SwapStepFailure("model \(model.id) names service \(model.service), which has no usable URL")
        }
        return endpoint
    }

    /// Every node the swap touches must answer a no-op command before anything is stopped.
    private func preflight(_ nodes: [String]) async throws {
        for node in nodes {
            let result = try await runner(node).run("true", timeout: .seconds(15))
            guard result.succeeded else { throw SwapStepFailure("\(node) did not run a test command (exit \(result.exitCode))") }
        }
    }

    private func drain(_ target: ModelRecipe) async throws {
        await update { $0.enter(.draining, at: Timestamp.now()) }
        let endpoint = try endpoint(target)
        let deadline = ContinuousClock.now + settings.drainTimeout
        while true {
            try Task.checkCancellation()
            // New requests already get 503 model_swapping; wait for the ones in flight, as vLLM and the gateway count them.
            let inFlight = max(await endpoint.requestsRunning() ?? 0, await gatewayInFlight(target.service))
            if inFlight == 0 {
                await update { $0.note("no requests in flight") }
                return
            }
            if ContinuousClock.now >= deadline {
                await update { $0.note("\(inFlight) requests still running after \(self.settings.drainTimeout); going on") }
                return
            }
            await update(force: false) { $0.note("waiting for \(inFlight) request\(inFlight == 1 ? "" : "s") to finish") }
            try await Task.sleep(for: settings.pollInterval)
        }
    }

    /// Runs the model's stop on each of its nodes, then waits until it is really gone. A stop command that fails
    /// is only an error if the model is still there afterwards: `docker stop` of a container that already exited
    /// (launched with `--rm`, or never started by a launch that failed) exits 1, and a rollback must go on then.
    private func stop(_ model: ModelRecipe, quietly: Bool = false) async throws {
        if !quietly {
            await update { $0.enter(.stopping, at: Timestamp.now(), detail: "\(model.id) on \(model.nodes.joined(separator: ", "))") }
        }
        let command = try model.commands.stop.render(model.templateValues)
        var failures: [String] = []
        for node in model.nodes.reversed() {
            let result = try await runner(node).run(command, timeout: settings.commandTimeout)
            if !result.succeeded {
                failures.append("stopping \(model.id) on \(node) failed (exit \(result.exitCode)): \(Self.lastLine(result.output))")
            }
        }
        let endpoint = try endpoint(model)
        let deadline = ContinuousClock.now + settings.stopTimeout
        while true {
            let running = await isRunning(model)
            let answering = quietly ? false : await endpoint.isHealthy(timeoutMs: 300)
            if running == false && !answering { break }
            try Task.checkCancellation()
            guard ContinuousClock.now < deadline else {
                let state = running == nil ? "could not be checked" : "is still running"
                throw SwapStepFailure(failures.first ?? "\(model.id) \(state) \(settings.stopTimeout) after its stop command")
            }
            try await Task.sleep(for: settings.pollInterval)
        }
        if !failures.isEmpty && !quietly {
            await update { $0.note("\(failures.joined(separator: "; ")); \(model.id) is not running, going on") }
        }
    }

    /// Whether the model's `status` command says it runs: false when it has none, nil when the node could not be
    /// asked (SSH down, a timeout). Callers treat nil as "no news", never as "stopped": one SSH hiccup must not
    /// roll back a healthy load or let a launch run into a container that is still there.
    private func isRunning(_ model: ModelRecipe) async -> Bool? {
        guard let status = model.commands.status else { return false }
        guard let head = model.nodes.first, let command = try? status.render(model.templateValues),
            let runner = runners.runner(for: head),
            let result = try? await runner.run(command, timeout: .seconds(15))
        else { return nil }
        return result.succeeded && !result.output.contains("false")
    }

    /// Waits until the GPU memory the previous model held is free for the next: until there is room for the new
    /// model, or until memory stops shrinking (nothing more is being released).
    private func release(for next: ModelRecipe, after previous: ModelRecipe?) async throws {
        await update { $0.enter(.releasing, at: Timestamp.now(), detail: "waiting for GPU memory") }
        var notes: [String] = []
        for node in next.nodes {
            let runner = try runner(node)
            let command = inventory.node(node)?.probes.gpu ?? GPUStats.query
            let deadline = ContinuousClock.now + settings.releaseTimeout
            var lastUsed: Double?
            while true {
                try Task.checkCancellation()
                guard let stats = try await GPUReader.read(runner, command: command) else {
                    notes.append("\(node): no nvidia-smi, memory not checked")
                    break
                }
                let free = stats.memoryFreeGiB ?? 0
                let source = stats.memorySource == "free" ? " (unified memory, from free)" : ""
                let need = next.memoryGiB.map { String(format: " of the %.0f GiB %@ needs", $0, next.id) } ?? ""
                if let needed = next.memoryGiB, free >= needed {
                    notes.append(String(format: "%@: %.0f GiB free%@", node, free, source))
                    break
                }
                if let used = stats.memoryUsedMiB, let previousUsed = lastUsed, abs(previousUsed - used) < 256 {
                    let short = next.memoryGiB.map { free < $0 } ?? false
                    notes.append(String(format: "%@: %.0f GiB free%@%@", node, free, short ? need + "; launching anyway" : "", source))
                    break
                }
                lastUsed = stats.memoryUsedMiB
                if ContinuousClock.now >= deadline {
                    notes.append(
                        String(
                            format: "%@: memory still shrinking after %@, %.0f GiB free; launching anyway", node,
                            "\(settings.releaseTimeout)", free))
                    break
                }
                await update(force: false) { $0.note(String(format: "%@: %.0f GiB free, waiting", node, free)) }
                try await Task.sleep(for: .seconds(1))
            }
        }
        await update { $0.note(notes.joined(separator: "; ")) }
    }

    private func launch(_ model: ModelRecipe) async throws {
        guard let head = model.nodes.first else { throw SwapStepFailure("model \(model.id) lists no nodes") }
        await update { $0.enter(.launching, at: Timestamp.now(), detail: "\(model.id) on \(head)") }
        let runner = try runner(head)
        let command = try model.commands.launch.render(model.templateValues)
        let timeout = settings.commandTimeout
        // A cancel does not cut the launch short: stopping the local ssh does not stop the launcher on the node, which
        // would go on to start its container while the rollback restores the old model. The launch runs to its end
        // (it returns once the container is started), and the cancel takes effect right after.
        let result = try await Task { try await runner.run(command, timeout: timeout) }.value
        try Task.checkCancellation()
        guard result.succeeded else {
            throw SwapStepFailure("launching \(model.id) failed (exit \(result.exitCode)): \(Self.lastLine(result.output))")
        }
    }

    /// Follows the log for progress while waiting for `/health`; fails fast on a failure line or a dead process,
    /// and after a timeout that adapts to the model's expected load time.
    private func load(_ model: ModelRecipe) async throws {
        guard let head = model.nodes.first else { throw SwapStepFailure("model \(model.id) lists no nodes") }
        let runner = try runner(head)
        let endpoint = try endpoint(model)
        let started = Timestamp.now()
        let expected = await expectedSeconds(model)
        let timeout = await loadTimeout(model)
        // Progress, ETA and load time describe the swap's own model; a rollback's load only adds log lines.
        let isTarget = running?.model == model.id
        await update { record in
            record.enter(.loading, at: started, detail: "\(model.id); gives up after \(timeout)")
            if isTarget {
                record.loadStartedAt = started
                record.progress = LoadProgress(stage: .starting, percent: 0, detail: "launched")
                record.expectedSeconds = expected
            }
        }
        let logCommand = try model.commands.logs.render(model.templateValues)
        let pollInterval = settings.loadPollInterval
        let logGrace = settings.logGrace
        // Set when the log shows the server up: a healthy model whose log lags (a slow SSH session) gets a moment
        // for its last lines to arrive, so the swap's record ends with them.
        let logCaughtUp = CancelFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await line in runner.follow(logCommand) {
                    let event = LoadProgressParser.parse(line)
                    if case .progress(let progress) = event, progress.stage == .ready { logCaughtUp.set() }
                    await self.publishLog(line, model: model.id)
                    await self.update(force: event != nil) { record in
                        record.appendLog(line)
                        if isTarget, case .progress(let progress) = event, progress.percent >= (record.progress?.percent ?? 0) {
                            record.progress = progress
                        }
                    }
                    if case .failure(let cause) = event { throw SwapStepFailure(cause) }
                }
                // The log ended (the container exited): wait for health or the status check to decide.
                try await Task.sleep(for: .seconds(3600))
            }
            group.addTask {
                var checks = 0
                while true {
                    if await endpoint.isHealthy(timeoutMs: 1000) {
                        let waitUntil = ContinuousClock.now + logGrace
                        while !logCaughtUp.isSet, ContinuousClock.now < waitUntil { try await Task.sleep(for: .milliseconds(50)) }
                        return
                    }
                    checks += 1
                    if checks % 10 == 0, model.commands.status != nil, await self.isRunning(model) == false {
                        let last = await self.running?.logTail.last ?? "no log lines"
                        throw SwapStepFailure("\(model.id) exited while loading; last log line: \(last)")
                    }
                    try await Task.sleep(for: pollInterval)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SwapStepFailure("\(model.id) did not become healthy within \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
        let seconds = Timestamp.now() - started
        if isTarget {
            await update { record in
                record.loadSeconds = seconds
                record.progress = LoadProgress(stage: .ready, percent: 100, detail: String(format: "healthy after %.1f s", seconds))
            }
        }
    }

    private func verify(_ model: ModelRecipe) async throws {
        await update { $0.enter(.verifying, at: Timestamp.now(), detail: "/health, /v1/models, a 1-token completion") }
        let endpoint = try endpoint(model)
        let deadline = ContinuousClock.now + .seconds(15)
        var listed: [String] = []
        while true {
            try Task.checkCancellation()
            if await endpoint.isHealthy(), let models = await endpoint.servedModels() {
                listed = models
                if models.contains(model.servedName) { break }
            }
            guard ContinuousClock.now < deadline else {
                throw SwapStepFailure(
                    "the LLM lists \(listed.isEmpty ? "no models" : listed.joined(separator: ", ")), not \(model.servedName)")
            }
            try await Task.sleep(for: settings.pollInterval)
        }
        if let problem = await endpoint.completeOneToken(model: model.servedName) { throw SwapStepFailure(problem) }
        await board.setServedModels([model.servedName])
    }

    static func lastLine(_ output: String) -> String {
        output.split(separator: "\n").last.map(String.init) ?? "no output"
    }
}

/// Settles swaps left unfinished by a previous run, once, when SparkDeck starts.
public struct SwapReconciler: Service {
    let orchestrator: SwapOrchestrator

    public func run() async throws {
        // Not awaited: a resumed swap can load for many minutes, and SparkDeck stops when told to, as it does during
        // any swap (the next start settles it again).
        let orchestrator = self.orchestrator
        Task { await orchestrator.reconcile() }
        try? await gracefulShutdown()
    }
}
