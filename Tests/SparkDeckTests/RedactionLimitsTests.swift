import Dispatch
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

/// `/scrub` under attack: limits on text and terms, work off the request threads behind a gate, given up when the
/// caller goes, and inputs that made earlier versions spin.
@Suite("Redaction limits")
struct RedactionLimitsTests {
    static func error(_ body: [String: Any]) -> [String: Any] { body["error"] as? [String: Any] ?? [:] }

    /// A router with only the redaction routes, on workers with the given limits.
    static func app(limits: AdmissionLimits = RedactionWorkers.defaultLimits) throws -> (some ApplicationProtocol, RedactionWorkers) {
        let dependencies = try APITests.dependencies()
        let workers = RedactionWorkers(gates: GatewayGates(), limits: limits)
        let router = Router(context: BasicRequestContext.self)
        RedactionController(
            scrubber: dependencies.scrubber, vault: dependencies.vault, workers: workers, observer: dependencies.core.observer
        ).addRoutes(to: router)
        return (Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))), workers)
    }

    @Test func textAndTermLimitsAnswerInTheOpenAIEnvelope() async throws {
        let (app, _) = try Self.app()
        try await app.test(.router) { client in
            let big = String(repeating: "a", count: RedactionController.maxTextBytes + 1)
            let (tooBig, bigError) = try await RedactionAPITests.post(client, "/scrub", ["text": big])
            #expect(tooBig == .contentTooLarge)
            #expect(Self.error(bigError)["code"] as? String == "text_too_large")
            #expect(Self.error(bigError)["param"] as? String == "text")

            let many = (0...RedactionController.maxTerms).map { "term\($0)" }
            let (tooMany, manyError) = try await RedactionAPITests.post(client, "/scrub", ["text": "x", "custom_terms": many])
            #expect(tooMany == .unprocessableContent)
            #expect(Self.error(manyError)["code"] as? String == "too_many_terms")

            let long = String(repeating: "b", count: RedactionController.maxTermCharacters + 1)
            let (tooLong, longError) = try await RedactionAPITests.post(client, "/scrub", ["text": "x", "custom_terms": ["ok", long]])
            #expect(tooLong == .unprocessableContent)
            #expect(Self.error(longError)["code"] as? String == "term_too_long")
            #expect(Self.error(longError)["param"] as? String == "custom_terms[1]")
        }
    }

    @Test func theIssuesInputsAreScrubbed() async throws {
        // Both at once, however slow a debug build on a busy machine is: the outcome is what counts here.
        let (app, _) = try Self.app(limits: AdmissionLimits(maxInFlight: 2, queueDepth: 4, queueTimeoutMs: 600_000))
        try await app.test(.router) { client in
            // `"+" + "1 " * n`: two concurrent ones with n = 1e6 stalled the whole server in 0.5.1 (a tenth of it here,
            // to keep a debug build's test run light; bench/ scripts time the full size).
            let plusOnes = "+" + String(repeating: "1 ", count: 100_000)
            async let first = RedactionAPITests.post(client, "/scrub", ["text": plusOnes])
            async let second = RedactionAPITests.post(client, "/scrub", ["text": plusOnes])
            for (status, body) in try await [first, second] {
                #expect(status == .ok)
                let text = try #require(body["text"] as? String)
                #expect(text.hasPrefix("<PHONE_1>"), "the leading +1 1 1 ... is a phone number: \(text.prefix(40))")
            }

            // The most terms allowed, random words, over 20,000 words of text with some of the terms in it.
            var random = SeededGenerator(seed: 1818)
            func word() -> String {
                String(
                    (0..<Int.random(in: 5...9, using: &random)).map { _ in
                        Character(UnicodeScalar(UInt8.random(in: 97...122, using: &random)))
                    })
            }
            let terms = (0..<RedactionController.maxTerms).map { _ in word() }
            var words = (0..<20_000).map { _ in word() }
            for index in stride(from: 0, to: words.count, by: 1000) { words[index] = terms[index / 2] }
            let (status, body) = try await RedactionAPITests.post(
                client, "/scrub", ["text": words.joined(separator: " "), "custom_terms": terms])
            #expect(status == .ok)
            let scrubbed = try #require(body["text"] as? String)
            for index in stride(from: 0, to: words.count, by: 1000) { #expect(!scrubbed.contains(" \(terms[index / 2]) ")) }
            #expect(scrubbed.hasPrefix("<CUSTOM_1> "))
        }
    }

    @Test func aFullGateAnswers503WithRetryAfter() async throws {
        let (app, workers) = try Self.app(limits: AdmissionLimits(maxInFlight: 1, queueDepth: 0, queueTimeoutMs: 1000))
        try await app.test(.router) { client in
            _ = try await workers.gate.acquire()
            let body = try JSONSerialization.data(withJSONObject: ["text": "Maria Gonzalez"])
            try await client.execute(uri: "/scrub", method: .post, headers: RedactionAPITests.json, body: ByteBuffer(bytes: body)) {
                response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                let error = Self.error(try APITests.json(response.body))
                #expect(error["type"] as? String == "overloaded")
                #expect(error["code"] as? String == "queue_full")
            }
            workers.gate.release()
            let (status, scrubbed) = try await RedactionAPITests.post(client, "/scrub", ["text": "Maria Gonzalez"])
            #expect(status == .ok)
            #expect(scrubbed["text"] as? String == "<PERSON_1>")
        }
    }

    @Test func workRunsOnTheRedactionQueue() async throws {
        let workers = RedactionWorkers(gates: GatewayGates())
        #expect(!RedactionWorkers.onRedactionThread)
        let onQueue = try await workers.run { _ in RedactionWorkers.onRedactionThread }
        #expect(onQueue, "the work ran on a redaction thread, not the caller's")
        #expect(workers.gate.inFlight == 0, "the slot is given back")
    }

    @Test func aCancelledCallerStopsTheWork() async throws {
        let workers = RedactionWorkers(gates: GatewayGates())
        let started = DispatchSemaphore(value: 0)
        let sawStop = CancelFlag()
        let task = Task {
            try await workers.run { stop in
                started.signal()
                while !stop.isSet { usleep(1000) }
                sawStop.set()
                return 1
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                started.wait()
                continuation.resume()
            }
        }
        task.cancel()
        let outcome = await task.result
        #expect(throws: CancellationError.self) { try outcome.get() }
        #expect(sawStop.isSet, "the work saw the caller go")
        #expect(workers.gate.inFlight == 0)
    }

    @Test func aStoppedScrubGivesUpBeforeItsSteps() {
        let stop = CancelFlag()
        stop.set()
        var session = ScrubSession(id: "test-session", expiresAt: .infinity)
        let result = RedactionTests.scrubber.scrub(utf8: Array("Maria Gonzalez".utf8), session: &session, stop: stop)
        #expect(result.text.isEmpty)
        #expect(session.values.isEmpty)
    }
}
