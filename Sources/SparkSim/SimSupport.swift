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
    /// Log each request as uvicorn does (the demo's sims do, so their logs read like the real services').
    public var accessLog: Bool

    public init(
        host: String = "127.0.0.1", port: Int, loadSeconds: Double, exitWithPID: Int32? = nil,
        accessLog: Bool = false
    ) {
        self.host = host
        self.port = port
        self.loadSeconds = loadSeconds
        self.exitWithPID = exitWithPID
        self.accessLog = accessLog
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

/// uvicorn's access log line per request: `INFO:     "POST /v1/audio/transcriptions HTTP/1.1" 200 OK`. Health
/// checks are left out, as a deployment that probes every 250 ms filters them, or its log would hold nothing else.
struct SimAccessLog<Context: RequestContext>: RouterMiddleware {
    static var healthPaths: Set<String> { ["/health", "/healthz", "/readyz", "/livez", "/metrics"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let status: HTTPResponse.Status
        do {
            let response = try await next(request, context)
            status = response.status
            log(request, status)
            return response
        } catch let error as HTTPResponseError {
            log(request, error.status)
            throw error
        }
    }

    private func log(_ request: Request, _ status: HTTPResponse.Status) {
        guard !(request.method == .get && Self.healthPaths.contains(request.uri.path)) else { return }
        SimLog.line(#"INFO:     "\#(request.method) \#(request.uri.path) HTTP/1.1" \#(status.code) \#(status.reasonPhrase)"#)
    }
}

/// uvicorn's start-up lines, as the Python services print them.
enum SimStartup {
    static func starting() {
        SimLog.line("INFO:     Started server process [\(ProcessInfo.processInfo.processIdentifier)]")
        SimLog.line("INFO:     Waiting for application startup.")
    }

    static func running(_ options: SimOptions) {
        SimLog.line("INFO:     Application startup complete.")
        SimLog.line("INFO:     Uvicorn running on http://\(options.host):\(options.port) (Press CTRL+C to quit)")
    }
}

enum SimServer {
    /// A router for a sim's routes; its middleware must come first, since a route only runs the middleware added
    /// before it.
    static func router(_ options: SimOptions) -> Router<BasicRequestContext> {
        let router = Router()
        if options.accessLog { router.add(middleware: SimAccessLog()) }
        return router
    }

    /// Serves `router` until SIGINT/SIGTERM, or until the watched parent process is gone.
    static func run(
        _ router: Router<BasicRequestContext>, options: SimOptions, name: String,
        onRunning: @escaping @Sendable () -> Void = {}
    ) async throws {
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
