import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import SparkDeck

/// `/v1/audio/voices` and `/v1/audio/speech` against a fake Kokoro that records what reaches it and answers with
/// the older voice-list shape, FastAPI's error shape and audio in pieces.
@Suite("Speech (TTS) proxy")
struct SpeechTests {
    final class FakeKokoro: Sendable {
        let speechBodies = Mutex<[String]>([])
        /// The last audio piece is held until the test lets it go.
        let lastPieceReleased = Atomic<Bool>(false)

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.get("/v1/audio/voices") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"voices":["af_bella","af_sky","jf_alpha"]}"#)))
            }
            router.post("/v1/audio/speech") { request, _ in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                self.speechBodies.withLock { $0.append(body) }
                let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
                guard object["model"] as? String == "kokoro" else {
                    return Response(
                        status: .badRequest, headers: [.contentType: "application/json"],
                        body: .init(
                            byteBuffer: ByteBuffer(
                                string: #"{"detail":{"error":"invalid_model","message":"Unsupported model: x. Supported: kokoro, tts-1"}}"#)
                        ))
                }
                return Response(
                    status: .ok, headers: [.contentType: "audio/mpeg"],
                    body: ResponseBody { writer in
                        try await writer.write(ByteBuffer(string: "ID3-first-sentence"))
                        while !self.lastPieceReleased.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(10)) }
                        try await writer.write(ByteBuffer(string: "-second-sentence"))
                        try await writer.finish(nil)
                    })
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    static func sparkDeck(ttsPort: Int) async throws -> some ApplicationProtocol {
        let dependencies = try await TestSupport.dependencies(services: [("vllm", .vllm, 9), ("tts", .tts, ttsPort)], serving: ["tts"])
        return Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func speech(_ fields: String) -> ByteBuffer { ByteBuffer(string: "{" + fields + "}") }
    static let json: HTTPFields = [.contentType: "application/json"]

    @Test func voicesComeInOneShapeWhateverTheUpstreamsVersion() async throws {
        let kokoro = FakeKokoro()
        try await kokoro.app().test(.live) { upstream in
            try await Self.sparkDeck(ttsPort: try #require(upstream.port)).test(.live) { client in
                try await client.execute(uri: "/v1/audio/voices", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[UpstreamCore.upstreamHeader] == "tts")
                    #expect(
                        String(buffer: response.body)
                            == #"{"voices":[{"id":"af_bella","name":"af_bella"},{"id":"af_sky","name":"af_sky"},{"id":"jf_alpha","name":"jf_alpha"}]}"#
                    )
                }
            }
        }
    }

    @Test(arguments: [
        (
            #""model":"kokoro","input":"Hi","voice":"am_nobody""#, "voice",
            "Unknown voice `am_nobody`; this TTS has af_bella, af_sky, jf_alpha"
        ),
        (#""model":"kokoro","input":"Hi","voice":"af_bella(2)+xx_mystery(1)""#, "voice", "`xx_mystery`"),
        (#""model":"kokoro","input":"   ","voice":"af_bella""#, "input", "`input` is empty"),
        (#""model":"kokoro","input":"Hi","voice":"af_bella","speed":9"#, "speed", "from 0.25 to 4.0"),
        (#""model":"kokoro","input":"Hi","voice":"af_bella","response_format":"ogg""#, "response_format", "mp3, opus, aac, flac, wav, pcm"),
        (#""model":"kokoro","voice":"af_bella""#, "input", "`input` is required"),
        (#""model":"kokoro","input":7,"voice":"af_bella""#, "input", "`input` must be a string"),
    ])
    func badInputIsRefusedBeforeAnythingIsSent(fields: String, param: String, says: String) async throws {
        let kokoro = FakeKokoro()
        try await kokoro.app().test(.live) { upstream in
            try await Self.sparkDeck(ttsPort: try #require(upstream.port)).test(.live) { client in
                try await client.execute(uri: "/v1/audio/speech", method: .post, headers: Self.json, body: Self.speech(fields)) {
                    response in
                    #expect(response.status == .badRequest)
                    let text = String(buffer: response.body)
                    #expect(text.contains(says), "\(text)")
                    #expect(text.contains("\"param\":\"\(param)\""), "\(text)")
                    #expect(text.contains("\"type\":\"invalid_request_error\""))
                }
            }
        }
        #expect(kokoro.speechBodies.withLock { $0.isEmpty }, "nothing reached the TTS")
    }

    @Test func audioStreamsBackAsItArrivesAndAMixOfKnownVoicesIsAccepted() async throws {
        let kokoro = FakeKokoro()
        try await kokoro.app().test(.live) { upstream in
            try await Self.sparkDeck(ttsPort: try #require(upstream.port)).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(gateway.port))/v1/audio/speech")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(Self.speech(#""model":"kokoro","input":"Hello there. Second one.","voice":"af_bella(2)+af_sky(1)""#))
                let response = try await http.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                #expect(response.headers.first(name: "content-type") == "audio/mpeg")
                var iterator = response.body.makeAsyncIterator()
                let first = try #require(try await iterator.next())
                #expect(String(buffer: first) == "ID3-first-sentence", "the first piece came while the upstream still held the rest")
                kokoro.lastPieceReleased.store(true, ordering: .releasing)
                var rest = ""
                while let chunk = try await iterator.next() { rest += String(buffer: chunk) }
                #expect(rest == "-second-sentence")
            }
        }
        let sent = try #require(kokoro.speechBodies.withLock { $0.first })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [String: Any])
        #expect(object["response_format"] as? String == "mp3" && object["speed"] as? Double == 1.0, "defaults filled in: \(sent)")
        #expect(object["voice"] as? String == "af_bella(2)+af_sky(1)")
    }

    @Test func anUpstreamErrorComesInTheOpenAIEnvelope() async throws {
        let kokoro = FakeKokoro()
        try await kokoro.app().test(.live) { upstream in
            try await Self.sparkDeck(ttsPort: try #require(upstream.port)).test(.live) { client in
                try await client.execute(
                    uri: "/v1/audio/speech", method: .post, headers: Self.json,
                    body: Self.speech(#""model":"x","input":"Hi","voice":"af_bella""#)
                ) { response in
                    #expect(response.status == .badRequest)
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    let error = try #require(object["error"] as? [String: Any])
                    #expect((error["message"] as? String)?.contains("Unsupported model: x") == true, "\(object)")
                    #expect(error["code"] as? String == "invalid_model")
                    #expect(response.headers[UpstreamCore.upstreamHeader] == "tts")
                }
            }
        }
    }

    @Test func voiceMixesAreReadIntoTheirVoices() {
        #expect(VoiceCatalog.components(of: "af_bella(2)+af_sky(1)") == ["af_bella", "af_sky"])
        #expect(VoiceCatalog.components(of: "af_bella+af_sky") == ["af_bella", "af_sky"])
        #expect(VoiceCatalog.components(of: "af_bella") == ["af_bella"])
        #expect(VoiceCatalog.components(of: "odd(name)") == ["odd(name)"], "only a number in brackets is a weight")
        let newer = VoiceCatalog(upstreamAnswer: Data(#"{"voices":[{"id":"af_bella","name":"Bella"}]}"#.utf8))
        #expect(newer?.voices == [.init(id: "af_bella", name: "Bella")])
        #expect(VoiceCatalog(upstreamAnswer: Data(#"{"voices":[3]}"#.utf8)) == nil)
    }
}
