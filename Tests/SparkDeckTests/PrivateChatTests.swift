import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import SparkDeck

/// The private chat proxy against a fake external model that records everything it receives: no original value
/// may ever reach it, and its answers come back rehydrated, streamed or not.
@Suite("Private chat proxy")
struct PrivateChatTests {
    final class Recorder: Sendable {
        let bodies = Mutex<[String]>([])
        let authorizations = Mutex<[String]>([])
        var all: String { bodies.withLock { $0.joined(separator: "\n") } }
    }

    static let secrets = ["Maria", "Gonzalez", "maria@example.com", "630-596-1111", "Bluefin", "4111 1111 1111 1111"]

    static func fakeExternal(_ recorder: Recorder) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            recorder.bodies.withLock { $0.append(body) }
            recorder.authorizations.withLock { $0.append(request.headers[.authorization] ?? "") }
            if body.contains("\"stream\":true") {
                return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                    for piece in ["Dear <PER", "SON_1>, about <EM", "AIL_1", ">. Also [person_1]", "!"] {
                        let chunk = #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\#(piece)"},"finish_reason":null}]}"#
                        try await writer.write(ByteBuffer(string: "data: \(chunk)\n\n"))
                    }
                    try await writer.write(ByteBuffer(string: #"data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n"))
                    try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                    try await writer.finish(nil)
                })
            }
            let answer = #"{"object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Dear <PERSON_1>, about <EMAIL_1>.","tool_calls":[{"id":"c1","type":"function","function":{"name":"send","arguments":"{\"to\":\"<EMAIL_1>\"}"}}]}}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func sparkDeck(externalPort: Int?) throws -> some ApplicationProtocol {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)])
        inventory.redactionTerms = ["Bluefin"]
        let data = try TestSupport.temporaryDirectory()
        let keyFile = data + "/external.key"
        try "test-key\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        inventory.externalModel = externalPort.map { ExternalEndpoint(url: "http://127.0.0.1:\($0)/v1", apiKeyEnv: nil, apiKeyFile: keyFile) }
        let dependencies = try AppDependencies(configuration: ServerConfiguration(dataDirectory: data, inventory: inventory),
                                               logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        return Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static let request = #"""
        {"model": "gpt-x", "messages": [
          {"role": "system", "content": "You help Maria Gonzalez with project Bluefin."},
          {"role": "user", "content": [{"type": "text", "text": "Email maria@example.com or call 630-596-1111; card 4111 1111 1111 1111."}]},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "t1", "type": "function",
            "function": {"name": "lookup", "arguments": "{\"who\": \"Maria Gonzalez\"}"}}]},
          {"role": "tool", "tool_call_id": "t1", "content": "Gonzalez: found"}
        ]STREAM}
        """#

    @Test func nothingUnscrubbedLeavesAndAnswersComeBackRehydrated() async throws {
        let recorder = Recorder()
        try await Self.fakeExternal(recorder).test(.live) { external in
            try await Self.sparkDeck(externalPort: try #require(external.port)).test(.live) { client in
                let body = ByteBuffer(string: Self.request.replacingOccurrences(of: "STREAM", with: ""))
                let session = try await client.execute(uri: "/v1/private/chat/completions", method: .post,
                                                       headers: [.contentType: "application/json"], body: body) { response in
                    #expect(response.status == .ok)
                    let answer = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                    let message = try #require(((answer["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
                    #expect(message["content"] as? String == "Dear Maria Gonzalez, about maria@example.com.")
                    let call = (message["tool_calls"] as? [[String: Any]])?.first?["function"] as? [String: Any]
                    #expect(call?["arguments"] as? String == #"{"to":"maria@example.com"}"#)
                    return response.headers[.init("X-SparkDeck-Session")!] ?? ""
                }
                #expect(!session.isEmpty)

                let streamBody = ByteBuffer(string: Self.request.replacingOccurrences(of: "STREAM", with: #", "stream": true"#))
                try await client.execute(uri: "/v1/private/chat/completions", method: .post,
                                         headers: [.contentType: "application/json", .init("X-SparkDeck-Session")!: session],
                                         body: streamBody) { response in
                    #expect(response.status == .ok)
                    var text = ""
                    for line in String(buffer: response.body).split(separator: "\n") where line.hasPrefix("data: {") {
                        let event = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                        let delta = ((event?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])
                        let piece = delta?["content"] as? String ?? ""
                        #expect(!piece.contains("<") || !piece.contains("_1"), "a placeholder piece went out: \(piece)")
                        text += piece
                    }
                    #expect(text == "Dear Maria Gonzalez, about maria@example.com. Also Maria Gonzalez!")
                    #expect(String(buffer: response.body).hasSuffix("data: [DONE]\n\n"))
                }
            }
        }
        let sent = recorder.all
        #expect(recorder.bodies.withLock { $0.count } == 2)
        for secret in Self.secrets {
            #expect(!sent.lowercased().contains(secret.lowercased()), "LEAK to the external endpoint: \(secret)")
        }
        #expect(sent.contains("<PERSON_1>") && sent.contains("<EMAIL_1>") && sent.contains("<CUSTOM_1>"))
        #expect(recorder.authorizations.withLock { $0 } == ["Bearer test-key", "Bearer test-key"])
    }

    @Test func failsClosedOnContentItCannotScrub() async throws {
        let recorder = Recorder()
        try await Self.fakeExternal(recorder).test(.live) { external in
            try await Self.sparkDeck(externalPort: try #require(external.port)).test(.live) { client in
                let image = #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Maria Gonzalez"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}"#
                try await client.execute(uri: "/v1/private/chat/completions", method: .post,
                                         headers: [.contentType: "application/json"], body: ByteBuffer(string: image)) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("only text parts can be sent privately"))
                }
                let odd = #"{"model":"m","messages":[{"role":"user","content":"hi","audio":{"data":"..."}}]}"#
                try await client.execute(uri: "/v1/private/chat/completions", method: .post,
                                         headers: [.contentType: "application/json"], body: ByteBuffer(string: odd)) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
        #expect(recorder.bodies.withLock { $0.isEmpty }, "nothing was sent")
    }

    @Test func withoutAnExternalEndpointItSaysHowToConfigureOne() async throws {
        try await Self.sparkDeck(externalPort: nil).test(.router) { client in
            try await client.execute(uri: "/v1/private/chat/completions", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"messages":[{"role":"user","content":"x"}]}"#)) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("redaction.external.url"))
            }
        }
    }
}
