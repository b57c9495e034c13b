import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import SparkDeck

/// SparkDeck stops when told to (SIGTERM from StartOS or systemd), even with dashboards and log followers connected.
@Suite("Shutdown")
struct ShutdownTests {
    @Test func openEventAndLogStreamsDoNotHoldUpAStop() async throws {
        let work = try TestSupport.temporaryDirectory()
        let log = (work as NSString).appendingPathComponent("asr.log")
        try "first line\n".write(toFile: log, atomically: false, encoding: .utf8)
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9), ("asr", .asr, 9)])
        inventory.services[1].logs = try CommandTemplate("exec tail -n +1 -F \(ShellQuote.quote(log))")
        let port = try FreePort.find(count: 1)[0]
        let configuration = ServerConfiguration(
            host: "127.0.0.1", port: port, dataDirectory: try TestSupport.temporaryDirectory(),
            inventory: inventory, demo: false)
        let dependencies = try AppDependencies(configuration: configuration, logger: TestSupport.logger)
        let serving = Counter()
        let app = buildApplication(dependencies, logger: TestSupport.logger, onServerRunning: { serving.add() })
        let group = ServiceGroup(configuration: .init(services: [app], logger: TestSupport.logger))
        let finished = Counter()
        let running = Task {
            defer { finished.add() }
            try await group.run()
        }
        #expect(await TestSupport.eventually(timeout: .seconds(10)) { serving.value == 1 }, "the server never started")

        let opened = Counter()
        let streams = ["/api/events": "event: status", "/api/logs/asr": "first line"].map { path, marker in
            Task {
                try await RawHTTPClient.connect(port: port).readToEnd(path, marker: marker) { opened.add() }
            }
        }
        #expect(await TestSupport.eventually(timeout: .seconds(10)) { opened.value == 2 }, "the streams did not open")

        await group.triggerGracefulShutdown()
        // A bound for a stop that never comes, not a speed target: generous, since the whole suite shares the CPUs.
        let stopped = await TestSupport.eventually(timeout: .seconds(30)) { finished.value == 1 }
        #expect(stopped, "SparkDeck still runs 30 s after it was asked to stop, held up by its open streams")
        if !stopped {
            // Fail, not hang: cancelling the group closes the server and with it the streams.
            running.cancel()
            _ = await TestSupport.eventually(timeout: .seconds(10)) { finished.value == 1 }
            for stream in streams { stream.cancel() }
            return
        }
        for stream in streams {
            let received = try await stream.value
            #expect(received.contains("text/event-stream"), "\(received.prefix(200))")
        }
    }
}
