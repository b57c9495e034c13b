import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

@Suite("Per-app activity")
struct ActivityTests {
    @Test func errorsAreCountedByWhatWentWrong() {
        #expect(RequestOutcome(status: 200, durationMs: 1).errorKind == nil)
        #expect(RequestOutcome(status: 404, errorType: "invalid_request_error", durationMs: 1).errorKind == .client)
        #expect(RequestOutcome(status: 503, errorType: "overloaded", errorCode: "queue_full", durationMs: 1).errorKind == .overloaded)
        #expect(RequestOutcome(status: 503, errorType: "server_error", errorCode: "model_swapping", durationMs: 1).errorKind == .swapping)
        #expect(RequestOutcome(status: 503, errorType: "server_error", errorCode: "upstream_down", durationMs: 1).errorKind == .upstream)
        #expect(RequestOutcome(status: 599, durationMs: 1).errorKind == .upstream, "an answer that broke off")
    }

    @Test func latencyQuantilesComeFromTheBuckets() {
        var counts = ActivityCounts()
        #expect(counts.latencyQuantileMs(0.5) == nil)
        for _ in 0..<90 { counts.add(RequestOutcome(status: 200, durationMs: 3)) }
        for _ in 0..<10 { counts.add(RequestOutcome(status: 200, durationMs: 1_500)) }
        #expect(counts.latencyQuantileMs(0.5) == 5, "3 ms falls in the bucket up to 5 ms")
        #expect(counts.latencyQuantileMs(0.95) == 2_000)
        counts.add(RequestOutcome(status: 200, durationMs: 1_000_000))
        #expect(counts.latencyQuantileMs(1) == ActivityCounts.latencyBoundsMs.last, "past the last bound: the last bound")

        var other = ActivityCounts()
        other.add(RequestOutcome(status: 503, errorType: "overloaded", durationMs: 1, queueMs: 40))
        other.tokensIn = 7
        counts.add(other)
        #expect(counts.requests == 102)
        #expect(counts.errors(.overloaded) == 1 && counts.errorTotal == 1)
        #expect(counts.queueMs == 40 && counts.tokensIn == 7)
        #expect(ActivityCounts.latency(from: counts.latencyText) == counts.latency)
    }

    @Test func theLogKeepsTheLastRequestsNewestFirstAndFilters() {
        let apps = AppActivity(store: nil)
        let a = RequestApp(name: "notes", isKey: true)
        let b = RequestApp(name: "calls", isKey: true)
        for index in 0..<(AppActivity.logCapacity + 10) {
            apps.record(
                app: index % 2 == 0 ? a : b, route: index % 3 == 0 ? "chat" : "speech", upstream: "x",
                outcome: RequestOutcome(status: index == AppActivity.logCapacity + 9 ? 503 : 200, durationMs: Double(index)),
                at: 1_000 + Double(index))
        }
        let all = apps.log(limit: AppActivity.logCapacity)
        #expect(all.count == AppActivity.logCapacity, "bounded")
        #expect(all.first?.durationMs == Double(AppActivity.logCapacity + 9), "newest first")
        #expect(all.last?.durationMs == 10, "the oldest ten are gone")
        #expect(apps.log(app: "notes", limit: 50).allSatisfy { $0.app == "notes" })
        #expect(apps.log(route: "chat", limit: 50).allSatisfy { $0.route == "chat" })
        #expect(apps.log(errorsOnly: true).map(\.status) == [503])
    }

    @Test func countsSavedAtShutdownAreThereAfterARestart() async throws {
        let data = try TestSupport.temporaryDirectory()
        let now = Timestamp.now()
        do {
            let apps = AppActivity(store: ActivityStore(store: try Store(dataDirectory: data)))
            let app = RequestApp(name: "notes", isKey: true)
            apps.record(app: app, route: "chat", upstream: "vllm", outcome: RequestOutcome(status: 200, durationMs: 12), at: now - 120)
            apps.record(app: app, route: "chat", upstream: "vllm", outcome: RequestOutcome(status: 200, durationMs: 30), at: now)
            apps.add(app: app, route: "chat", upstream: "vllm", at: now) {
                $0.tokensIn += 5
                $0.tokensOut += 9
                $0.documents += 3
            }
            try await apps.flush(now: now)
            #expect(apps.unsavedCounts(since: 0).count == 1, "the running minute stays in memory")
            try await apps.flush(everything: true, now: now)
            #expect(apps.unsavedCounts(since: 0).isEmpty)
        }
        // A new process on the same data folder, which then counts more of the same minute.
        let apps = AppActivity(store: ActivityStore(store: try Store(dataDirectory: data)))
        apps.record(
            app: RequestApp(name: "notes", isKey: true), route: "chat", upstream: "vllm",
            outcome: RequestOutcome(status: 503, errorType: "overloaded", durationMs: 1), at: now)
        try await apps.flush(everything: true, now: now)
        let (groups, perMinute) = try await apps.summary(minutes: 10, byRoute: false, now: now)
        let notes = try #require(groups[ActivityKey(minute: 0, app: "notes", route: "", upstream: "")])
        #expect(notes.requests == 3)
        #expect(notes.errors(.overloaded) == 1)
        #expect(notes.tokensIn == 5 && notes.tokensOut == 9)
        #expect(notes.documents == 3)
        #expect(perMinute.values.map(\.requests).sorted() == [1, 2])
        let (recent, _) = try await apps.summary(minutes: 1, byRoute: false, now: now)
        #expect(recent.values.map(\.requests) == [2], "only the last minute")
    }

    @Test func aSummaryDuringFlushesCountsEveryRequestOnce() async throws {
        let apps = AppActivity(store: ActivityStore(store: try Store(dataDirectory: try TestSupport.temporaryDirectory())))
        let now = Timestamp.now()
        let app = RequestApp(name: "notes", isKey: true)
        var recorded = 0
        // Rounds of requests in minutes that are over, each flushed while summaries read: a summary that reads the
        // store and then the memory, with a flush moving counts in between, would miss or double them.
        for round in 0..<20 {
            for index in 0..<25 {
                apps.record(
                    app: app, route: "chat", upstream: "vllm", outcome: RequestOutcome(status: 200, durationMs: 5),
                    at: now - Double(60 * (index % 5 + 1) + round))
                recorded += 1
            }
            let expected = recorded
            try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    try await apps.flush(now: now)
                    return nil
                }
                for _ in 0..<4 {
                    group.addTask {
                        try await apps.summary(minutes: 30, byRoute: false, now: now).groups.values.map(\.requests).reduce(0, +)
                    }
                }
                for try await total in group {
                    if let total { #expect(total == expected, "round \(round)") }
                }
            }
        }
    }

    @Test func requestsFromTwoKeysAreCountedToTheirApps() async throws {
        try await GatewayTests.fakeUpstream().test(.live) { upstream in
            let dependencies = try await TestSupport.dependencies(
                services: [("vllm", .vllm, try #require(upstream.port))], serving: ["vllm"])
            await dependencies.board.setServedModels(["fake/model"])
            let (notesKey, _) = try await dependencies.keys.create(name: "meeting-notes", scopes: [.chat])
            let (callsKey, _) = try await dependencies.keys.create(name: "call-recaps", scopes: [.chat])
            let app = Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.router) { client in
                func chat(_ key: String, _ content: String, model: String = "fake/model") async throws -> HTTPResponse.Status {
                    try await client.execute(
                        uri: "/v1/chat/completions", method: .post,
                        headers: [.contentType: "application/json", .authorization: "Bearer \(key)"],
                        body: GatewayTests.chat(content, model: model)
                    ) { $0.status }
                }
                #expect(try await chat(notesKey, "hello") == .ok)
                #expect(try await chat(notesKey, "slow") == .ok)
                #expect(try await chat(notesKey, "x", model: "not/loaded") == .notFound)
                #expect(try await chat(callsKey, "hello") == .ok)
                // Answers are counted when their last byte is out.
                #expect(await TestSupport.eventually(timeout: .seconds(10)) { dependencies.apps.log(limit: 10).count == 4 })

                let log = dependencies.apps.log(limit: 10)
                #expect(log.map(\.app) == ["call-recaps", "meeting-notes", "meeting-notes", "meeting-notes"])
                #expect(log.map(\.status) == [200, 404, 200, 200])

                try await client.execute(uri: "/api/activity?by=route", method: .get) { response in
                    #expect(response.status == .ok)
                    let object = try APITests.json(response.body)
                    let groups = try #require(object["groups"] as? [[String: Any]])
                    let notes = try #require(groups.first { $0["app"] as? String == "meeting-notes" })
                    #expect(notes["requests"] as? Int == 3)
                    #expect(notes["route"] as? String == "chat" && notes["upstream"] as? String == "vllm")
                    #expect((notes["errors"] as? [String: Int])?["client"] == 1)
                    #expect(notes["tokens_in"] as? Int == 3 && notes["tokens_out"] as? Int == 4, "from the slow answer's usage")
                    let calls = try #require(groups.first { $0["app"] as? String == "call-recaps" })
                    #expect(calls["requests"] as? Int == 1)
                    #expect((object["per_minute"] as? [[String: Any]])?.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == 4)
                }
                try await client.execute(uri: "/api/activity/log?app=call-recaps", method: .get) { response in
                    let entries = try #require(try APITests.json(response.body)["requests"] as? [[String: Any]])
                    #expect(entries.count == 1)
                    #expect(entries.first?["route"] as? String == "chat")
                    #expect(entries.first?["status"] as? Int == 200)
                }
                try await client.execute(uri: "/api/activity?minutes=0", method: .get) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains(#""param":"minutes""#))
                }
                try await client.execute(uri: "/metrics", method: .get) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains(#"app="meeting-notes""#) && text.contains(#"app="call-recaps""#), "\(text)")
                }
            }
        }
    }

    @Test func scrubAndRehydrateAreCountedToTheirAppToo() async throws {
        let dependencies = try APITests.dependencies()
        let (key, _) = try await dependencies.keys.create(name: "notes-app", scopes: [.redaction])
        try await APITests.app(dependencies).test(.router) { client in
            let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(key)"]
            try await client.execute(
                uri: "/scrub", method: .post, headers: headers, body: ByteBuffer(string: #"{"text":"Call Maria Gonzalez."}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(
                uri: "/rehydrate", method: .post, headers: headers,
                body: ByteBuffer(string: #"{"text":"x","session_id":"no-such-session-0000"}"#)
            ) { #expect($0.status == .notFound) }
        }
        let log = dependencies.apps.log(limit: 10)
        #expect(log.map(\.route) == ["rehydrate", "scrub"])
        #expect(log.map(\.status) == [404, 200])
        #expect(log.allSatisfy { $0.app == "notes-app" && $0.upstream == "local" })
    }

    @Test func whileTheAPIIsOpenRequestsBelongToTheClientAddressButMetricsSayOpen() async throws {
        let dependencies = try APITests.dependencies()
        try await APITests.app(dependencies).test(.router) { client in
            try await client.execute(
                uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"], body: GatewayTests.chat("hi")
            ) {
                #expect($0.status.code >= 400)
            }
        }
        let entry = try #require(dependencies.apps.log(limit: 1).first)
        #expect(entry.app == "unknown" || entry.app.contains("."), "the client's address (a test router has none): \(entry.app)")
        var text: [UInt8] = []
        dependencies.registry.emit(into: &text)
        #expect(String(decoding: text, as: UTF8.self).contains(#"app="open""#))
    }
}

@Suite("Client guidance")
struct GuidanceTests {
    @Test func guidanceGivesTheLimitsInForcePerEndpoint() async throws {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9), ("asr", .asr, 9)])
        inventory.services[0].limits = .defaults(for: .vllm)
        inventory.services[0].limitsOrigin = .kindDefault
        inventory.services[1].limits = AdmissionLimits(maxInFlight: 2, queueDepth: 8, queueTimeoutMs: 60_000)
        inventory.services[1].admissionGroup = AdmissionGroup(
            name: "audio", limits: AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 1_000))
        let answer = GuidanceController(inventory: inventory, gates: GatewayGates()).guidance()
        let chat = try #require(answer.endpoints.first { $0.route == "POST /v1/chat/completions" })
        #expect(chat.recommendedConcurrency == AdmissionLimits.vllmDefaultMaxNumSeqs && chat.limitsFrom == "kind_default")
        let transcriptions = try #require(answer.endpoints.first { $0.route == "POST /v1/audio/transcriptions" })
        #expect(transcriptions.maxInFlight == 2 && transcriptions.group == "audio")
        #expect(transcriptions.recommendedConcurrency == 1, "the group's cap is the tighter one")
        #expect(!answer.endpoints.contains { $0.kind == "tts" }, "no tts service, no tts endpoint")
    }
}
