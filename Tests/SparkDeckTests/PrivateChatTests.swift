import AsyncHTTPClient
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
        /// A `SLOW` request is answered once this is set (or after a minute), so it holds its slot for as long as the
        /// test needs, however slow the machine.
        let releaseSlow = Mutex(false)
        var all: String { bodies.withLock { $0.joined(separator: "\n") } }
    }

    static let secrets = ["Maria", "Gonzalez", "maria@example.com", "630-596-1111", "Bluefin", "4111 1111 1111 1111"]

    static func fakeExternal(_ recorder: Recorder) -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            recorder.bodies.withLock { $0.append(body) }
            recorder.authorizations.withLock { $0.append(request.headers[.authorization] ?? "") }
            if body.contains("SLOW") {
                // Held until the test lets it go: a second request reaches admission while this one holds the slot.
                let deadline = ContinuousClock.now + .seconds(60)
                while !recorder.releaseSlow.withLock({ $0 }), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"object":"chat.completion","choices":[]}"#)))
            }
            if body.contains("BREAK") {
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        try await writer.write(
                            ByteBuffer(string: #"data: {"choices":[{"index":0,"delta":{"content":"Dear"},"finish_reason":null}]}"# + "\n\n")
                        )
                        try await Task.sleep(for: .milliseconds(20))
                        struct Boom: Error {}
                        throw Boom()
                    })
            }
            if body.contains("\"stream\":true") {
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        for piece in ["Dear <PER", "SON_1>, about <EM", "AIL_1", ">. Also [person_1]", "!"] {
                            let chunk =
                                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\#(piece)"},"finish_reason":null}]}"#
                            try await writer.write(ByteBuffer(string: "data: \(chunk)\n\n"))
                        }
                        try await writer.write(
                            ByteBuffer(
                                string:
                                    #"data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#
                                    + "\n\n"))
                        try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                        try await writer.finish(nil)
                    })
            }
            let answer =
                #"{"object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Dear <PERSON_1>, about <EMAIL_1>.","tool_calls":[{"id":"c1","type":"function","function":{"name":"send","arguments":"{\"to\":\"<EMAIL_1>\"}"}}]}}]}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func sparkDeck(externalPort: Int?, limits: AdmissionLimits = .defaults) throws -> some ApplicationProtocol {
        try sparkDeckWithDependencies(externalPort: externalPort, limits: limits).0
    }

    static func sparkDeckWithDependencies(externalPort: Int?, limits: AdmissionLimits = .defaults) throws
        -> (some ApplicationProtocol, AppDependencies)
    {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9)])
        inventory.redactionTerms = ["Bluefin"]
        let data = try TestSupport.temporaryDirectory()
        let keyFile = data + "/external.key"
        try "test-key\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        inventory.externalModel = externalPort.map {
            ExternalEndpoint(url: "http://127.0.0.1:\($0)/v1", apiKeyEnv: nil, apiKeyFile: keyFile, limits: limits)
        }
        let dependencies = try AppDependencies(
            configuration: ServerConfiguration(dataDirectory: data, inventory: inventory),
            logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        return (
            Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0))),
            dependencies
        )
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
            try await Self.sparkDeck(externalPort: external.port).test(.live) { client in
                let body = ByteBuffer(string: Self.request.replacingOccurrences(of: "STREAM", with: ""))
                let session = try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: body
                ) { response in
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
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json", .init("X-SparkDeck-Session")!: session],
                    body: streamBody
                ) { response in
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
            try await Self.sparkDeck(externalPort: external.port).test(.live) { client in
                let image =
                    #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Maria Gonzalez"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}"#
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: ByteBuffer(string: image)
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains("only text parts can be sent privately"))
                }
                let odd = #"{"model":"m","messages":[{"role":"user","content":"hi","audio":{"data":"..."}}]}"#
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: ByteBuffer(string: odd)
                ) { response in
                    #expect(response.status == .badRequest)
                }
            }
        }
        #expect(recorder.bodies.withLock { $0.isEmpty }, "nothing was sent")
    }

    @Test func aFieldThatCannotBeScrubbedIsRefusedByNameAndNothingIsSent() async throws {
        let recorder = Recorder()
        try await Self.fakeExternal(recorder).test(.live) { external in
            try await Self.sparkDeck(externalPort: external.port).test(.live) { client in
                let body = #"{"model":"m","user":"maria@example.com","messages":[{"role":"user","content":"hi"}]}"#
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .badRequest)
                    let error = try #require(
                        (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["error"] as? [String: Any])
                    #expect(error["type"] as? String == "invalid_request_error")
                    #expect(error["param"] as? String == "user")
                    #expect((error["message"] as? String)?.contains("the private endpoint cannot send it") == true)
                }
            }
        }
        #expect(recorder.bodies.withLock { $0.isEmpty }, "nothing was sent")
    }

    /// An outside model that frames its events with CRLF, leaves out the space after `data:` and ends without a
    /// blank line, with its chunks cut inside a character.
    static func untidyExternal() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/chat/completions") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    let wire = Array(
                        ("data:"
                            + #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Café <PERSON_1>"},"finish_reason":null}]}"#
                            + "\r\n\r\ndata: "
                            + #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" 🎉"},"finish_reason":"stop"}]}"#
                            + "\r\n\r\ndata: [DONE]").utf8)
                    let cut = wire.firstIndex(of: 0xA9)! // the second byte of "é"
                    try await writer.write(ByteBuffer(bytes: wire[..<cut]))
                    try await Task.sleep(for: .milliseconds(50))
                    try await writer.write(ByteBuffer(bytes: wire[cut...]))
                    try await writer.finish(nil)
                })
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func anUntidyEventStreamComesBackWholeAndRehydrated() async throws {
        try await Self.untidyExternal().test(.live) { external in
            try await Self.sparkDeck(externalPort: external.port).test(.live) { client in
                let body = #"{"model":"m","stream":true,"messages":[{"role":"user","content":"Write to Maria Gonzalez"}]}"#
                let output = try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .ok)
                    return String(buffer: response.body)
                }
                #expect(try RehydratingEventStreamTests.content(output) == "Café Maria Gonzalez 🎉")
                #expect(output.hasSuffix("data: [DONE]\n\n"))
            }
        }
    }

    @Test func withoutAnExternalEndpointItSaysHowToConfigureOne() async throws {
        try await Self.sparkDeck(externalPort: nil).test(.router) { client in
            try await client.execute(
                uri: "/v1/private/chat/completions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"messages":[{"role":"user","content":"x"}]}"#)
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("redaction.external.url"))
            }
        }
    }
}

/// What a private chat request may send out: each field is either free of text, scrubbed, or refused by name.
@Suite("Private chat request")
struct PrivateChatRequestTests {
    static let request = PrivateChatRequest(scrubber: RedactionTests.scrubber)

    func scrubbed(_ json: String, session: inout ScrubSession) throws -> [String: Any] {
        let body = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try Self.request.scrubbed(body, session: &session)
    }

    static func text(_ body: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: body, options: .sortedKeys), as: UTF8.self)
    }

    @Test(arguments: [
        (#""user": "maria@example.com""#, "user"),
        (#""metadata": {"customer": "Maria Gonzalez"}"#, "metadata"),
        (#""prediction": {"type": "content", "content": "Dear Maria Gonzalez"}"#, "prediction"),
        (
            #""response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema": {"description": "Maria"}}}"#,
            "response_format"
        ),
        (#""tool_choice": {"type": "function", "function": {"name": "lookup"}}"#, "tool_choice"),
        (#""stream_options": {"include_usage": true, "note": "Maria Gonzalez"}"#, "stream_options.note"),
        (#""tools": [{"type": "custom", "custom": {"name": "notes", "description": "Maria Gonzalez"}}]"#, "tools[0]"),
        (
            #""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "x-note": "Maria Gonzalez"}}}]"#,
            "tools[0].function.parameters.x-note"
        ),
        (
            #""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"maria@example.com": {"type": "string"}}}}}]"#,
            "tools[0].function.parameters.properties.maria@example.com"
        ),
    ])
    func aTopLevelFieldThatCannotBeScrubbedIsRefusedByName(field: String, param: String) {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        let json = #"{"model": "m", "messages": [{"role": "user", "content": "hi"}], "# + field + "}"
        #expect {
            _ = try scrubbed(json, session: &session)
        } throws: { error in
            guard let error = error as? APIError else { return false }
            return error.param == param && error.status == .badRequest && error.message.contains("Nothing was sent")
        }
    }

    @Test(arguments: [
        (#"{"role": "user", "content": "hi", "audio": {"data": "Maria"}}"#, "messages[0].audio"),
        (#"{"role": "user", "content": [{"type": "text", "text": "hi", "note": "Maria Gonzalez"}]}"#, "messages[0].content[0].note"),
        (#"{"role": "Maria Gonzalez", "content": "hi"}"#, "messages[0].role"),
        (#"{"content": "hi"}"#, "messages[0].role"),
        (
            #"{"role": "assistant", "tool_calls": [{"id": "c1", "type": "custom", "custom": {"name": "n", "input": "Maria Gonzalez"}}]}"#,
            "messages[0].tool_calls[0]"
        ),
        (
            #"{"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}", "note": "Maria"}}]}"#,
            "messages[0].tool_calls[0].function.note"
        ),
        (
            #"{"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "mail_maria@example.com", "arguments": "{}"}}]}"#,
            "messages[0].tool_calls[0].function.name"
        ),
    ])
    func aMessageFieldThatCannotBeScrubbedIsRefusedByName(message: String, param: String) {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        #expect {
            _ = try scrubbed(#"{"model": "m", "messages": ["# + message + "]}", session: &session)
        } throws: { error in
            (error as? APIError)?.param == param
        }
    }

    @Test func everyTextIsScrubbedAndEveryPlainFieldKept() throws {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        let body = try scrubbed(
            #"""
            {"model": "gpt-x", "temperature": 0.2, "max_tokens": 50, "seed": 7, "stream": true,
             "stream_options": {"include_usage": true}, "logit_bias": {"1234": -100}, "user": null,
             "response_format": {"type": "json_object"}, "tool_choice": "auto", "parallel_tool_calls": false,
             "stop": ["Regards, Maria Gonzalez", "630-596-1111"],
             "tools": [{"type": "function", "function": {"name": "lookup", "strict": true,
               "description": "Finds the file of Maria Gonzalez (maria@example.com).",
               "parameters": {"type": "object", "required": ["who"], "additionalProperties": false,
                 "properties": {"who": {"type": "string", "description": "For example Maria Gonzalez",
                                        "enum": ["Maria Gonzalez", "630-596-1111"]}}}}}],
             "messages": [
               {"role": "developer", "content": "Call 630-596-1111 for Maria Gonzalez."},
               {"role": "assistant", "content": null, "refusal": null, "tool_calls": [{"id": "call_maria@example.com", "type": "function",
                 "function": {"name": "lookup", "arguments": "{\"who\": \"maria@example.com\"}"}}]},
               {"role": "tool", "tool_call_id": "call_maria@example.com", "content": "found"}]}
            """#, session: &session)
        let text = try Self.text(body)
        for secret in ["Maria", "Gonzalez", "maria@example.com", "630-596-1111"] {
            #expect(!text.lowercased().contains(secret.lowercased()), "LEAK: \(secret) in \(text)")
        }
        #expect(body["user"] == nil && body["temperature"] as? Double == 0.2 && body["tool_choice"] as? String == "auto")
        #expect(body["stop"] as? [String] == ["Regards, <PERSON_1>", "<PHONE_1>"])
        let function = try #require(((body["tools"] as? [[String: Any]])?.first?["function"]) as? [String: Any])
        #expect(function["name"] as? String == "lookup")
        #expect(function["description"] as? String == "Finds the file of <PERSON_1> (<EMAIL_1>).")
        let who = try #require(((function["parameters"] as? [String: Any])?["properties"] as? [String: Any])?["who"] as? [String: Any])
        #expect(who["enum"] as? [String] == ["<PERSON_1>", "<PHONE_1>"])
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages[1]["content"] is NSNull && messages[1]["refusal"] == nil)
        let call = try #require((messages[1]["tool_calls"] as? [[String: Any]])?.first)
        #expect(call["id"] as? String == messages[2]["tool_call_id"] as? String, "a call and its answer keep one id")
    }

    @Test func aNameIsLearnedFromTheWholeRequestBeforeAnyMessageIsScrubbed() throws {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        let body = try scrubbed(
            #"""
            {"model": "m", "messages": [{"role": "user", "content": "Gonzalez called about the loan."},
                                        {"role": "user", "content": "Her name is Maria Gonzalez."}]}
            """#, session: &session)
        let messages = try #require(body["messages"] as? [[String: Any]])
        #expect(messages.map { $0["content"] as? String } == ["<PERSON_1_LAST> called about the loan.", "Her name is <PERSON_1>."])
    }
}

/// The private proxy goes through the upstream core: admission, counts and clean error events like any upstream.
extension PrivateChatTests {
    @Test func theOutsideModelHasAnAdmissionCapLikeAnyUpstream() async throws {
        let recorder = Recorder()
        let limits = AdmissionLimits(maxInFlight: 1, queueDepth: 0, queueTimeoutMs: 1000)
        try await Self.fakeExternal(recorder).test(.live) { external in
            let (app, dependencies) = try Self.sparkDeckWithDependencies(externalPort: external.port, limits: limits)
            try await app.test(.live) { client in
                let body = ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"SLOW please"}]}"#)
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { _ = http.shutdown() }
                var slow = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(client.port))/v1/private/chat/completions")
                slow.method = .POST
                slow.headers.add(name: "Content-Type", value: "application/json")
                slow.body = .bytes(body)
                // Before: the proxy called the outside model directly, so the second request went out too.
                async let first = http.execute(slow, timeout: .seconds(90)).status.code
                let admitted = await TestSupport.eventually(timeout: .seconds(30)) {
                    dependencies.gates.inFlight(serviceID: "external") == 1
                }
                #expect(admitted)
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: body
                ) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.headers[.retryAfter] != nil)
                    #expect(String(buffer: response.body).contains("\"type\":\"overloaded\""))
                    #expect(response.headers[UpstreamCore.upstreamHeader] == "external")
                }
                recorder.releaseSlow.withLock { $0 = true }
                #expect(try await first == 200)
                #expect(dependencies.gates.inFlight(serviceID: "external") == 0, "the slot came back")
                let minute = dependencies.activity.lastMinute()
                #expect(minute.requests == 2 && minute.errors == 1, "both requests and the refusal are counted: \(minute)")
            }
        }
        #expect(recorder.bodies.withLock { $0.count } == 1, "the refused request never left")
    }

    @Test func anOutsideStreamThatBreaksEndsWithACleanErrorEvent() async throws {
        let recorder = Recorder()
        try await Self.fakeExternal(recorder).test(.live) { external in
            let (app, dependencies) = try Self.sparkDeckWithDependencies(externalPort: external.port)
            try await app.test(.live) { client in
                let body = ByteBuffer(string: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"BREAK now"}]}"#)
                try await client.execute(
                    uri: "/v1/private/chat/completions", method: .post,
                    headers: [.contentType: "application/json"], body: body
                ) { response in
                    #expect(response.status == .ok)
                    let text = String(buffer: response.body)
                    #expect(text.contains("Dear"), "what came before the break is passed on: \(text)")
                    let last = try #require(text.split(separator: "\n\n").last)
                    #expect(last.contains("stream_interrupted"), "the stream ends with an error event: \(text)")
                }
                #expect(dependencies.gates.inFlight(serviceID: "external") == 0)
                #expect(dependencies.activity.lastMinute().errors == 1, "the broken stream counts as an error")
            }
        }
    }
}
