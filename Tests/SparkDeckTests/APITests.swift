import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

@Suite("HTTP API")
struct APITests {
    static func dependencies() throws -> AppDependencies {
        let inventory = TestSupport.inventory(services: [("vllm", .vllm, 9), ("asr", .asr, 9)])
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: try TestSupport.temporaryDirectory(),
            inventory: inventory, demo: true)
        let dependencies = try AppDependencies(configuration: configuration, logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        return dependencies
    }

    static func app(_ dependencies: AppDependencies) -> some ApplicationProtocol {
        Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    @Test func theDataFolderAndTheStoreAreTheOwnersAlone() throws {
        let data = try TestSupport.temporaryDirectory() + "/fresh"
        _ = try Store(dataDirectory: data)
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        #expect(try mode(data) == 0o700)
        for file in ["sparkdeck.sqlite", "sparkdeck.sqlite-wal", "sparkdeck.sqlite-shm"]
        where FileManager.default.fileExists(atPath: data + "/" + file) {
            #expect(try mode(data + "/" + file) == 0o600, "\(file)")
        }
        // A folder an older version made readable to everyone is closed on the next start.
        let old = try TestSupport.temporaryDirectory() + "/old"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: old + "/sparkdeck.sqlite", contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try Store(dataDirectory: old)
        #expect(try mode(old) == 0o700)
        #expect(try mode(old + "/sparkdeck.sqlite") == 0o600)
    }

    @Test func livenessVersionAndReadiness() async throws {
        try await Self.app(try Self.dependencies()).test(.router) { client in
            let first = try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response.body)
                #expect(body["status"] as? String == "ok")
                return response.headers[.init("X-Request-Id")!]
            }
            let second = try await client.execute(uri: "/healthz", method: .get) { $0.headers[.init("X-Request-Id")!] }
            #expect(first?.isEmpty == false)
            #expect(first != second, "every response gets its own request id")
            let echoed = try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "trace-42"]) {
                $0.headers[.init("X-Request-Id")!]
            }
            #expect(echoed == "trace-42", "a client's own sane id comes back")
            try await client.execute(uri: "/api/version", method: .get) { response in
                let body = try Self.json(response.body)
                #expect(body["version"] as? String == SparkDeckVersion.version)
                #expect(body["package_version"] as? String == "\(SparkDeckVersion.version):\(SparkDeckVersion.packageRevision)")
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let upstreams = try Self.json(response.body)["upstreams"] as? [String: String]
                #expect(upstreams == ["vllm": "unknown", "asr": "unknown"])
            }
        }
    }

    @Test func statusListsNodesAndServices() async throws {
        try await Self.app(try Self.dependencies()).test(.router) { client in
            try await client.execute(uri: "/api/status", method: .get) { response in
                let body = try Self.json(response.body)
                #expect(body["demo"] as? Bool == true)
                let services = try #require(body["services"] as? [[String: Any]])
                #expect(services.map { $0["id"] as? String } == ["vllm", "asr"])
                #expect(services.allSatisfy { $0["state"] as? String == "unknown" })
                let nodes = try #require(body["nodes"] as? [[String: Any]])
                #expect(nodes.first?["services"] as? [String] == ["vllm", "asr"])
                #expect(body["loaded_model"] is NSNull)
            }
        }
    }

    @Test func metricsShowTheGatewaysQueueAsItIsWhenScraped() async throws {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)])
        inventory.services[0].limits = AdmissionLimits(maxInFlight: 1, queueDepth: 4, queueTimeoutMs: 10_000)
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: try TestSupport.temporaryDirectory(),
            inventory: inventory, demo: true)
        let dependencies = try AppDependencies(configuration: configuration, logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        let gate = try #require(dependencies.gates.gates(for: Upstream(service: inventory.services[0])).first)
        _ = try await gate.enter()
        let waiting = Task { try await gate.enter() }
        #expect(await TestSupport.eventually(timeout: .seconds(2)) { gate.queued == 1 })
        @Sendable func sample(_ name: String, in text: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix("sparkdeck_gateway_\(name)") && $0.contains(#"gate="vllm""#) }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        }
        try await APITests.app(dependencies).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(sample("in_flight", in: text) == 1, "\(text)")
                #expect(sample("queue_depth", in: text) == 1, "a request waiting for a slot shows while it waits")
            }
            gate.release()
            _ = try await waiting.value
            gate.release()
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(sample("in_flight", in: text) == 0)
                #expect(sample("queue_depth", in: text) == 0)
            }
        }
    }

    @Test func connectivityValidatesItsQuery() async throws {
        try await Self.app(try Self.dependencies()).test(.router) { client in
            try await client.execute(uri: "/api/connectivity?since=yesterday", method: .get) { response in
                #expect(response.status == .badRequest)
                let error = try #require(try Self.json(response.body)["error"] as? [String: Any])
                #expect(error["type"] as? String == "invalid_request_error")
                #expect(error["param"] as? String == "since")
                #expect((error["message"] as? String)?.contains("ISO 8601") == true)
            }
            try await client.execute(uri: "/api/connectivity?hours=0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/connectivity?hours=2", method: .get) { response in
                #expect(response.status == .ok)
                let body = try Self.json(response.body)
                #expect(body["outages"] as? [Any] != nil)
                #expect(body["changes"] as? [Any] != nil)
            }
        }
    }

    @Test func connectivityReturnsRecordedOutages() async throws {
        let dependencies = try Self.dependencies()
        let started = Timestamp.now() - 10
        try await dependencies.log.record(
            target: "asr", kind: .service,
            transition: .init(
                from: .up, to: .down, at: started, cause: "no answer within 500 ms", outage: .started))
        try await dependencies.log.record(
            target: "asr", kind: .service,
            transition: .init(
                from: .down, to: .up, at: started + 1.5, cause: nil, outage: .ended(startedAt: started)))
        try await Self.app(dependencies).test(.router) { client in
            try await client.execute(uri: "/api/connectivity?since=\(Timestamp.iso(started - 60))", method: .get) { response in
                let body = try Self.json(response.body)
                let outages = try #require(body["outages"] as? [[String: Any]])
                #expect(outages.count == 1)
                #expect(outages.first?["target"] as? String == "asr")
                #expect(outages.first?["duration_seconds"] as? Double == 1.5)
                #expect(outages.first?["cause"] as? String == "no answer within 500 ms")
                #expect((body["changes"] as? [[String: Any]])?.map { $0["to"] as? String } == ["down", "up"])
            }
        }
    }

    @Test func unknownRouteGetsTheOpenAIErrorEnvelope() async throws {
        try await Self.app(try Self.dependencies()).test(.router) { client in
            try await client.execute(uri: "/v2/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                let error = try #require(try Self.json(response.body)["error"] as? [String: Any])
                #expect(error["type"] as? String == "invalid_request_error")
                #expect((error["message"] as? String)?.contains("No route GET /v2/nothing") == true)
                #expect(response.headers[.init("X-Request-Id")!] != nil)
            }
        }
    }

    @Test func openAPIDocumentDescribesEveryRouteAndNothingElse() async throws {
        let dependencies = try APITests.dependencies()
        // The dashboard's own files are pages, not API.
        let served = Set(buildRouter(dependencies).routes.map { "\($0.method) \($0.path)" })
            .filter { $0 != "GET /" && !($0.hasSuffix(".js") || $0.hasSuffix(".css") || $0.hasSuffix(".html")) }
        try await APITests.app(dependencies).test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.headers[.contentType] == "application/json")
                let document = try APITests.json(response.body)
                #expect(document["openapi"] as? String == "3.1.0")
                #expect((document["info"] as? [String: Any])?["version"] as? String == SparkDeckVersion.version)
                let paths = try #require(document["paths"] as? [String: [String: Any]])
                var described = Set<String>()
                for (path, operations) in paths {
                    for (method, operation) in operations {
                        described.insert("\(method.uppercased()) \(path)")
                        let parameters = ((operation as? [String: Any])?["parameters"] as? [[String: Any]]) ?? []
                        let declared = Set(parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
                        let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                        #expect(declared == inPath, "\(method) \(path) declares path parameters \(declared)")
                    }
                }
                #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
                #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
                // Every reference points at something the document defines.
                let text = String(buffer: response.body)
                let components = try #require(document["components"] as? [String: [String: Any]])
                let references = try NSRegularExpression(pattern: ##""\$ref":"#/components/([a-zA-Z]+)/([A-Za-z]+)""##)
                let matches = references.matches(in: text, range: NSRange(text.startIndex..., in: text))
                #expect(!matches.isEmpty)
                for match in matches {
                    let kind = String(text[Range(match.range(at: 1), in: text)!])
                    let name = String(text[Range(match.range(at: 2), in: text)!])
                    #expect(components[kind]?[name] != nil, "$ref to undefined #/components/\(kind)/\(name)")
                }
            }
        }
    }

    @Test func dashboardIsServedWithContentTypesAndNoTraversal() async throws {
        try await Self.app(try Self.dependencies()).test(.live) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.init("X-Frame-Options")!] == "DENY", "no other site may frame the dashboard")
                #expect(response.headers[.init("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
                #expect(String(buffer: response.body).contains("/app.js"))
            }
            try await client.execute(uri: "/app.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            }
            try await client.execute(uri: "/app.css", method: .get) { response in
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
            }
            for path in ["/../Package.swift", "/%2e%2e/%2e%2e/etc/passwd", "/Resources/index.html", "/..%2fapp.js"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .notFound, "\(path) must not be served")
                    #expect(!String(buffer: response.body).contains("root:"))
                }
            }
        }
    }

    @Test func versionAgreesWithTheStartOSPackage() throws {
        // The current version is the first in `VersionGraph.of(current, ...)` or `VersionGraph.of({ current, other })`
        // (the shape start-sdk 2.0 takes).
        let versions = TestSupport.packageRoot.appendingPathComponent("package/startos/versions")
        let index = try String(contentsOf: versions.appendingPathComponent("index.ts"), encoding: .utf8)
        let current = try #require(
            index.firstMatch(of: #/VersionGraph\.of\(\s*(?:\{\s*current:\s*)?(\w+)/#)?.1, "index.ts names no current version")
        let files = try FileManager.default.contentsOfDirectory(atPath: versions.path).filter { $0 != "index.ts" }
        let declaring = try files.map { try String(contentsOf: versions.appendingPathComponent($0), encoding: .utf8) }
            .filter { $0.contains("export const \(current) = VersionInfo.of(") }
        #expect(declaring.count == 1, "one file must export \(current)")
        let version = try #require(declaring.first?.firstMatch(of: /version:\s*'([^']+)'/)?.1)
        #expect(String(version) == SparkDeckVersion.packageVersion)
    }
}

@Suite("Server-Sent Events")
struct EventStreamTests {
    @Test func clientsThatDisconnectLeaveNoSubscriptionBehind() async throws {
        let dependencies = try APITests.dependencies()
        let app = Application(
            router: buildRouter(dependencies),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: [EventHeartbeat(events: dependencies.events, interval: .milliseconds(200))])
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let clients = 25
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        try await RawHTTPClient.connect(port: port).get("/api/events", readUntil: "event: status")
                    }
                }
                for try await received in group {
                    #expect(received.contains("text/event-stream"))
                    #expect(received.contains("\"services\""))
                }
            }
            // Every client has gone; within a few heartbeats every subscription must be gone too.
            let drained = await TestSupport.eventually(timeout: .seconds(5)) {
                await dependencies.events.subscriberCount == 0
            }
            let left = await dependencies.events.subscriberCount
            #expect(drained, "\(left) subscriptions left behind")

            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(String(buffer: response.body).contains("sparkdeck_sse_clients_count 0"))
            }
        }
    }

    @Test func anEventStreamDroppedBeforeItsBodyRanLeavesNoSubscription() async throws {
        let dependencies = try APITests.dependencies()
        let controller = StatusController(
            board: dependencies.board, events: dependencies.events, log: dependencies.log, keys: dependencies.keys,
            streams: dependencies.streams)
        func openAndDrop() async throws {
            let response = try await controller.eventStream(authorization: nil, client: "test")
            #expect(await dependencies.events.subscriberCount == 1 && response.status == .ok)
        }
        try await openAndDrop()
        let gone = await TestSupport.eventually(timeout: .seconds(2)) { await dependencies.events.subscriberCount == 0 }
        #expect(gone, "a response Hummingbird never wrote kept its subscription")
    }

    @Test func eventsCarryStateChanges() async throws {
        let events = EventBroadcaster()
        let (_, stream) = await events.subscribe()
        await events.publish(.named("health", .object(["target": .string("asr"), "to": .string("down")])))
        var iterator = stream.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event?.wireFormat == "event: health\ndata: {\"target\":\"asr\",\"to\":\"down\"}\n\n")
        #expect(ServerEvent.ping.wireFormat == ": ping\n\n")
    }
}
