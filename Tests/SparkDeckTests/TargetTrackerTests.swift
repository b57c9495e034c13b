import Prometheus
import Testing

@testable import SparkDeck

@Suite("Target tracker (pure state machine)")
struct TargetTrackerTests {
    func observe(_ verdict: Observation.Verdict, at sent: Double, latency: Double? = 5, cause: String? = nil) -> Observation {
        Observation(verdict: verdict, latencyMs: latency, cause: cause, sentAt: sent, finishedAt: sent + (latency ?? 500) / 1000)
    }

    @Test func refusedDuringStartupGraceIsLoadingThenUp() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        let first = tracker.apply(observe(.refused, at: 0.1, latency: nil, cause: "connection refused"))
        #expect(first?.to == .loading)
        #expect(first?.outage == nil, "a service starting up is not an outage")
        #expect(tracker.apply(observe(.refused, at: 0.4, latency: nil)) == nil)
        let up = tracker.apply(observe(.ready, at: 5))
        #expect(up?.from == .loading && up?.to == .up && up?.outage == nil)
    }

    @Test func refusedAfterGraceOrAfterServingIsDown() {
        var late = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        #expect(late.apply(observe(.refused, at: 31, latency: nil))?.to == .down)

        var served = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        _ = served.apply(observe(.ready, at: 1))
        let down = served.apply(observe(.refused, at: 2, latency: nil, cause: "connection refused"))
        #expect(down?.to == .down)
        #expect(down?.outage == .started)
        #expect(down?.cause == "connection refused")
    }

    @Test func hungServiceOutageSpansFirstFailedSendToFirstAnswer() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        _ = tracker.apply(observe(.loading, at: 0.2, cause: "model loading"))
        _ = tracker.apply(observe(.ready, at: 1))
        let down = tracker.apply(observe(.failed, at: 10.25, latency: nil, cause: "no answer within 500 ms"))
        #expect(down == .init(from: .up, to: .down, at: 10.25, cause: "no answer within 500 ms", outage: .started))
        #expect(tracker.apply(observe(.failed, at: 10.8, latency: nil)) == nil, "still down: no new transition")
        // The answer to a probe sent during the hang arrives when the service resumes.
        let back = tracker.apply(Observation(verdict: .ready, latencyMs: 400, sentAt: 11.35, finishedAt: 11.75))
        #expect(back?.to == .up)
        #expect(back?.at == 11.75)
        #expect(back?.outage == .ended(startedAt: 10.25))
        #expect(tracker.outageStartedAt == nil)
    }

    @Test func killedServiceComingBackThroughLoadingIsOneOutage() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        _ = tracker.apply(observe(.ready, at: 1))
        #expect(tracker.apply(observe(.refused, at: 50, latency: nil))?.outage == .started)
        let loading = tracker.apply(observe(.loading, at: 52))
        #expect(loading?.to == .loading)
        #expect(loading?.outage == nil, "loading after down continues the same outage")
        #expect(tracker.apply(observe(.ready, at: 54))?.outage == .ended(startedAt: 50))
    }

    @Test func upToLoadingIsAnOutage() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        _ = tracker.apply(observe(.ready, at: 1))
        #expect(tracker.apply(observe(.loading, at: 2))?.outage == .started)
    }

    @Test func threeSlowAnswersInARowAreDegradedOneIsNot() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        _ = tracker.apply(observe(.ready, at: 1))
        #expect(tracker.apply(observe(.ready, at: 2, latency: 450)) == nil)
        #expect(tracker.apply(observe(.ready, at: 3, latency: 20)) == nil)
        #expect(tracker.apply(observe(.ready, at: 4, latency: 450)) == nil)
        #expect(tracker.apply(observe(.ready, at: 5, latency: 450)) == nil)
        let degraded = tracker.apply(observe(.ready, at: 6, latency: 460))
        #expect(degraded?.to == .degraded)
        #expect(degraded?.outage == nil, "slow is not an outage")
        #expect(tracker.lastError?.contains("460 ms") == true)
        #expect(tracker.apply(observe(.ready, at: 7, latency: 10))?.to == .up)
        #expect(tracker.lastError == nil)
    }

    @Test func outageLeftOpenByAPreviousRunEndsOnFirstGoodAnswer() {
        var tracker = TargetTracker(startedAt: 100, startupGraceSeconds: 30, degradedMs: 300, openOutageStartedAt: 40)
        let up = tracker.apply(observe(.ready, at: 100.1))
        #expect(up?.outage == .ended(startedAt: 40))
    }

    @Test func duringMaintenanceNotAnsweringIsLoadingAndNoOutage() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 0, degradedMs: 300)
        _ = tracker.apply(observe(.ready, at: 1))
        tracker.maintenance = true
        let stopping = tracker.apply(observe(.refused, at: 100, latency: nil, cause: "connection refused"))
        #expect(stopping?.to == .loading)
        #expect(stopping?.outage == nil)
        #expect(tracker.apply(observe(.failed, at: 101, latency: nil)) == nil)
        tracker.maintenance = false
        #expect(tracker.apply(observe(.ready, at: 130))?.outage == nil)
        #expect(tracker.apply(observe(.refused, at: 200, latency: nil))?.outage == .started, "after the swap, an outage again")
    }

    @Test func downAtStartIsAnOutage() {
        var tracker = TargetTracker(startedAt: 0, startupGraceSeconds: 30, degradedMs: 300)
        #expect(tracker.apply(observe(.failed, at: 0.1, latency: nil, cause: "HTTP 500 from health check"))?.outage == .started)
    }
}

@Suite("Readiness rules")
struct ReadinessRuleTests {
    @Test func asrLoadingIsLoadingNotUp() {
        #expect(ReadinessRule.verdict(kind: .asr, answer: .http(status: 200, body: #"{"status":"loading","model":"m"}"#)).0 == .loading)
        #expect(ReadinessRule.verdict(kind: .asr, answer: .http(status: 200, body: #"{"status":"ready"}"#)).0 == .ready)
        #expect(
            ReadinessRule.verdict(kind: .asr, answer: .http(status: 200, body: #"{"status":"ok"}"#)).0 == .ready,
            "faster-whisper-server's answer once it serves")
        #expect(ReadinessRule.verdict(kind: .asr, answer: .http(status: 503, body: "")).0 == .loading)
        let odd = ReadinessRule.verdict(kind: .asr, answer: .http(status: 200, body: "<html>"))
        #expect(odd.0 == .failed && odd.1 == "health status missing")
    }

    @Test func vllm503IsADeadEngine() {
        let verdict = ReadinessRule.verdict(kind: .vllm, answer: .http(status: 503, body: ""))
        #expect(verdict.0 == .failed)
        #expect(verdict.1?.contains("engine not healthy") == true)
        #expect(ReadinessRule.verdict(kind: .vllm, answer: .http(status: 200, body: "")).0 == .ready)
    }

    @Test func transportFailures() {
        #expect(ReadinessRule.verdict(kind: .tts, answer: .refused("connection refused")).0 == .refused)
        #expect(ReadinessRule.verdict(kind: .tts, answer: .timedOut(afterMs: 500)) == (.failed, "no answer within 500 ms"))
        #expect(ReadinessRule.verdict(kind: .qdrant, answer: .http(status: 500, body: "")) == (.failed, "HTTP 500 from health check"))
        #expect(ReadinessRule.verdict(kind: .qdrant, answer: .broken("connection reset")) == (.failed, "connection reset"))
    }
}

@Suite("HTTP answer parser")
struct HTTPAnswerParserTests {
    func parse(_ text: String) throws -> (ProbeAnswer, Bool) {
        var parser = HTTPAnswerParser()
        parser.append(.init(string: text))
        return (try parser.answer(), parser.isComplete)
    }

    @Test func contentLengthBody() throws {
        let (answer, complete) = try parse("HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}")
        #expect(answer == .http(status: 200, body: #"{"status":"ok"}"#))
        #expect(complete)
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"sta").1 == false)
    }

    @Test func chunkedBody() throws {
        let (answer, complete) = try parse(
            "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n")
        #expect(answer == .http(status: 503, body: #"{"a":1}"#))
        #expect(complete)
    }

    @Test func notHTTP() {
        #expect(throws: HTTPAnswerParser.Malformed.self) { try parse("SSH-2.0-OpenSSH_9.2\r\n") }
    }
}

@Suite("Status board signals")
struct StatusBoardSignalTests {
    func board(traffic: TrafficClock) throws -> StatusBoard {
        let store = try Store(dataDirectory: try TestSupport.temporaryDirectory())
        return try StatusBoard(
            inventory: TestSupport.inventory(services: [("vllm", .vllm, 9)]), log: ConnectivityLog(store: store),
            events: EventBroadcaster(), metrics: HealthMetrics(registry: PrometheusCollectorRegistry()),
            demo: false, logger: TestSupport.logger, traffic: traffic)
    }

    @Test func aProbeTimeoutWhileTheGatewayReceivesBytesIsBusyNotDown() async throws {
        let traffic = TrafficClock()
        let board = try board(traffic: traffic)
        let key = StatusBoard.Key(kind: .service, id: "vllm")
        await board.record(key, Observation(verdict: .ready, latencyMs: 2, sentAt: 100, finishedAt: 100.002))
        traffic.noteBytes(from: "vllm", at: 200.2)
        await board.record(key, Observation(verdict: .failed, cause: "no answer within 500 ms", sentAt: 200, finishedAt: 200.5))
        #expect(await board.state(of: key) == .up, "bytes flowed during the probe: the service is alive")
        await board.record(key, Observation(verdict: .failed, cause: "no answer within 500 ms", sentAt: 300, finishedAt: 300.5))
        #expect(await board.state(of: key) == .down, "no bytes during this probe: down")
    }

    @Test func theLastModelListSurvivesAnOutageButIsNotShownWhileDown() async throws {
        let board = try board(traffic: TrafficClock())
        let key = StatusBoard.Key(kind: .service, id: "vllm")
        await board.record(key, Observation(verdict: .ready, latencyMs: 2, sentAt: 1, finishedAt: 1.002))
        await board.setServedModels(["org/model"])
        await board.record(key, Observation(verdict: .refused, cause: "connection refused", sentAt: 50, finishedAt: 50.001))
        #expect(await board.servedModelNames() == ["org/model"])
        guard case .object(let status) = await board.statusDocument() else {
            Issue.record("no status")
            return
        }
        #expect(status["loaded_model"] == .null)
    }
}
