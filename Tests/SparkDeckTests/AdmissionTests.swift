import Testing

@testable import SparkDeck

@Suite("Admission queue (pure)")
struct AdmissionQueueTests {
    @Test func admitsUpToTheCapThenQueuesInOrderThenRejects() {
        var queue = AdmissionQueue<Int>(maxInFlight: 2, maxQueued: 2)
        let decisions = (1...5).map { queue.arrive($0) }
        #expect(decisions == [.admit, .admit, .wait(position: 1), .wait(position: 2), .reject])
        let next = queue.leave()
        #expect(next == 3, "first in, first out")
        #expect(queue.inFlight == 2, "the slot passed on")
        let abandoned = queue.abandon(4)
        let again = queue.abandon(4)
        #expect(abandoned && !again)
        let none = queue.leave()
        #expect(none == nil)
        #expect(queue.inFlight == 1)
        let late = queue.arrive(6)
        #expect(late == .admit)
    }

    @Test func nobodyJumpsTheQueue() {
        var queue = AdmissionQueue<Int>(maxInFlight: 1, maxQueued: 5)
        let first = [queue.arrive(1), queue.arrive(2)]
        #expect(first == [.admit, .wait(position: 1)])
        _ = queue.leave()
        // 2 now holds the slot; a newcomer waits even though 2 was just admitted.
        let newcomer = queue.arrive(3)
        #expect(newcomer == .wait(position: 1))
    }
}

@Suite("Admission gate")
struct AdmissionGateTests {
    @Test func onePlusTheCapWaitsThenTheQueueFillsThenRejects() async throws {
        let gate = AdmissionGate(name: "llm", limits: AdmissionLimits(maxInFlight: 2, queueDepth: 1, queueTimeoutMs: 5000))
        #expect(try await gate.acquire() == .zero)
        #expect(try await gate.acquire() == .zero)
        let waiter = Task { try await gate.acquire() }
        #expect(await TestSupport.eventually(timeout: .seconds(2)) { gate.queued == 1 })
        do {
            _ = try await gate.acquire()
            Issue.record("admitted past a full queue")
        } catch {
            #expect(error.reason == .queueFull)
            #expect(error.retryAfterSeconds >= 1)
        }
        try await Task.sleep(for: .milliseconds(100))
        gate.release(held: .milliseconds(100))
        let waited = try await waiter.value
        #expect(waited >= .milliseconds(90))
        #expect(gate.inFlight == 2)
    }

    @Test func aWaiterGivesUpAfterTheQueueTimeout() async {
        let gate = AdmissionGate(name: "llm", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 150))
        _ = try? await gate.acquire()
        do {
            _ = try await gate.acquire()
            Issue.record("admitted while the only slot was held")
        } catch {
            #expect(error.reason == .queueTimeout, "only the queue's timer gives this reason")
        }
        #expect(gate.queued == 0, "the timed-out waiter left the queue")
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        let gate = AdmissionGate(name: "llm", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 60_000))
        _ = try await gate.acquire()
        let waiter = Task { try await gate.acquire() }
        #expect(await TestSupport.eventually(timeout: .seconds(2)) { gate.queued == 1 })
        waiter.cancel()
        #expect(await TestSupport.eventually(timeout: .seconds(2)) { gate.queued == 0 })
    }
}
