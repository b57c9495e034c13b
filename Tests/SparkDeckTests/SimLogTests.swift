import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

@testable import SparkDeck

/// The sims' logs read like the real services': uvicorn's start-up lines, and with `--access-log` a line per request
/// (health checks aside), so the dashboard's Log button shows something real in the demo.
@Suite("SparkSim logs")
struct SimLogTests {
    @Test func accessLogHasEachRequestButNotHealthChecks() async throws {
        let port = try FreePort.find(count: 1)[0]
        let log = try TestSupport.temporaryDirectory() + "/asr.log"
        let sim = try await TestSupport.startSim(["asr", "--port", "\(port)", "--load-seconds", "0.2", "--access-log"], log: log)
        defer { sim.signal(SIGKILL) }
        let client = HTTPClient.shared
        func send(_ method: HTTPMethod, _ path: String) async -> UInt? {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            return try? await client.execute(request, timeout: .seconds(2)).status.code
        }
        let ready = await TestSupport.eventually(timeout: .seconds(10)) {
            await send(.GET, "/health") == 200
        }
        #expect(ready, "the ASR sim never answered")
        try await Task.sleep(for: .milliseconds(300))
        #expect(await send(.POST, "/v1/audio/transcriptions") == 422)
        #expect(await send(.GET, "/nothing-here") == 404)
        let logged = await TestSupport.eventually(timeout: .seconds(3)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("/nothing-here")
        }
        #expect(logged)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("INFO:     Uvicorn running on http://127.0.0.1:\(port) (Press CTRL+C to quit)"))
        #expect(text.contains("INFO:     Models loaded in 0.2 s; ready for requests"))
        #expect(text.contains(#"INFO:     "POST /v1/audio/transcriptions HTTP/1.1" 422 Unprocessable Content"#))
        #expect(text.contains(#"INFO:     "GET /nothing-here HTTP/1.1" 404 Not Found"#))
        #expect(!text.contains("/health"), "health checks are left out of the access log:\n\(text)")
    }

    @Test func noAccessLogUnlessAskedFor() async throws {
        let port = try FreePort.find(count: 1)[0]
        let log = try TestSupport.temporaryDirectory() + "/tts.log"
        let sim = try await TestSupport.startSim(["tts", "--port", "\(port)", "--load-seconds", "0"], log: log)
        defer { sim.signal(SIGKILL) }
        let client = HTTPClient.shared
        let answered = await TestSupport.eventually(timeout: .seconds(10)) {
            (try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/audio/voices"), timeout: .seconds(2)))?.status
                == .ok
        }
        #expect(answered)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("Application startup complete."))
        #expect(!text.contains("/v1/audio/voices"), "the bench's sims must not pay for an access log")
    }
}
