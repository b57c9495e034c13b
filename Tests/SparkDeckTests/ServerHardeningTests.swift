import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import SparkDeck

/// The server-level findings of the 0.5.1 security probe (issue 18), each reproduced as the probe did it.
@Suite("Server hardening")
struct ServerHardeningTests {
    static func dependencies(actions: [MaintenanceAction] = []) throws -> AppDependencies {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)])
        inventory.actions = actions
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: try TestSupport.temporaryDirectory(), inventory: inventory, demo: true)
        let dependencies = try AppDependencies(configuration: configuration, logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        return dependencies
    }

    static func app(_ dependencies: AppDependencies) -> some ApplicationProtocol {
        Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    // MARK: Maintenance action output

    @Test func listingActionsNeedsAnAdminKeyOnceKeysExist() async throws {
        let dependencies = try Self.dependencies(actions: [try MaintenanceTests.action("whoami", "echo uid=0")])
        let (chatKey, _) = try await dependencies.keys.create(name: "app", scopes: [.chat])
        let (adminKey, _) = try await dependencies.keys.create(name: "owner", scopes: [.admin])
        try await Self.app(dependencies).test(.router) { client in
            try await client.execute(uri: "/api/actions", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/api/actions", method: .get, headers: [.authorization: "Bearer \(chatKey)"]) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/api/actions", method: .get, headers: [.authorization: "Bearer \(adminKey)"]) {
                #expect($0.status == .ok)
            }
        }
    }

    /// An anonymous stream (opened before any key existed, so the check must be made per event) and a stream with
    /// an admin key both see the run; only the admin one sees what it printed.
    @Test func actionOutputGoesOnlyToAdminEventStreams() async throws {
        let secret = "uid=0(root)-\(UUID().uuidString)"
        let dependencies = try Self.dependencies(actions: [try MaintenanceTests.action("whoami", "echo \(ShellQuote.quote(secret))")])
        let app = Self.app(dependencies)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let anonymousOpen = AsyncStream.makeStream(of: Void.self)
            async let anonymous = RawHTTPClient.connect(port: port).stream(
                "/api/events", opened: { anonymousOpen.continuation.yield() }, until: #""ended_at":""#)
            var opened = anonymousOpen.stream.makeAsyncIterator()
            await opened.next()
            let (adminKey, _) = try await dependencies.keys.create(name: "owner", scopes: [.admin])
            let adminOpen = AsyncStream.makeStream(of: Void.self)
            async let admin = RawHTTPClient.connect(port: port).stream(
                "/api/events", headers: ["Authorization: Bearer \(adminKey)"], opened: { adminOpen.continuation.yield() },
                until: #""ended_at":""#)
            var adminOpened = adminOpen.stream.makeAsyncIterator()
            await adminOpened.next()
            try await client.execute(
                uri: "/api/actions/whoami", method: .post,
                headers: [.authorization: "Bearer \(adminKey)", .contentType: "application/json"],
                body: ByteBuffer(string: #"{"confirm": true}"#)
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(secret), "the admin who ran it gets the output")
            }
            let (seenAnonymously, seenAsAdmin) = try await (anonymous, admin)
            #expect(seenAnonymously.contains(#""action":"whoami""#), "the run is announced to every stream")
            #expect(!seenAnonymously.contains(secret), "an anonymous stream got the output:\n\(seenAnonymously)")
            #expect(seenAsAdmin.contains(secret))
        }
    }

    // MARK: DNS rebinding and cross-site requests

    @Test func hostsSparkDeckAnswersTo() {
        let policy = HostPolicy(listed: ["deck.example.com", ".home.example.net"], own: ["0.0.0.0", "spark-box"])
        for host in [
            "127.0.0.1:9999", "localhost:9999", "[::1]:9999", "192.0.2.7", "LOCALHOST", "sparkdeck:9999", "deck.local",
            "x.onion", "spark-box.local", "deck.example.com:9999", "a.home.example.net", "home.example.net", "deck.lan",
        ] {
            #expect(policy.allowsHost(host), "\(host)")
        }
        for host in ["rebind.evil.example", "rebind.evil.example:9999", "deck.example.com.evil.example", "", "[::1", "a:b:c"] {
            #expect(!policy.allowsHost(host), "\(host)")
        }
        #expect(HostPolicy(listed: ["*"]).allowsHost("rebind.evil.example"))
    }

    @Test func originsSparkDeckAnswers() {
        let policy = HostPolicy(listed: ["app.example.com"])
        #expect(policy.allowsOrigin("http://127.0.0.1:9999", host: "127.0.0.1:9999"))
        #expect(policy.allowsOrigin("https://deck.local", host: "deck.local"), "behind a TLS proxy")
        #expect(policy.allowsOrigin("https://app.example.com", host: "127.0.0.1:9999"), "listed")
        #expect(!policy.allowsOrigin("http://rebind.evil.example:9999", host: "127.0.0.1:9999"))
        #expect(!policy.allowsOrigin("http://127.0.0.1:8080", host: "127.0.0.1:9999"), "another port is another site")
        #expect(!policy.allowsOrigin("http://192.0.2.9", host: "192.0.2.7"))
        #expect(!policy.allowsOrigin("null", host: "127.0.0.1:9999"))
        #expect(!policy.allowsOrigin("http://127.0.0.1:9999", host: nil))
    }

    /// The probe's request: a page on `rebind.evil.example`, its name now pointing at SparkDeck, runs an action.
    @Test func aRebindingPageRunsNothing() async throws {
        let work = try TestSupport.temporaryDirectory()
        let canary = work + "/ran"
        let dependencies = try Self.dependencies(actions: [try MaintenanceTests.action("restart-asr", "touch \(ShellQuote.quote(canary))")])
        try await Self.app(dependencies).test(.live) { client in
            let port = try #require(client.port)
            let body = #"{"confirm": true}"#
            let rebound = try await RawHTTPClient.connect(port: port).send(
                "POST /api/actions/restart-asr", host: "rebind.evil.example:\(port)",
                headers: ["Origin: http://rebind.evil.example:\(port)", "Content-Type: application/json"], body: body)
            #expect(rebound.hasPrefix("HTTP/1.1 421"), "\(rebound)")
            #expect(rebound.contains(#""code":"host_not_allowed""#))
            let crossSite = try await RawHTTPClient.connect(port: port).send(
                "POST /api/actions/restart-asr", host: "127.0.0.1:\(port)",
                headers: ["Origin: http://rebind.evil.example", "Content-Type: text/plain"], body: body)
            #expect(crossSite.hasPrefix("HTTP/1.1 403"), "\(crossSite)")
            #expect(crossSite.contains(#""code":"origin_not_allowed""#))
            let stream = try await RawHTTPClient.connect(port: port).send("GET /api/events", host: "rebind.evil.example")
            #expect(stream.hasPrefix("HTTP/1.1 421"), "an event stream is refused too: \(stream)")
            #expect(!FileManager.default.fileExists(atPath: canary), "the action ran")

            let own = try await RawHTTPClient.connect(port: port).send(
                "POST /api/actions/restart-asr", host: "localhost:\(port)",
                headers: ["Origin: http://localhost:\(port)", "Content-Type: application/json"], body: body)
            #expect(own.hasPrefix("HTTP/1.1 200"), "the dashboard's own request: \(own)")
            #expect(FileManager.default.fileExists(atPath: canary))
        }
    }

    // MARK: Command output files

    @Test func commandOutputIsWrittenPrivatelyUnderTheDataFolder() async throws {
        let data = try TestSupport.temporaryDirectory()
        let folder = data + "/command-output"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let leftover = folder + "/sparkdeck-cmd-left.out"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data("old".utf8)))
        let pool = try RunnerPool(inventory: TestSupport.inventory(services: []), dataDirectory: data)
        #expect(!FileManager.default.fileExists(atPath: leftover), "a file a killed SparkDeck left is removed at start-up")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int)
        #expect(mode == 0o700)
        let runner = try #require(pool.runner(for: "spark-1"))
        // The command looks at its own output file while it is being written.
        let result = try await runner.run("stat -c '%a %n' \(ShellQuote.quote(folder))/sparkdeck-cmd-*.out", timeout: .seconds(10))
        #expect(result.output.hasPrefix("600 \(folder)/sparkdeck-cmd-"), "\(result.output)")
    }

    // MARK: HEAD

    @Test func headOnAGetRouteAnswersItsHeadersWithoutABody() async throws {
        try await Self.app(try Self.dependencies()).test(.live) { client in
            let port = try #require(client.port)
            let get = try await RawHTTPClient.connect(port: port).send("GET /healthz", host: "localhost")
            let head = try await RawHTTPClient.connect(port: port).send("HEAD /healthz", host: "localhost")
            #expect(head.hasPrefix("HTTP/1.1 200"), "\(head)")
            let (getHead, getBody) = try #require(Self.split(get))
            let (headHead, headBody) = try #require(Self.split(head))
            #expect(headBody.isEmpty && !getBody.isEmpty)
            func length(_ head: String) -> String? {
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }.map(String.init)
            }
            #expect(length(headHead) != nil && length(headHead) == length(getHead), "\(headHead)")
            #expect(headHead.contains("application/json"))
        }
    }

    static func split(_ response: String) -> (String, String)? {
        guard let cut = response.range(of: "\r\n\r\n") else { return nil }
        return (String(response[..<cut.lowerBound]), String(response[cut.upperBound...]))
    }

    // MARK: Timeouts and stream caps

    /// The probe's trickling sockets: a request head that never ends, a connection that never sends one.
    @Test func connectionsThatSendNothingAreClosed() async throws {
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, dataDirectory: try TestSupport.temporaryDirectory(),
            inventory: TestSupport.inventory(services: [("vllm", .vllm, 9)]), demo: true)
        configuration.idleTimeout = .seconds(1)
        let dependencies = try AppDependencies(configuration: configuration, logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        let app = buildApplication(dependencies, logger: TestSupport.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for partial in ["GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Trickle: a", ""] {
                let closed = try await RawHTTPClient.connect(port: port).closedByServer(afterSending: partial, within: .seconds(20))
                #expect(closed, "a connection that sent \(partial.debugDescription) stayed open")
            }
        }
    }

    @Test func eventStreamsAreCappedPerClient() async throws {
        let limiter = StreamLimiter(perClient: 2, total: 3)
        let first = try limiter.acquire(client: "a")
        var second: StreamLimiter.Ticket? = try limiter.acquire(client: "a")
        #expect(throws: StreamLimiter.Refusal.clientFull) { try limiter.acquire(client: "a") }
        let other = try limiter.acquire(client: "b")
        #expect(throws: StreamLimiter.Refusal.serverFull) { try limiter.acquire(client: "c") }
        second = nil
        #expect(second == nil && limiter.openCount == 2, "a dropped ticket gives its place back")
        _ = try limiter.acquire(client: "a")
        withExtendedLifetime((first, other)) {}
    }

    /// The probe's 2,000 anonymous streams: one address gets `perClient`, then 429.
    @Test func oneClientCannotOpenUnboundedEventStreams() async throws {
        let dependencies = try Self.dependencies()
        let app = Self.app(dependencies)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let perClient = dependencies.streams.perClient
            var held: [NIOAsyncChannel<ByteBuffer, ByteBuffer>] = []
            for _ in 0..<perClient {
                let connection = try await RawHTTPClient.connect(port: port)
                try await connection.channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "GET /api/events HTTP/1.1\r\nHost: localhost\r\n\r\n"))
                    var received = ""
                    for try await chunk in inbound {
                        received += String(buffer: chunk)
                        if received.contains("event: status") { break }
                    }
                    #expect(received.hasPrefix("HTTP/1.1 200"))
                }
                held.append(connection.channel)
            }
            let refused = try await RawHTTPClient.connect(port: port).send("GET /api/events", host: "localhost")
            #expect(refused.hasPrefix("HTTP/1.1 429"), "\(refused.prefix(200))")
            #expect(refused.contains(#""code":"too_many_streams""#))
            _ = held
        }
    }

    @Test func eventsWithAnAdminFormShowItOnlyWhenAsked() {
        let event = ServerEvent.named("action", .object(["state": .string("ok")]), admin: .object(["output": .string("x")]))
        #expect(event.wireFormat == "event: action\ndata: {\"state\":\"ok\"}\n\n")
        #expect(event.wireFormat(admin: true) == "event: action\ndata: {\"output\":\"x\"}\n\n")
    }
}

extension RawHTTPClient {
    /// Sends one request (`line` is method and path) with `Connection: close` and reads the whole answer.
    func send(_ line: String, host: String, headers: [String] = [], body: String? = nil) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            var head = ["\(line) HTTP/1.1", "Host: \(host)", "Connection: close"] + headers
            if let body { head.append("Content-Length: \(body.utf8.count)") }
            try await outbound.write(ByteBuffer(string: head.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? "")))
            var received = ""
            for try await chunk in inbound { received += String(buffer: chunk) }
            return received
        }
    }

    /// Sends `text` and waits (at most `limit`, then gives up and closes) for the server to close the connection.
    func closedByServer(afterSending text: String, within limit: Duration) async throws -> Bool {
        let gaveUp = Counter()
        let channel = self.channel.channel
        let timer = Task {
            try await Task.sleep(for: limit)
            gaveUp.add()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await self.channel.executeThenClose { inbound, outbound in
            do {
                // A server quicker than this write has closed already: that is the outcome looked for.
                if !text.isEmpty { try await outbound.write(ByteBuffer(string: text)) }
                for try await _ in inbound {}
            } catch {}
            return gaveUp.value == 0
        }
    }

    /// Sends a GET with `headers` (`Name: value` lines), calls `opened` once the first event arrived, and reads on
    /// until `marker`; returns what was read.
    func stream(
        _ path: String, headers: [String] = [], host: String = "localhost", opened: @Sendable () -> Void, until marker: String
    ) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            let head = (["GET \(path) HTTP/1.1", "Host: \(host)", "Accept: text/event-stream"] + headers).joined(separator: "\r\n")
            try await outbound.write(ByteBuffer(string: head + "\r\n\r\n"))
            var received = ""
            var signalled = false
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if !signalled, received.contains("event: ") {
                    signalled = true
                    opened()
                }
                if received.contains(marker) { break }
            }
            return received
        }
    }
}
