import Foundation
import SparkSim
import Testing

@testable import SparkDeck

@Suite("Capacity knee (pure)")
struct KneeFinderTests {
    /// A level whose requests all took `latencyMs`, `clients` at a time, `rounds` each.
    static func level(_ clients: Int, throughput: Double, p95: Double, errors: Int = 0, requests: Int = 40) -> SweepLevel {
        let seconds = Double(requests - errors) / throughput
        return SweepLevel(concurrency: clients, requests: requests, errors: errors, seconds: seconds, p50Ms: p95 * 0.8, p95Ms: p95)
    }

    @Test func theKneeIsWhereThroughputStopsRising() {
        // Scales to 2, flat at 3: the service's capacity is 2.
        let levels = [
            Self.level(1, throughput: 2, p95: 500), Self.level(2, throughput: 3.9, p95: 520), Self.level(3, throughput: 4.1, p95: 760),
        ]
        let verdict = KneeFinder().verdict(levels)
        #expect(verdict.knee == 2)
        #expect(verdict.limit == .flatThroughput)
        #expect(verdict.limitedAt == 3)
        #expect(verdict.done)
    }

    @Test func aRiseOfLessThanHalfThePerfectStepIsFlat() {
        // 2 -> 3 clients: perfect is +50%, so +20% is not worth the added client; +30% is.
        let base = [Self.level(1, throughput: 1, p95: 100), Self.level(2, throughput: 2, p95: 100)]
        #expect(KneeFinder().verdict(base + [Self.level(3, throughput: 2.4, p95: 120)]).knee == 2)
        #expect(KneeFinder().verdict(base + [Self.level(3, throughput: 2.6, p95: 120)]).knee == 3)
        // Doubling steps: 8 -> 16 needs +50%.
        let doubling = [Self.level(8, throughput: 80, p95: 100), Self.level(16, throughput: 130, p95: 110)]
        #expect(KneeFinder().verdict(doubling).knee == 16)
        let flat = [Self.level(8, throughput: 80, p95: 100), Self.level(16, throughput: 110, p95: 110)]
        #expect(KneeFinder().verdict(flat).knee == 8)
    }

    @Test func latencyPastThreeTimesOneRequestAloneEndsItEvenWhileThroughputRises() {
        let levels = [
            Self.level(1, throughput: 1, p95: 100), Self.level(2, throughput: 2, p95: 150), Self.level(3, throughput: 3, p95: 301),
        ]
        let verdict = KneeFinder().verdict(levels)
        #expect(verdict.knee == 2)
        #expect(verdict.limit == .latency)
    }

    @Test func errorsPastTheBoundEndItAndAFailedFirstLevelHasNoKnee() {
        let levels = [Self.level(1, throughput: 1, p95: 100), Self.level(2, throughput: 2, p95: 100, errors: 3)]
        #expect(KneeFinder().verdict(levels).knee == 1)
        #expect(KneeFinder().verdict(levels).limit == .errors)
        let allFailed = [SweepLevel(concurrency: 1, requests: 4, errors: 4, seconds: 1, p50Ms: 5, p95Ms: 5)]
        #expect(KneeFinder().verdict(allFailed).knee == nil)
        #expect(KneeFinder().verdict(allFailed).limit == .errors)
        // Two errors in 40 is 5%: still within the bound.
        #expect(KneeFinder().verdict([Self.level(1, throughput: 1, p95: 100, errors: 2)]).limit == nil)
    }

    @Test func levelsStepByOneToEightThenDouble() {
        #expect(KneeFinder.levels(upTo: 4) == [1, 2, 3, 4])
        #expect(KneeFinder.levels(upTo: 8) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(KneeFinder.levels(upTo: 64) == [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64])
        #expect(KneeFinder.levels(upTo: 100) == [1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 100])
        #expect(KneeFinder.levels(upTo: 0) == [1])
    }

    @Test func theProposedQueueIsWhatTheKneeWorksOffInHalfTheQueueTimeout() {
        let current = AdmissionLimits(maxInFlight: 8, queueDepth: 32, queueTimeoutMs: 60_000)
        let proposal = KneeFinder.proposal(knee: 2, throughput: 2.5, current: current)
        #expect(proposal.maxInFlight == 2)
        #expect(proposal.queueDepth == 75, "2.5/s for 30 s")
        #expect(proposal.queueTimeoutMs == 60_000)
        #expect(KneeFinder.proposal(knee: 6, throughput: 0.1, current: current).queueDepth == 6, "at least one round of the knee")
    }

    @Test func aLevelIsMeasuredFromItsLatenciesAndErrors() {
        let level = SweepLevel(concurrency: 2, latenciesMs: (1...20).map(Double.init), errors: 2, seconds: 4)
        #expect(level.requests == 20)
        #expect(level.p50Ms == 10)
        #expect(level.p95Ms == 19)
        #expect(level.throughput == 4.5)
    }
}

@Suite("SparkSim capacity model (pure)")
struct SimCapacityModelTests {
    @Test func fullSpeedToTheCapacityThenSharedThenStalls() {
        let model = SimCapacityModel(capacity: 2, fixedSeconds: 0.2, secondsPerUnit: 0.01)
        #expect(model.seconds(units: 30, inFlight: 1, draw: 0.5) == 0.5)
        #expect(model.seconds(units: 30, inFlight: 2, draw: 0.5) == 0.5)
        // Three share two slots' worth of GPU: each takes 1.5 times as long, so throughput stays flat.
        #expect(abs(model.seconds(units: 30, inFlight: 3, draw: 0.5) - 0.75) < 1e-9)
        // Past one more, 1 to 4 s of stall on top.
        #expect(abs(model.seconds(units: 30, inFlight: 4, draw: 0) - 2.0) < 1e-9)
        #expect(abs(model.seconds(units: 30, inFlight: 4, draw: 1) - 5.0) < 1e-9)
    }
}

@Suite("Live admission limits")
struct LiveLimitsTests {
    @Test func aHigherCapAdmitsTheWaitersAtOnceInArrivalOrder() {
        var queue = AdmissionQueue<Int>(maxInFlight: 1, maxQueued: 5)
        let decisions = (1...4).map { queue.arrive($0) }
        #expect(decisions == [.admit, .wait(position: 1), .wait(position: 2), .wait(position: 3)])
        let admitted = queue.resize(maxInFlight: 3, maxQueued: 5)
        #expect(admitted == [2, 3])
        #expect(queue.inFlight == 3)
        #expect(queue.queued == 1)
    }

    @Test func aLowerCapLetsTheRunningFinishAndStartsNoneUntilUnderIt() {
        var queue = AdmissionQueue<Int>(maxInFlight: 3, maxQueued: 5)
        _ = (1...5).map { queue.arrive($0) }
        #expect(queue.resize(maxInFlight: 1, maxQueued: 1).isEmpty)
        #expect(queue.queued == 2, "nobody already waiting is turned away")
        #expect(queue.arrive(6) == .reject, "the smaller queue is full")
        #expect(queue.leave() == nil)
        #expect(queue.leave() == nil)
        #expect(queue.inFlight == 1)
        #expect(queue.leave() == 4, "under the cap again, the slot passes on")
        #expect(queue.inFlight == 1)
    }

    @Test func anAppliedLimitChangesAGateInUseAndOneMadeLater() async throws {
        let gates = GatewayGates()
        let service = ClusterService(
            id: "asr", kind: .asr, node: "n", baseURL: "http://127.0.0.1:1", health: .defaults,
            limits: AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 60_000))
        let gate = try #require(gates.gates(for: Upstream(service: service)).first)
        _ = try await gate.acquire()
        let waiter = Task { try await gate.acquire() }
        #expect(await TestSupport.eventually(timeout: .seconds(10)) { gate.queued == 1 })
        gates.apply(AdmissionLimits(maxInFlight: 2, queueDepth: 9, queueTimeoutMs: 60_000), to: "asr")
        _ = try await waiter.value
        #expect(gate.inFlight == 2)
        #expect(gate.limits.queueDepth == 9)
        #expect(gates.limits(of: "asr", configured: service.limits).maxInFlight == 2)
        let other = ClusterService(
            id: "tts", kind: .tts, node: "n", baseURL: "http://127.0.0.1:2", health: .defaults,
            limits: AdmissionLimits(maxInFlight: 1, queueDepth: 1, queueTimeoutMs: 1))
        gates.apply(AdmissionLimits(maxInFlight: 5, queueDepth: 5, queueTimeoutMs: 1000), to: "tts")
        #expect(gates.gates(for: Upstream(service: other)).first?.limits.maxInFlight == 5)
    }
}

@Suite("Inventory limits edit (pure)")
struct InventoryLimitsEditTests {
    static let inventory = """
        # The owner's notes stay.
        nodes:
          - id: spark-1
            host: <spark-1-ip>
            transport: local
        admission_groups:
          audio: { max_in_flight: 3, queue: 16 }   # measured in March
        services:
          - id: asr
            kind: asr
            node: spark-1
            port: 8001
            limits: { group: audio, max_in_flight: 2, queue_timeout_ms: 60000 }
          - id: tts
            kind: tts
            node: spark-1
            port: 8002
          - id: embeddings
            kind: embeddings
            node: spark-1
            port: 8003
            limits:
              max_in_flight: 8
              queue: 64
            api: { model: BAAI/bge-m3 }
        """

    func lines(_ text: String) -> [String] { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    @Test func aFlowLimitKeepsItsOtherKeysAndNothingElseChanges() throws {
        let edited = try InventoryLimitsEdit.apply(maxInFlight: 3, queue: 75, to: .service("asr"), in: Self.inventory)
        let changed = zip(lines(Self.inventory), lines(edited)).filter { $0 != $1 }
        #expect(changed.count == 1)
        #expect(changed.first?.1 == "    limits: { group: audio, max_in_flight: 3, queue_timeout_ms: 60000, queue: 75 }")
    }

    @Test func aServiceWithoutLimitsGetsThemOnTheLineAfterItsID() throws {
        let edited = try InventoryLimitsEdit.apply(maxInFlight: 2, queue: 40, to: .service("tts"), in: Self.inventory)
        #expect(lines(edited).count == lines(Self.inventory).count + 1)
        let at = try #require(lines(edited).firstIndex(of: "  - id: tts"))
        #expect(lines(edited)[at + 1] == "    limits: { max_in_flight: 2, queue: 40 }")
        let inventory = try InventoryLoader.parse(edited.replacingOccurrences(of: "<spark-1-ip>", with: "127.0.0.1"), file: "t.yaml")
        #expect(inventory.service("tts")?.limits.maxInFlight == 2)
        #expect(inventory.service("tts")?.limits.queueDepth == 40)
    }

    @Test func aBlockLimitBecomesOneFlowLineAndTheNextKeyStays() throws {
        let edited = try InventoryLimitsEdit.apply(maxInFlight: 4, queue: 100, to: .service("embeddings"), in: Self.inventory)
        #expect(edited.contains("    limits: { max_in_flight: 4, queue: 100 }\n    api: { model: BAAI/bge-m3 }"))
        #expect(!edited.contains("queue: 64"))
    }

    @Test func aGroupEntryKeepsItsComment() throws {
        let edited = try InventoryLimitsEdit.apply(maxInFlight: 2, queue: 75, to: .group("audio"), in: Self.inventory)
        #expect(edited.contains("  audio: { max_in_flight: 2, queue: 75 }   # measured in March"))
        #expect(edited.hasPrefix("# The owner's notes stay.\n"))
    }

    @Test func anUnknownTargetOrAFlowServiceIsRefused() {
        #expect(throws: InventoryLimitsEdit.Failure.self) {
            try InventoryLimitsEdit.apply(maxInFlight: 1, queue: 1, to: .service("nope"), in: Self.inventory)
        }
        #expect(throws: InventoryLimitsEdit.Failure.self) {
            try InventoryLimitsEdit.apply(maxInFlight: 1, queue: 1, to: .group("video"), in: Self.inventory)
        }
        let flow = "services:\n  - { id: asr, kind: asr, node: n, port: 1 }\n"
        #expect(throws: InventoryLimitsEdit.Failure.self) {
            try InventoryLimitsEdit.apply(maxInFlight: 1, queue: 1, to: .service("asr"), in: flow)
        }
    }
}
