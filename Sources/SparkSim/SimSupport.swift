import Foundation
import Hummingbird
import Logging

/// Options every simulated service takes.
public struct SimOptions: Sendable {
    public var host: String
    public var port: Int
    /// How long the service takes to become ready.
    public var loadSeconds: Double
    /// Exit when this process is gone: demo mode passes its own pid, so no sim outlives it, even after a SIGKILL.
    public var exitWithPID: Int32?

    public init(host: String = "127.0.0.1", port: Int, loadSeconds: Double, exitWithPID: Int32? = nil) {
        self.host = host
        self.port = port
        self.loadSeconds = loadSeconds
        self.exitWithPID = exitWithPID
    }
}

/// Log lines written straight to standard output, unbuffered, so a log follower sees each one as it happens.
enum SimLog {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// A line in vLLM's format: `INFO 11-27 01:20:00 [file.py:123] message`.
    static func vllm(_ level: String = "INFO", _ source: String, _ message: String) {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.month, .day, .hour, .minute, .second], from: Date())
        let stamp = String(format: "%02d-%02d %02d:%02d:%02d", parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
        line("\(level) \(stamp) [\(source)] \(message)")
    }
}

enum SimServer {
    /// Serves `router` until SIGINT/SIGTERM, or until the watched parent process is gone.
    static func run(_ router: Router<BasicRequestContext>, options: SimOptions, name: String,
                    onRunning: @escaping @Sendable () -> Void = {}) async throws {
        var logger = Logger(label: "sparksim.\(name)")
        logger.logLevel = .warning
        if let pid = options.exitWithPID { watchParent(pid) }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "SparkSim-\(name)"),
            onServerRunning: { _ in onRunning() },
            logger: logger
        )
        try await app.runService()
    }

    static func watchParent(_ pid: Int32) {
        Task.detached {
            while true {
                if kill(pid, 0) != 0 && errno == ESRCH { exit(0) }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
