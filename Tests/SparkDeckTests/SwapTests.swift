import Foundation
import Prometheus
import Testing

@testable import SparkDeck

/// Model swaps over real SSH: two sshd "nodes" on 127.0.0.2 and 127.0.0.3 run the recipes, which start and stop
/// SparkSim vLLM processes.
@Suite("Swaps over real SSH", .serialized)
struct SwapTests {
    /// A two-node cluster behind real sshd, its inventory, and an orchestrator with a store in a temp folder.
    final class Cluster: @unchecked Sendable {
        let ssh: SSHFixture
        let work: String
        let llmPort: Int
        let inventory: Inventory
        let board: StatusBoard
        let events: EventBroadcaster
        let store: SwapStore
        let orchestrator: SwapOrchestrator
        let runners: RunnerPool
        let monitor: Task<Void, Never>

        init(
            loadSeconds: Double = 1.5, extraParams: [String: String] = [:], launchTemplate: String? = nil,
            stopTemplate: String? = nil
        ) async throws {
            #expect(SSHFixture.available, "the swap tests need /usr/sbin/sshd (scripts/install-test-deps) and root")
            ssh = try await SSHFixture(hosts: ["127.0.0.2", "127.0.0.3"])
            work = try TestSupport.temporaryDirectory()
            llmPort = try FreePort.find(count: 1)[0]
            let nodes = [ssh.node("spark-a", host: "127.0.0.2"), ssh.node("spark-b", host: "127.0.0.3")]
            let (work, llmPort) = (self.work, self.llmPort)
            func recipe(
                _ id: String, served: String, nodes: [String], failAt: String = "none", load: Double,
                launch: String? = nil
            ) throws -> ModelRecipe {
                var params = [
                    "sim": TestSupport.binary, "port": "\(llmPort)", "load_seconds": "\(load)", "fail_at": failAt,
                    "pid_file": "\(work)/vllm.pid", "log_file": "\(work)/vllm.log", "marker": "\(work)/stops.log",
                    "test_pid": "\(ProcessInfo.processInfo.processIdentifier)",
                ]
                params.merge(extraParams) { _, new in new }
                return ModelRecipe(
                    id: id, name: id, servedName: served, service: "vllm", nodes: nodes, memoryGiB: nil,
                    expectedLoadSeconds: Int(load.rounded(.up)), params: params,
                    commands: RecipeCommands(
                        launch: try CommandTemplate(
                            launch ?? launchTemplate
                                ?? "nohup {sim} sim vllm --port {port} --model {served_name} --load-seconds {load_seconds} --fail-at {fail_at} --exit-with {test_pid} > {log_file} 2>&1 < /dev/null & echo $! > {pid_file}"
                        ),
                        stop: try CommandTemplate(
                            stopTemplate
                                ?? #"echo "$SSH_CONNECTION" >> {marker}; if [ -f {pid_file} ]; then kill "$(cat {pid_file})" 2>/dev/null; rm -f {pid_file}; fi; true"#
                        ),
                        logs: try CommandTemplate("tail -n +1 -F {log_file} 2>/dev/null"),
                        status: try CommandTemplate(#"[ -f {pid_file} ] && kill -0 "$(cat {pid_file})""#)))
            }
            var health = HealthCheckSettings.defaults
            health.startupGraceSeconds = 60
            inventory = Inventory(
                clusterName: "ssh test", nodes: nodes,
                services: [
                    ClusterService(
                        id: "vllm", kind: .vllm, node: "spark-a", baseURL: "http://127.0.0.1:\(llmPort)",
                        health: health, limits: .defaults)
                ],
                models: [
                    try recipe("small", served: "test/small", nodes: ["spark-a"], load: loadSeconds),
                    try recipe("large-tp2", served: "test/large", nodes: ["spark-a", "spark-b"], load: loadSeconds),
                    try recipe("huge-oom", served: "test/huge", nodes: ["spark-a"], failAt: "weights:60", load: loadSeconds),
                    // A launch that fails before anything starts, as `docker run` does when the image is missing.
                    try recipe(
                        "no-image", served: "test/none", nodes: ["spark-a"], load: loadSeconds,
                        launch: "echo 'Unable to find image vllm-node:latest locally' >&2; exit 125"),
                ],
                actions: [], defaultModel: "small")
            let storeFolder = try TestSupport.temporaryDirectory()
            let base = try Store(dataDirectory: storeFolder)
            store = SwapStore(store: base)
            events = EventBroadcaster()
            board = try StatusBoard(
                inventory: inventory, log: ConnectivityLog(store: base), events: events,
                metrics: HealthMetrics(registry: PrometheusCollectorRegistry()), demo: false, logger: TestSupport.logger)
            runners = try RunnerPool(inventory: inventory, dataDirectory: storeFolder)
            orchestrator = SwapOrchestrator(
                inventory: inventory, runners: runners, store: store, board: board, events: events,
                sender: TestSupport.sender(board: board), logger: TestSupport.logger)
            let healthMonitor = HealthMonitor(inventory: inventory, board: board, logger: TestSupport.logger)
            monitor = Task { try? await healthMonitor.run() }
        }

        /// Swaps to `model` and waits for the swap to end.
        func swap(to model: String, timeout: Duration = .seconds(60)) async throws -> SwapRecord {
            let started = try await orchestrator.request(modelID: model, confirm: true)
            return try await waitForEnd(started.id, timeout: timeout)
        }

        func waitForEnd(_ id: String, timeout: Duration = .seconds(60)) async throws -> SwapRecord {
            let ended = await TestSupport.eventually(timeout: timeout) { self.orchestrator.current() == nil }
            #expect(ended, "the swap did not end within \(timeout)")
            return try #require(try await store.record(id))
        }

        func servedModels() async -> [String]? {
            await LLMEndpoint(service: inventory.services[0])?.servedModels()
        }

        func stopLog() -> String { (try? String(contentsOfFile: work + "/stops.log", encoding: .utf8)) ?? "" }

        func tearDown() async {
            monitor.cancel()
            if let pid = try? String(contentsOfFile: work + "/vllm.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                let value = Int32(pid)
            {
                kill(value, SIGKILL)
            }
            // The shared SSH connections would otherwise outlive the test by ControlPersist (60 s).
            await runners.disconnectAll()
            await ssh.shutdown()
        }
    }

    @Test func swapLoadsTheNewModelAndRecordsEveryStage() async throws {
        let cluster = try await Cluster()
        defer { Task { await cluster.tearDown() } }
        let first = try await cluster.swap(to: "small")
        #expect(first.result == .ready, "\(first.error ?? "")")
        #expect(first.fromModel == nil)
        #expect(await cluster.servedModels() == ["test/small"])

        // The model's log reaches /api/events line by line while it loads.
        let (_, events) = await cluster.events.subscribe()
        let collector = Task {
            var lines: [String] = []
            for await event in events where event.name == "log" {
                lines.append(event.data)
                if event.data.contains("Application startup complete.") { break }
            }
            return lines
        }
        let second = try await cluster.swap(to: "large-tp2")
        #expect(second.result == .ready, "\(second.error ?? "")")
        try await Task.sleep(for: .milliseconds(200))
        collector.cancel()
        let logLines = await collector.value
        #expect(logLines.last?.contains("Application startup complete.") == true, "\(logLines.suffix(3))")
        #expect(
            logLines.first?.contains("\"swap\":\"\(second.id)\"") == true && logLines.first?.contains("\"model\":\"large-tp2\"") == true)
        #expect(logLines.contains { $0.contains("Loading safetensors checkpoint shards") }, "\(logLines.suffix(5))")
        #expect(second.fromModel == "small")
        #expect(second.stages.map(\.state) == [.queued, .draining, .stopping, .releasing, .launching, .loading, .verifying, .ready])
        #expect(second.stages.map(\.at) == second.stages.map(\.at).sorted())
        #expect(second.progress?.percent == 100)
        #expect(second.logTail.contains { $0.contains("Application startup complete.") })
        #expect((second.loadSeconds ?? 0) >= 1.4)
        #expect(await cluster.servedModels() == ["test/large"])
        // A tensor-parallel model is stopped on every node it spans: both sshd addresses ran the stop command.
        _ = try await cluster.swap(to: "small")
        let stops = cluster.stopLog()
        #expect(stops.contains(" 127.0.0.2 ") && stops.contains(" 127.0.0.3 "), "stop ran on: \(stops)")
        #expect(await cluster.orchestrator.activeModelID() == "small")
    }

    @Test func oomModelFailsFastAndRollsBack() async throws {
        let cluster = try await Cluster()
        defer { Task { await cluster.tearDown() } }
        _ = try await cluster.swap(to: "small")
        let failed = try await cluster.swap(to: "huge-oom")
        #expect(failed.result == .rolledBack)
        #expect(failed.error?.contains("CUDA out of memory") == true, "failure seen from the log line, not a timeout")
        #expect(failed.stages.map(\.state).suffix(2) == [.rollingBack, .rolledBack])
        #expect(await cluster.servedModels() == ["test/small"], "the previous model is back")
    }

    /// `docker stop` exits 1 when there is no container (vLLM's containers run with `--rm`): after a launch that
    /// failed before anything started, the rollback's stop finds nothing to stop and must go on to relaunch the old one.
    @Test func rollbackGoesOnWhenTheStopFindsNothingToStop() async throws {
        let dockerLikeStop =
            #"echo "$SSH_CONNECTION" >> {marker}; if [ -f {pid_file} ] && kill "$(cat {pid_file})" 2>/dev/null; then rm -f {pid_file}; else rm -f {pid_file}; echo "Error response from daemon: No such container: vllm_node" >&2; exit 1; fi"#
        let cluster = try await Cluster(stopTemplate: dockerLikeStop)
        defer { Task { await cluster.tearDown() } }
        let first = try await cluster.swap(to: "small")
        #expect(first.result == .ready, "\(first.error ?? "")")
        let failed = try await cluster.swap(to: "no-image")
        #expect(failed.result == .rolledBack, "\(failed.error ?? "")")
        #expect(failed.error?.contains("Unable to find image") == true, "\(failed.error ?? "")")
        #expect(
            failed.stages.contains { $0.detail?.contains("No such container") == true },
            "the failed stop is noted: \(failed.stages.map { $0.detail ?? "" })")
        #expect(await cluster.servedModels() == ["test/small"], "the previous model is back")
    }

    @Test func cancelMidLoadRestoresThePreviousModel() async throws {
        let cluster = try await Cluster(loadSeconds: 4)
        defer { Task { await cluster.tearDown() } }
        _ = try await cluster.swap(to: "small")
        let swap = try await cluster.orchestrator.request(modelID: "large-tp2", confirm: true)
        let loading = await TestSupport.eventually(timeout: .seconds(20)) {
            cluster.orchestrator.current()?.state == .loading
        }
        #expect(loading)
        do throws(SwapRequestError) {
            _ = try await cluster.orchestrator.cancel(id: swap.id)
        } catch {
            Issue.record("cancel refused: \(error)")
        }
        let ended = try await cluster.waitForEnd(swap.id)
        #expect(ended.result == .cancelledRolledBack)
        #expect(ended.error == "cancelled by the owner")
        #expect(await cluster.servedModels() == ["test/small"])
    }

    /// A cancel while the launcher runs on the node lets it finish before the rollback stops what it started:
    /// otherwise the launcher, no longer watched, could start the new model after the old one was restored.
    @Test func aCancelDuringTheLaunchWaitsForTheLauncherBeforeRollingBack() async throws {
        let work = try TestSupport.temporaryDirectory()
        let launched = work + "/launched"
        let stops = work + "/stop-times"
        let slowLaunch =
            "sleep 1; date +%s%N >> {launched}; nohup {sim} sim vllm --port {port} --model {served_name} --load-seconds {load_seconds} --exit-with {test_pid} > {log_file} 2>&1 < /dev/null & echo $! > {pid_file}"
        let timedStop =
            #"date +%s%N >> {stops}; if [ -f {pid_file} ]; then kill "$(cat {pid_file})" 2>/dev/null; rm -f {pid_file}; fi; true"#
        let cluster = try await Cluster(
            extraParams: ["launched": launched, "stops": stops], launchTemplate: slowLaunch,
            stopTemplate: timedStop)
        defer { Task { await cluster.tearDown() } }
        _ = try await cluster.swap(to: "small")
        let swap = try await cluster.orchestrator.request(modelID: "large-tp2", confirm: true)
        #expect(await TestSupport.eventually(timeout: .seconds(20)) { cluster.orchestrator.current()?.state == .launching })
        let cancelledAt = UInt64(Date().timeIntervalSince1970 * 1e9)
        do throws(SwapRequestError) {
            _ = try await cluster.orchestrator.cancel(id: swap.id)
        } catch {
            Issue.record("cancel refused: \(error)")
        }
        let ended = try await cluster.waitForEnd(swap.id)
        #expect(ended.result == .cancelledRolledBack, "\(ended.error ?? "")")
        #expect(await cluster.servedModels() == ["test/small"])
        func times(_ path: String) -> [UInt64] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { UInt64($0) }
        }
        let launchEnds = times(launched)
        #expect(launchEnds.count >= 2, "the cancelled launch ran to its end: \(launchEnds)")
        let rollbackStops = times(stops).filter { $0 > cancelledAt }
        #expect(!rollbackStops.isEmpty, "the rollback stopped the new model")
        if launchEnds.count >= 2 {
            #expect(rollbackStops.allSatisfy { $0 > launchEnds[1] }, "the rollback's stop ran before the launcher had finished")
        }
    }

    @Test func secondSwapIsRefusedWhileOneRunsAndUnconfirmedSwapsOnlyDescribe() async throws {
        let cluster = try await Cluster(loadSeconds: 3)
        defer { Task { await cluster.tearDown() } }
        do throws(SwapRequestError) {
            _ = try await cluster.orchestrator.request(modelID: "small", confirm: false)
            Issue.record("an unconfirmed swap started")
        } catch {
            guard case .notConfirmed(let plan) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(plan.hasPrefix("Loads small on spark-a (about"))
        }
        #expect(cluster.orchestrator.current() == nil)
        let running = try await cluster.orchestrator.request(modelID: "small", confirm: true)
        do throws(SwapRequestError) {
            _ = try await cluster.orchestrator.request(modelID: "large-tp2", confirm: true)
            Issue.record("a second swap started")
        } catch {
            #expect(error == .conflict(running: running.id, model: "small"))
        }
        do throws(SwapRequestError) {
            _ = try await cluster.orchestrator.request(modelID: "nope", confirm: true)
        } catch {
            #expect(error == .unknownModel("nope", known: ["small", "large-tp2", "huge-oom", "no-image"]))
        }
        #expect(try await cluster.waitForEnd(running.id).result == .ready)
    }

    @Test func unreachableNodeFailsClearlyAndChangesNothing() async throws {
        let cluster = try await Cluster()
        defer { Task { await cluster.tearDown() } }
        _ = try await cluster.swap(to: "small")
        await cluster.ssh.stop("127.0.0.2")
        // A node that went away takes its connections with it.
        await cluster.runners.disconnectAll()
        let failed = try await cluster.swap(to: "large-tp2")
        #expect(failed.result == .failed)
        #expect(failed.error?.contains("spark-a is unreachable over SSH") == true, "\(failed.error ?? "")")
        #expect(failed.stages.map(\.state) == [.queued, .failed])
        #expect(await cluster.servedModels() == ["test/small"], "the running model was not touched")
    }

    @Test func shellMetacharactersInRecipeParametersAreNeverRun() async throws {
        let canary = "/tmp/sparkdeck-canary-\(UUID().uuidString)"
        let cluster = try await Cluster(
            extraParams: ["fail_at": "none; touch \(canary)", "served_extra": "$(touch \(canary))"],
            launchTemplate:
                "nohup {sim} sim vllm --port {port} --model {served_name} --load-seconds {load_seconds} --fail-at {fail_at} --exit-with {test_pid} > {log_file} 2>&1 < /dev/null & echo $! > {pid_file}; echo {served_extra}"
        )
        defer { Task { await cluster.tearDown() } }
        let swap = try await cluster.swap(to: "small")
        #expect(swap.result == .failed, "the quoted value reaches the sim as one bad --fail-at argument")
        #expect(!FileManager.default.fileExists(atPath: canary), "a metacharacter in a parameter ran as a command")
        let log = (try? String(contentsOfFile: cluster.work + "/vllm.log", encoding: .utf8)) ?? ""
        #expect(log.contains("--fail-at must be one of"), "\(log)")
    }

    @Test func sparkDeckKilledMidSwapReconcilesOnRestart() async throws {
        let ssh = try await SSHFixture(hosts: ["127.0.0.5"])
        let work = try TestSupport.temporaryDirectory()
        let data = try TestSupport.temporaryDirectory()
        let (llmPort, apiPort) = try {
            let ports = try FreePort.find(count: 2)
            return (ports[0], ports[1])
        }()
        defer {
            Task { await ssh.shutdown() }
            if let pid = try? String(contentsOfFile: work + "/vllm.pid", encoding: .utf8),
                let value = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(value, SIGKILL)
            }
        }
        let inventory = """
            nodes:
              - id: spark-a
                host: 127.0.0.5
                ssh: { user: \(ssh.user), port: \(ssh.port), key: "\(ssh.keyPath)" }
            services:
              - id: vllm
                kind: vllm
                node: spark-a
                url: http://127.0.0.1:\(llmPort)
                health: { startup_grace_seconds: 60 }
            x-commands: &commands
              launch: nohup {sim} sim vllm --port {port} --model {served_name} --load-seconds {load} --exit-with {test_pid} > {log} 2>&1 < /dev/null & echo $! > {pid}
              stop: 'if [ -f {pid} ]; then kill "$(cat {pid})" 2>/dev/null; rm -f {pid}; fi; true'
              logs: tail -n +1 -F {log}
              status: '[ -f {pid} ] && kill -0 "$(cat {pid})"'
            x-params: &params
              sim: "\(TestSupport.binary)"
              port: "\(llmPort)"
              pid: "\(work)/vllm.pid"
              log: "\(work)/vllm.log"
              test_pid: "\(ProcessInfo.processInfo.processIdentifier)"
            models:
              - { id: small, served_name: test/small, service: vllm, nodes: [spark-a], load_seconds: 2,
                  params: { <<: *params, load: "1" }, commands: *commands }
              - { id: slow, served_name: test/slow, service: vllm, nodes: [spark-a], load_seconds: 6,
                  params: { <<: *params, load: "6" }, commands: *commands }
            """
        try inventory.write(toFile: work + "/inventory.yaml", atomically: true, encoding: .utf8)
        func startServer() async throws -> SpawnedProcess {
            try await SpawnedProcess.start(
                TestSupport.binary,
                arguments: [
                    "serve", "--inventory", work + "/inventory.yaml", "--data", data,
                    "--host", "127.0.0.1", "--port", "\(apiPort)",
                ],
                output: .file(work + "/serve.log", truncate: false))
        }
        func api(_ method: String, _ path: String, _ body: String? = nil) async -> (Int, [String: Any]) {
            guard
                case .http(let status, let text) = await SocketProber().http(
                    method, host: "127.0.0.1", port: apiPort, path: path,
                    body: body, timeoutMs: 5000)
            else { return (0, [:]) }
            return (status, (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:])
        }
        func waitForResult(_ id: String) async -> [String: Any] {
            var last: [String: Any] = [:]
            _ = await TestSupport.eventually(timeout: .seconds(40)) {
                last = await api("GET", "/api/swaps/\(id)").1
                return last["result"] is String
            }
            return last
        }

        var server = try await startServer()
        #expect(await TestSupport.eventually(timeout: .seconds(15)) { await api("GET", "/healthz").0 == 200 })
        let (status, first) = await api("POST", "/api/swaps", #"{"model":"small","confirm":true}"#)
        #expect(status == 202)
        #expect(await waitForResult(first["id"] as? String ?? "")["result"] as? String == "ready")

        let (_, slow) = await api("POST", "/api/swaps", #"{"model":"slow","confirm":true}"#)
        let id = try #require(slow["id"] as? String)
        #expect(
            await TestSupport.eventually(timeout: .seconds(20)) { await api("GET", "/api/swaps/\(id)").1["state"] as? String == "loading" })
        server.signal(SIGKILL)
        _ = try await server.waitForExit()

        server = try await startServer()
        defer { server.signal(SIGTERM) }
        let settled = await waitForResult(id)
        #expect(settled["result"] as? String == "ready", "\(settled)")
        let details = (settled["stages"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
        #expect(details.contains { $0.contains("SparkDeck restarted during the swap") })
        let models = await api("GET", "/api/models").1
        #expect(models["active"] as? String == "slow")
    }

    @Test func sshErrorsSayWhatIsWrong() async throws {
        let ssh = try await SSHFixture(hosts: ["127.0.0.4"])
        defer { Task { await ssh.shutdown() } }
        let data = try TestSupport.temporaryDirectory()
        let good = try SSHCommandRunner(node: ssh.node("n1", host: "127.0.0.4"), dataDirectory: data)
        #expect(try await good.run("echo hello", timeout: .seconds(15)) == CommandResult(exitCode: 0, output: "hello\n"))
        #expect(try await good.run("exit 3", timeout: .seconds(15)).exitCode == 3)
        await #expect(throws: CommandRunnerError.self) { try await good.run("no-such-command-here", timeout: .seconds(15)) }
        do {
            _ = try await good.run("no-such-command-here", timeout: .seconds(15))
        } catch let error as CommandRunnerError {
            guard case .commandNotFound = error else {
                Issue.record("\(error)")
                return
            }
        }
        let lines = good.follow("printf 'a\\nb\\nc\\n'")
        var seen: [String] = []
        for try await line in lines { seen.append(line) }
        #expect(seen == ["a", "b", "c"])

        try await SSHFixture.shell("ssh-keygen -q -t ed25519 -N '' -f \(data)/other_key")
        var stranger = ssh.node("n1", host: "127.0.0.4")
        stranger.ssh?.keyPath = "\(data)/other_key"
        let refused = try SSHCommandRunner(node: stranger, dataDirectory: try TestSupport.temporaryDirectory())
        await #expect { try await refused.run("true", timeout: .seconds(15)) } throws: { error in
            guard case CommandRunnerError.authRefused = error else { return false }
            return "\(error)".contains("authorized_keys")
        }
        await ssh.stop("127.0.0.4")
        let down = try SSHCommandRunner(node: ssh.node("n1", host: "127.0.0.4"), dataDirectory: try TestSupport.temporaryDirectory())
        await #expect { try await down.run("true", timeout: .seconds(15)) } throws: { error in
            guard case CommandRunnerError.unreachable = error else { return false }
            return true
        }
    }
}

@Suite("Swap single flight")
struct SwapSingleFlightTests {
    @Test func concurrentConfirmedRequestsStartExactlyOneSwap() async throws {
        let (orchestrator, _) = try await LocalSwaps.orchestrator([LocalSwaps.recipe("m", try LocalSwaps.commands())])
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do throws(SwapRequestError) {
                        _ = try await orchestrator.request(modelID: "m", confirm: true)
                        return true
                    } catch {
                        return false
                    }
                }
            }
            var started: [Bool] = []
            for await outcome in group { started.append(outcome) }
            return started
        }
        #expect(outcomes.filter { $0 }.count == 1, "exactly one of eight simultaneous swaps starts")
        if let id = orchestrator.current()?.id { _ = try? await orchestrator.cancel(id: id) }
    }
}

@Suite("Swap load timeout")
struct SwapLoadTimeoutTests {
    static func orchestrator(recipeSeconds: Int, measured: [Double]) async throws -> (SwapOrchestrator, ModelRecipe) {
        let recipe = LocalSwaps.recipe("m", try LocalSwaps.commands(), loadSeconds: recipeSeconds)
        let loads = measured.enumerated().map { index, seconds in
            var record = SwapRecord(model: "m", fromModel: nil, expectedSeconds: 0, at: Timestamp.now() - Double(100 - index))
            record.loadSeconds = seconds
            record.result = .ready
            return record
        }
        return (try await LocalSwaps.orchestrator([recipe], saved: loads).0, recipe)
    }

    @Test func aColdLoadIsNotGivenUpBecauseWarmLoadsWereFast() async throws {
        // Warm loads of about a minute; the recipe says a cold one takes 7 minutes.
        let (warm, recipe) = try await Self.orchestrator(recipeSeconds: 420, measured: [60, 65, 70])
        #expect(await warm.expectedSeconds(recipe) == 65, "the ETA shown is still the typical load")
        #expect(await warm.loadTimeout(recipe) == .seconds(1050))
        // One slow measured load (after a reboot) counts even when the recipe says less.
        let (mixed, same) = try await Self.orchestrator(recipeSeconds: 100, measured: [60, 400, 70])
        #expect(await mixed.loadTimeout(same) == .seconds(1000))
        let (quick, small) = try await Self.orchestrator(recipeSeconds: 5, measured: [])
        #expect(await quick.loadTimeout(small) == .seconds(120), "never under 2 minutes")
    }
}

@Suite("Swap reconcile")
struct SwapReconcileTests {
    /// A swap cut short while draining had stopped nothing: at the next start it ends with nothing changed, and the
    /// model that still serves is not stopped and reloaded.
    @Test func aSwapCutShortBeforeItStoppedAnythingEndsWithNothingChanged() async throws {
        let work = try TestSupport.temporaryDirectory()
        let canary = (work as NSString).appendingPathComponent("touched")
        let touch = "touch \(ShellQuote.quote(canary))"
        let commands = try LocalSwaps.commands(launch: touch, stop: touch)
        var record = SwapRecord(model: "new", fromModel: "old", expectedSeconds: 5, at: Timestamp.now())
        record.enter(.draining, at: Timestamp.now())
        let (orchestrator, swaps) = try await LocalSwaps.orchestrator(
            [LocalSwaps.recipe("old", commands), LocalSwaps.recipe("new", commands)], saved: [record])
        let reconciling = Task { await orchestrator.reconcile() }
        defer { reconciling.cancel() }
        let ended = await TestSupport.eventually(timeout: .seconds(10)) {
            (try? await swaps.record(record.id))?.result != nil
        }
        #expect(ended, "the swap was not settled")
        let settled = try #require(try await swaps.record(record.id))
        #expect(settled.result == .failed)
        #expect(settled.error?.contains("before the swap changed anything") == true, "\(settled.error ?? "")")
        #expect(!FileManager.default.fileExists(atPath: canary), "nothing was stopped or launched")
    }

    /// A swap started in the moment between SparkDeck's start and its check of an unfinished swap keeps running:
    /// the unfinished one is ended, not resumed over it.
    @Test func aSwapStartedBeforeTheCheckIsNotOverwritten() async throws {
        let commands = try LocalSwaps.commands()
        var left = SwapRecord(model: "new", fromModel: "old", expectedSeconds: 5, at: Timestamp.now() - 60)
        left.enter(.loading, at: Timestamp.now() - 30)
        let (orchestrator, swaps) = try await LocalSwaps.orchestrator(
            [LocalSwaps.recipe("old", commands), LocalSwaps.recipe("new", commands)], saved: [left])
        let started = try await orchestrator.request(modelID: "old", confirm: true)
        // Not awaited: a check that wrongly resumed the left swap would wait out its load.
        let reconciling = Task { await orchestrator.reconcile() }
        defer { reconciling.cancel() }
        let settled = await TestSupport.eventually(timeout: .seconds(5)) { (try? await swaps.record(left.id))?.result != nil }
        #expect(settled, "the unfinished swap was not ended")
        #expect(orchestrator.current()?.id == started.id, "the swap the owner started is still the one running")
        let record = try #require(try await swaps.record(left.id))
        #expect(record.result == .failed)
        #expect(record.error?.contains("began before it could be checked") == true, "\(record.error ?? "")")
        _ = try? await orchestrator.cancel(id: started.id)
    }
}

/// An orchestrator whose recipes run on this machine (`LocalCommandRunner`), over a store that already holds `saved`
/// swaps: for the swap logic that needs no SSH and no real model.
enum LocalSwaps {
    static func recipe(_ id: String, _ commands: RecipeCommands, loadSeconds: Int = 5) -> ModelRecipe {
        ModelRecipe(
            id: id, name: id, servedName: "org/\(id)", service: "vllm", nodes: ["spark-1"], memoryGiB: nil,
            expectedLoadSeconds: loadSeconds, params: [:], commands: commands)
    }

    static func commands(launch: String = "sleep 30", stop: String = "true") throws -> RecipeCommands {
        RecipeCommands(
            launch: try CommandTemplate(launch), stop: try CommandTemplate(stop), logs: try CommandTemplate("sleep 30"),
            status: nil)
    }

    static func orchestrator(_ recipes: [ModelRecipe], saved: [SwapRecord] = []) async throws -> (SwapOrchestrator, SwapStore) {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)])
        inventory.models = recipes
        let store = try Store(dataDirectory: try TestSupport.temporaryDirectory())
        let swaps = SwapStore(store: store)
        for record in saved { try await swaps.save(record) }
        let board = try StatusBoard(
            inventory: inventory, log: ConnectivityLog(store: store), events: EventBroadcaster(),
            metrics: HealthMetrics(registry: PrometheusCollectorRegistry()), demo: false, logger: TestSupport.logger)
        let orchestrator = SwapOrchestrator(
            inventory: inventory, runners: RunnerPool(runners: ["spark-1": LocalCommandRunner()]),
            store: swaps, board: board, events: EventBroadcaster(),
            sender: TestSupport.sender(board: board), logger: TestSupport.logger)
        return (orchestrator, swaps)
    }
}
