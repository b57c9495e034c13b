import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SparkDeck

/// Helpers shared by the integration suites: the built `sparkdeck` binary, temp folders, waiting with deadlines.
enum TestSupport {
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `sparkdeck` executable: `$SPARKDECK_BIN`, else the debug build of this checkout.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["SPARKDECK_BIN"], !path.isEmpty { return path }
        return packageRoot.appendingPathComponent(".build/debug/sparkdeck").path
    }

    /// A new empty folder under this run's folder (`$TMPDIR/sparkdeck-tests-<pid>/<n>`). A run's folders are kept
    /// after it ends, for the logs of a failed test, and removed by the next run.
    static func temporaryDirectory() throws -> String {
        let path = (runDirectory as NSString).appendingPathComponent("\(folderCount.add(1, ordering: .relaxed).newValue)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
    private static let folderCount = Atomic<Int>(0)

    // Short on purpose: SSH control sockets live under it and Unix socket paths are limited to 108 bytes.
    private static let runDirectory: String = {
        let parent = NSTemporaryDirectory()
        let prefix = "sparkdeck-tests-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
            // A folder whose run is still going (another `swift test` in this machine) stays.
            guard let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: (parent as NSString).appendingPathComponent(name))
        }
        return (parent as NSString).appendingPathComponent(prefix + "\(ProcessInfo.processInfo.processIdentifier)")
    }()

    /// Starts `sparkdeck sim ...`; the sim exits by itself if the test process dies.
    static func startSim(_ arguments: [String], log: String) async throws -> SpawnedProcess {
        try await SpawnedProcess.start(
            binary,
            arguments: ["sim"] + arguments + ["--exit-with", "\(ProcessInfo.processInfo.processIdentifier)"],
            output: .file(log, truncate: false))
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// Keeps test dependencies alive for the whole run: their HTTP client may not be dropped without a shutdown,
    /// and the suites that build them do not run the service that shuts it down.
    static func keepAlive(_ dependencies: AppDependencies) {
        kept.withLock { $0.append(dependencies) }
    }
    private static let kept = Mutex<[AppDependencies]>([])

    /// SparkDeck's dependencies for an inventory of `services`, kept alive for the run, with `serving` marked up on
    /// the status board (as the health monitor would after its first probe).
    static func dependencies(services: [(String, ServiceKind, Int)], serving: [String]) async throws -> AppDependencies {
        let inventory = inventory(services: services)
        let dependencies = try AppDependencies(
            configuration: ServerConfiguration(dataDirectory: try temporaryDirectory(), inventory: inventory), logger: logger)
        keepAlive(dependencies)
        let now = Timestamp.now()
        for id in serving {
            await dependencies.board.record(
                .init(kind: .service, id: id), Observation(verdict: .ready, latencyMs: 1, sentAt: now, finishedAt: now))
        }
        return dependencies
    }

    /// HTTP clients for the whole test run (never shut down: they live as long as the process).
    static let clients = UpstreamClients()

    /// An upstream sender on the shared clients, reporting to `board`.
    static func sender(board: StatusBoard) -> UpstreamSender {
        UpstreamSender(clients: clients, board: board, logger: logger)
    }

    static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    static func inventory(services: [(String, ServiceKind, Int)], grace: Int = 30) -> Inventory {
        var health = HealthCheckSettings.defaults
        health.startupGraceSeconds = grace
        return Inventory(
            clusterName: "test",
            nodes: [Node(id: "spark-1", host: "127.0.0.1", transport: .local, ssh: nil)],
            services: services.map { id, kind, port in
                var settings = health
                settings.path = kind.defaultHealthPath
                return ClusterService(
                    id: id, kind: kind, node: "spark-1", baseURL: "http://127.0.0.1:\(port)",
                    health: settings, limits: .defaults)
            },
            models: [], actions: [], defaultModel: nil)
    }
}

/// A minimal HTTP client on a raw socket, to hold an SSE stream open and drop it like a browser tab that closes.
struct RawHTTPClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> RawHTTPClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawHTTPClient(channel: channel)
    }

    /// Sends a GET and reads until `marker` has arrived; returns what was read. Closes the connection after.
    func get(_ path: String, readUntil marker: String) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"))
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if received.contains(marker) { break }
            }
            return received
        }
    }

    /// Sends a GET, calls `arrived` once `marker` has arrived, then reads on until the server closes the connection;
    /// returns what was read.
    func readToEnd(_ path: String, marker: String, arrived: @Sendable () -> Void) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"))
            var received = ""
            var signalled = false
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if !signalled && received.contains(marker) {
                    signalled = true
                    arrived()
                }
            }
            return received
        }
    }
}

/// A count shared with escaping closures.
final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}

/// A TCP server on loopback that reads each request whole, then closes the connection without an answer: an
/// upstream that died after the request reached it.
final class AnswerlessUpstream: Sendable {
    let port: Int
    let requests = Counter()
    private let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    private let task: Task<Void, Never>

    init() async throws {
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
            }
        port = try #require(server.channel.localAddress?.port)
        let (server, requests) = (self.server, self.requests)
        task = Task {
            try? await server.executeThenClose { connections in
                for try await connection in connections {
                    try? await connection.executeThenClose { inbound, _ in
                        var received = ""
                        for try await chunk in inbound {
                            received += String(buffer: chunk)
                            // The test's bodies are one JSON object: the request is whole at its closing brace.
                            if received.contains("\r\n\r\n"), received.hasSuffix("}") {
                                requests.add()
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    func close() {
        task.cancel()
        server.channel.close(promise: nil)
    }
}
