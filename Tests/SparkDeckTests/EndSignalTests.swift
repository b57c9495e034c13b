import Prometheus
import Synchronization
import Testing

@testable import SparkDeck

@Suite("End signal")
struct EndSignalTests {
    struct Gone: Error {}
    static let gone: @Sendable () -> any Error = { Gone() }

    @Test func aWaitBegunBeforeARaiseEndsWithIt() async throws {
        let signal = EndSignal()
        let epoch = signal.epoch(of: "vllm")
        async let waited: Void = signal.wait(for: "vllm", after: epoch)
        #expect(await TestSupport.eventually(timeout: .seconds(20)) { signal.waiting == 1 }, "the wait parks")
        signal.raise("asr")
        #expect(signal.waiting == 1, "another key's raise ends nothing")
        signal.raise("vllm")
        await waited
        #expect(signal.waiting == 0)
        #expect(signal.epoch(of: "vllm") == epoch + 1)
    }

    @Test func aWaitBegunAfterARaiseItMissedEndsAtOnce() async {
        let signal = EndSignal()
        let epoch = signal.epoch(of: "vllm")
        signal.raise("vllm")
        await signal.wait(for: "vllm", after: epoch)
        #expect(signal.waiting == 0)
    }

    @Test func aCancelledWaitLeavesNothingBehindWhetherItParkedOrNot() async {
        let signal = EndSignal()
        let parked = Task { await signal.wait(for: "vllm", after: 0) }
        #expect(await TestSupport.eventually(timeout: .seconds(20)) { signal.waiting == 1 })
        parked.cancel()
        await parked.value
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait(for: "vllm", after: 0)
        }
        await early.value
        #expect(signal.waiting == 0, "neither a parked nor an already-cancelled wait stays registered")
    }

    @Test func theOperationsOutcomeWinsUnlessTheKeyIsRaisedFirst() async throws {
        let signal = EndSignal()
        let value = try await signal.unlessRaised("vllm", after: 0, else: Self.gone) { 42 }
        #expect(value == 42)
        #expect(signal.waiting == 0, "the watcher is gone once the operation answered")

        struct Failed: Error {}
        await #expect(throws: Failed.self) {
            try await signal.unlessRaised("vllm", after: 0, else: Self.gone) { () async throws -> Int in throw Failed() }
        }

        let started = Atomic<Bool>(false)
        let cancelled = Atomic<Bool>(false)
        let call = Task {
            try await signal.unlessRaised("vllm", after: signal.epoch(of: "vllm"), else: Self.gone) { () async throws -> Int in
                started.store(true, ordering: .relaxed)
                do {
                    try await Task.sleep(for: .seconds(600))
                } catch {
                    cancelled.store(true, ordering: .relaxed)
                    throw error
                }
                return 1
            }
        }
        #expect(await TestSupport.eventually(timeout: .seconds(20)) { started.load(ordering: .relaxed) && signal.waiting == 1 })
        signal.raise("vllm")
        await #expect(throws: Gone.self) { try await call.value }
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled, "the operation was cancelled, not left running")
        #expect(signal.waiting == 0)
    }

    @Test func callsInFlightAreEndedOnlyOnceAServiceHasStayedDownLongEnough() async throws {
        let inventory = TestSupport.inventory(services: [("tts", .tts, 9)], grace: 0)
        let board = try StatusBoard(
            inventory: inventory, log: ConnectivityLog(store: try Store(dataDirectory: try TestSupport.temporaryDirectory())),
            events: EventBroadcaster(), metrics: HealthMetrics(registry: PrometheusCollectorRegistry()), demo: false,
            logger: TestSupport.logger, startedAt: 0, inFlightCutAfter: 5)
        let tts = StatusBoard.Key(kind: .service, id: "tts")
        let start = Timestamp.now()
        // (seconds after start, the probe's verdict) → outages raised so far.
        let steps: [(Double, Observation.Verdict, UInt64)] = [
            (0, .ready, 0),
            (1, .failed, 0), (3, .failed, 0), // a 3 s stall: no cut
            (4, .ready, 0),
            (10, .failed, 0), (14, .failed, 0), (16, .failed, 1), // down for 6 s: cut once
            (20, .failed, 1), // and only once per outage
            (21, .ready, 1), (22, .failed, 1), (28, .failed, 2),
        ]
        for (offset, verdict, raised) in steps {
            let at = start + offset
            await board.record(tts, Observation(verdict: verdict, latencyMs: verdict == .ready ? 1 : nil, sentAt: at, finishedAt: at))
            #expect(board.outages.epoch(of: "tts") == raised, "after the probe at +\(offset) s")
        }
    }
}
