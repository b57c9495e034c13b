import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import SparkDeck

/// `/v1/audio/transcriptions` against a fake parakeet-asr that records the bytes it receives and answers `text`,
/// `srt` and `vtt` JSON-quoted, as the real one may.
@Suite("Transcription proxy")
struct TranscriptionTests {
    final class FakeASR: Sendable {
        let received = Mutex<[ByteBuffer]>([])

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.post("/v1/audio/transcriptions") { request, _ in
                let body = try await request.body.collect(upTo: 64 << 20)
                self.received.withLock { $0.append(body) }
                let text = String(buffer: body)
                let format =
                    ["srt", "vtt", "text", "verbose_json"].first { text.contains("name=\"response_format\"\r\n\r\n\($0)\r\n") } ?? "json"
                let answer: String
                switch format {
                case "srt": answer = #""1\n00:00:00,000 --> 00:00:01,200\nhello world\n""#
                case "vtt": answer = #""WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nhello world\n""#
                case "text": answer = #""hello world""#
                default: answer = #"{"text":"hello world"}"#
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    static func sparkDeck(asrPort: Int, uploadLimit: Int = 200 * 1024 * 1024) async throws -> some ApplicationProtocol {
        let dependencies = try await TestSupport.dependencies(services: [("vllm", .vllm, 9), ("asr", .asr, asrPort)], serving: ["asr"])
        let router = Router()
        router.add(middleware: RequestIdMiddleware())
        TranscriptionController(
            inventory: dependencies.configuration.inventory, core: dependencies.core, long: nil, uploadLimit: uploadLimit
        )
        .addRoutes(to: router)
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static let boundary = "sparkdeck-test-boundary-7d1f"

    /// A form as the OpenAI SDK sends it: the file first, then the text fields.
    static func form(audio: [UInt8], fields: [(String, String)]) -> [UInt8] {
        var body = Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n".utf8)
        body += audio
        for (name, value) in fields {
            body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)".utf8)
        }
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    static var formType: HTTPFields { [.contentType: "multipart/form-data; boundary=\(boundary)"] }

    /// Audio-like bytes that hold CR, LF and dashes, so a parser that mistook them for a boundary would show.
    static func audio(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    }

    @Test(arguments: [
        ("srt", "text/plain; charset=utf-8", "1\n00:00:00,000 --> 00:00:01,200\nhello world\n"),
        ("vtt", "text/vtt; charset=utf-8", "WEBVTT\n\n00:00:00.000 --> 00:00:01.200\nhello world\n"),
        ("text", "text/plain; charset=utf-8", "hello world"),
        ("json", "application/json", #"{"text":"hello world"}"#),
    ])
    func everyFormatComesBackAsOpenAIGivesIt(format: String, type: String, text: String) async throws {
        let asr = FakeASR()
        try await asr.app().test(.live) { upstream in
            try await Self.sparkDeck(asrPort: try #require(upstream.port)).test(.live) { client in
                let body = Self.form(audio: Self.audio(5000), fields: [("model", "parakeet"), ("response_format", format)])
                try await client.execute(
                    uri: "/v1/audio/transcriptions", method: .post, headers: Self.formType,
                    body: ByteBuffer(bytes: body)
                ) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType] == type)
                    #expect(String(buffer: response.body) == text, "JSON quoting is taken off")
                    #expect(response.headers[UpstreamCore.upstreamHeader] == "asr")
                }
            }
        }
    }

    @Test func aLargeUploadStreamsThroughUnchanged() async throws {
        let asr = FakeASR()
        let body = Self.form(audio: Self.audio(3 * 1024 * 1024 + 17), fields: [("model", "parakeet")])
        try await asr.app().test(.live) { upstream in
            try await Self.sparkDeck(asrPort: try #require(upstream.port)).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(gateway.port))/v1/audio/transcriptions")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(Self.boundary)")
                // Sent in small pieces, so the proxy sees the form cut at every kind of place.
                let pieces = stride(from: 0, to: body.count, by: 7919).map { ByteBuffer(bytes: body[$0..<min($0 + 7919, body.count)]) }
                request.body = .stream(pieces.async, length: .known(Int64(body.count)))
                let response = try await http.execute(request, timeout: .seconds(60))
                #expect(response.status == .ok)
                _ = try await response.body.collect(upTo: 1 << 20)
            }
        }
        let received = try #require(asr.received.withLock { $0.first })
        #expect(Array(received.readableBytesView) == body, "the upstream got the upload byte for byte")
    }

    @Test func anUploadPastTheLimitIsStoppedWith413() async throws {
        let asr = FakeASR()
        let body = Self.form(audio: Self.audio(2 * 1024 * 1024), fields: [("model", "parakeet")])
        try await asr.app().test(.live) { upstream in
            try await Self.sparkDeck(asrPort: try #require(upstream.port), uploadLimit: 1024 * 1024).test(.live) { gateway in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(gateway.port))/v1/audio/transcriptions")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(Self.boundary)")
                let pieces = stride(from: 0, to: body.count, by: 65536).map { ByteBuffer(bytes: body[$0..<min($0 + 65536, body.count)]) }
                // No length given: the limit is found while the upload streams, not from its header.
                request.body = .stream(pieces.async, length: .unknown)
                let response = try await http.execute(request, timeout: .seconds(60))
                #expect(response.status.code == 413)
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                #expect(text.contains("over 1 MB") && text.contains("\"param\":\"file\""), "\(text)")
            }
        }
        let whole = asr.received.withLock { $0.contains { $0.readableBytes == body.count } }
        #expect(!whole, "the upstream never got the whole oversized file")
    }

    @Test func aBodyThatIsNotAFormIsRefusedWith415() async throws {
        try await Self.sparkDeck(asrPort: 9).test(.router) { client in
            try await client.execute(
                uri: "/v1/audio/transcriptions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(String(buffer: response.body).contains("multipart/form-data"))
            }
        }
    }

    @Test func theTapKeepsFieldsWhereverTheChunksEnd() throws {
        let body = Self.form(
            audio: Self.audio(3000),
            fields: [
                ("model", "parakeet"), ("response_format", "srt"),
                ("timestamp_granularities[]", "word"), ("timestamp_granularities[]", "segment"),
            ])
        for step in [1, 2, 3, 17, 64, 1000, body.count] {
            let tap = try #require(MultipartTap(contentType: "multipart/form-data; boundary=\"\(Self.boundary)\"", limit: 1 << 20))
            for start in stride(from: 0, to: body.count, by: step) {
                try tap.feed(ByteBuffer(bytes: body[start..<min(start + step, body.count)]))
            }
            let summary = tap.summary
            #expect(summary.fields["response_format"] == ["srt"], "step \(step)")
            #expect(summary.fields["timestamp_granularities[]"] == ["word", "segment"], "step \(step)")
            #expect(summary.fileBytes == 3000 && summary.fileName == "a.wav" && summary.fileField == "file", "step \(step)")
        }
    }
}
