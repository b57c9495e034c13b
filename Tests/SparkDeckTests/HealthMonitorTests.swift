import Foundation
import Prometheus
import Testing

@testable import SparkDeck

/// The health monitor against real SparkSim processes: hung (SIGSTOP) and killed services.
@Suite("Health monitor with real sims", .serialized)
struct HealthMonitorTests {
    struct Harness {
        let board: StatusBoard
        let log: ConnectivityLog
        let task: Task<Void, Never>

        init(services: [(String, ServiceKind, Int)]) throws {
            let data = try TestSupport.temporaryDirectory()
            let store = try Store(dataDirectory: data)
            log = ConnectivityLog(store: store)
            let inventory = TestSupport.inventory(services: services)
            board = try StatusBoard(
                inventory: inventory, log: log, events: EventBroadcaster(),
                metrics: HealthMetrics(registry: PrometheusCollectorRegistry()), demo: false,
                logger: TestSupport.logger)
            let monitor = HealthMonitor(inventory: inventory, board: board, logger: TestSupport.logger)
            task = Task { try? await monitor.run() }
        }

        func state(_ id: String) async -> HealthState { await board.state(of: .init(kind: .service, id: id)) }

        func waitFor(_ id: String, _ state: HealthState, timeout: Duration = .seconds(20)) async -> Bool {
            await TestSupport.eventually(timeout: timeout) { await self.state(id) == state }
        }

        func states(_ id: String, since: Double = 0) async throws -> [HealthState] {
            try await log.changes(since: since).filter { $0.target == id }.map(\.to)
        }
    }

    @Test func hungServiceGivesExactlyOneOutageOfAboutItsLength() async throws {
        let port = try FreePort.find(count: 1)[0]
        let logs = try TestSupport.temporaryDirectory()
        let sim = try await TestSupport.startSim(["asr", "--port", "\(port)", "--load-seconds", "1.5"], log: logs + "/asr.log")
        let harness = try Harness(services: [("asr", .asr, port)])
        defer {
            harness.task.cancel()
            sim.signal(SIGCONT)
            sim.signal(SIGKILL)
        }

        #expect(await harness.waitFor("asr", .up), "the sim never came up")
        // Judged from here: on a machine busy at the start of a run the sim's first answers can be slow, an outage
        // of their own before the one under test.
        let upAt = Timestamp.now()
        try await Task.sleep(for: .milliseconds(600))
        let hungAt = Timestamp.now()
        sim.signal(SIGSTOP)
        // The hang lasts until it is seen (the detection time is printed, and judged by the bench, not here: this
        // machine may be slow at any moment), then half a second more.
        let seenDown = await harness.waitFor("asr", .down, timeout: .seconds(10))
        #expect(seenDown, "a hung service that accepts connections and never answers is seen down")
        let seenAt = Timestamp.now()
        try await Task.sleep(for: .milliseconds(500))
        sim.signal(SIGCONT)
        print("hung sim seen down after \(Int((seenAt - hungAt) * 1000)) ms")
        let resumedAt = Timestamp.now()
        #expect(await harness.waitFor("asr", .up, timeout: .seconds(10)))
        try await Task.sleep(for: .milliseconds(300))

        // The outage under test is the one that spans the hang. A probe slowed past 500 ms by this machine (not by
        // the sim) may add one of its own before it: printed, not judged here.
        let outages = try await harness.log.outages(since: upAt)
        let spanning = outages.filter { $0.startedAt <= seenAt && ($0.endedAt ?? .infinity) >= hungAt }
        if outages.count != spanning.count { print("outages outside the hang, from a slow moment of the machine: \(outages)") }
        #expect(spanning.count == 1, "one hang, one outage: \(outages)")
        let outage = try #require(spanning.first)
        let endedAt = try #require(outage.endedAt)
        #expect(endedAt >= resumedAt - 0.05, "it ended only once the service answered again")
        #expect(outage.cause == "no answer within 500 ms")
        // A slow moment of this machine may show as `degraded` (an answer past 300 ms) around the hang: not an outage.
        let states = try await harness.states("asr", since: upAt).filter { $0 != .degraded }
        #expect(states.suffix(2) == [.down, .up], "\(states)")
    }

    @Test func killedServiceIsDownUntilItComesBackThroughLoading() async throws {
        let port = try FreePort.find(count: 1)[0]
        let logs = try TestSupport.temporaryDirectory()
        let first = try await TestSupport.startSim(["asr", "--port", "\(port)", "--load-seconds", "0.5"], log: logs + "/asr.log")
        let harness = try Harness(services: [("asr", .asr, port)])
        defer {
            harness.task.cancel()
            first.signal(SIGKILL)
        }

        #expect(await harness.waitFor("asr", .up))
        first.signal(SIGKILL)
        _ = try await first.waitForExit()
        let killedAt = Timestamp.now()
        #expect(await harness.waitFor("asr", .down, timeout: .seconds(10)), "a killed service is seen down")
        let seenDownAfter = Timestamp.now() - killedAt
        try await Task.sleep(for: .milliseconds(1200))

        // Loading long enough to be seen even when this machine is slow to start the process.
        let second = try await TestSupport.startSim(["asr", "--port", "\(port)", "--load-seconds", "3"], log: logs + "/asr2.log")
        defer { second.signal(SIGKILL) }
        #expect(await harness.waitFor("asr", .loading, timeout: .seconds(15)))
        #expect(await harness.waitFor("asr", .up, timeout: .seconds(15)))
        // The outage under test spans the kill; a probe slowed by this machine may add one of its own before it.
        let seenAt = killedAt + seenDownAfter
        // The board says `up` first; the outage row is closed in the log just after (its own write).
        _ = await TestSupport.eventually(timeout: .seconds(10)) {
            let rows = (try? await harness.log.outages(since: 0)) ?? []
            return rows.contains { $0.startedAt <= seenAt && ($0.endedAt ?? 0) >= killedAt }
        }
        let outages = try await harness.log.outages(since: 0)
        let spanning = outages.filter { $0.startedAt <= seenAt && ($0.endedAt ?? .infinity) >= killedAt }
        #expect(spanning.count == 1, "one kill, one outage: \(outages)")
        #expect(spanning.first?.cause == "connection refused")
        #expect((spanning.first?.endedAt ?? 0) >= seenAt, "it ended only when the service was back")
        let states = try await harness.states("asr").filter { $0 != .degraded }
        #expect(states.first == .loading && states.suffix(3) == [.down, .loading, .up], "\(states)")
        print("killed sim seen down after \(Int(seenDownAfter * 1000)) ms")
    }

    @Test func vllmSimLoadsThenListsItsModel() async throws {
        let port = try FreePort.find(count: 1)[0]
        let logs = try TestSupport.temporaryDirectory()
        let harness = try Harness(services: [("vllm", .vllm, port)])
        let sim = try await TestSupport.startSim(
            ["vllm", "--port", "\(port)", "--model", "org/test-model", "--load-seconds", "1.5"],
            log: logs + "/vllm.log")
        defer {
            harness.task.cancel()
            sim.signal(SIGKILL)
        }
        #expect(await harness.waitFor("vllm", .loading, timeout: .seconds(2)), "refused while loading means loading")
        #expect(await harness.waitFor("vllm", .up))
        let listed = await TestSupport.eventually(timeout: .seconds(3)) {
            if case .object(let status) = await harness.board.statusDocument(),
                case .object(let model) = status["loaded_model"] ?? .null
            {
                return model["served_name"] == .string("org/test-model")
            }
            return false
        }
        #expect(listed)
        let log = try String(contentsOfFile: logs + "/vllm.log", encoding: .utf8)
        #expect(log.contains("Starting to load model org/test-model..."))
        #expect(log.contains("Application startup complete."))
    }

    @Test func oomSimExitsWithTheCUDALine() async throws {
        let logs = try TestSupport.temporaryDirectory()
        let sim = try await TestSupport.startSim(
            ["vllm", "--port", "1", "--model", "m-oom", "--load-seconds", "1", "--fail-at", "weights:60"],
            log: logs + "/vllm.log")
        #expect(try await sim.waitForExit() == 1)
        let log = try String(contentsOfFile: logs + "/vllm.log", encoding: .utf8)
        #expect(log.contains("60% Completed"))
        #expect(log.contains("torch.OutOfMemoryError: CUDA out of memory"))
    }
}
