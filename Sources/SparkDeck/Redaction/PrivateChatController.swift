import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/private/chat/completions`: every message is scrubbed, only scrubbed text goes to the external endpoint
/// in the inventory, and the answer (whole or streamed) is rehydrated on the way back. Fails closed: if any part of
/// a request cannot be scrubbed, nothing is sent.
struct PrivateChatController {
    let scrubber: Scrubber
    let vault: PlaceholderVault
    let external: ExternalEndpoint?
    let client: HTTPClient
    let logger: Logger

    static let sessionHeader = HTTPField.Name("X-SparkDeck-Session")!
    static let answerLimit = 16 * 1024 * 1024

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/private/chat/completions") { request, context in try await complete(request, context: context) }
    }

    func complete(_ request: Request, context: some RequestContext) async throws -> Response {
        var body = try await JSONBody.object(request, context: context, limit: 8 * 1024 * 1024)
        guard let external else {
            throw APIError(.serviceUnavailable, type: "upstream_unavailable", code: "no_external_endpoint",
                           message: "No external model is configured: set `redaction.external.url` in the inventory.")
        }
        guard let messages = body["messages"] as? [[String: Any]], !messages.isEmpty else {
            throw APIError.invalidRequest("`messages` must be a non-empty list of {role, content}.", param: "messages")
        }
        var session = try await openSession(request)
        body["messages"] = try messages.enumerated().map { index, message in try scrub(message, index: index, session: &session) }
        // Saved before anything leaves: every placeholder the outside model sees can be rehydrated.
        try await vault.save(session)

        var outbound = HTTPClientRequest(url: external.url + "/chat/completions")
        outbound.method = .POST
        outbound.headers.add(name: "Content-Type", value: "application/json")
        if let key = external.apiKey() { outbound.headers.add(name: "Authorization", value: "Bearer \(key)") }
        outbound.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        let answer: HTTPClientResponse
        do {
            answer = try await client.execute(outbound, timeout: .seconds(300), logger: logger)
        } catch {
            throw APIError(.badGateway, type: "upstream_unavailable", code: "external_unreachable",
                           message: "Could not reach the external model: \(error).")
        }
        var headers: HTTPFields = [Self.sessionHeader: session.id]
        let type = answer.headers.first(name: "content-type") ?? "application/json"
        headers[.contentType] = type
        guard answer.status == .ok else {
            // An error answer can only echo what was sent: scrubbed text.
            let text = try await answer.body.collect(upTo: Self.answerLimit)
            return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: text))
        }
        if type.hasPrefix("text/event-stream") {
            return Response(status: .ok, headers: headers, body: streamBody(answer.body, session: session))
        }
        let whole = try await answer.body.collect(upTo: Self.answerLimit)
        guard var object = try? JSONSerialization.jsonObject(with: Data(buffer: whole)) as? [String: Any] else {
            throw APIError(.badGateway, type: "upstream_unavailable", code: "external_bad_answer",
                           message: "The external model's answer is not JSON.")
        }
        object["choices"] = (object["choices"] as? [[String: Any]])?.map { choice in
            var choice = choice
            if var message = choice["message"] as? [String: Any] {
                message = rehydrated(message, session: session)
                choice["message"] = message
            }
            return choice
        }
        return Response(status: .ok, headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))))
    }

    func openSession(_ request: Request) async throws -> ScrubSession {
        let ttl = RedactionController.defaultTTL
        guard let id = request.headers[Self.sessionHeader] else {
            return ScrubSession(id: "scrub-" + UUID().uuidString.lowercased(), expiresAt: Timestamp.now() + ttl)
        }
        guard RedactionController.sessionIDPattern.firstMatch(in: id, range: NSRange(location: 0, length: (id as NSString).length)) != nil else {
            throw APIError.invalidRequest("`X-SparkDeck-Session` must be 8 to 128 letters, digits, '-' or '_'.")
        }
        var session = try await vault.session(id) ?? ScrubSession(id: id, expiresAt: 0)
        session.expiresAt = Timestamp.now() + ttl
        return session
    }

    /// One message with every text scrubbed: content (a string or text parts), its name, tool-call arguments.
    func scrub(_ message: [String: Any], index: Int, session: inout ScrubSession) throws -> [String: Any] {
        var message = message
        func text(_ value: String) -> String { scrubber.scrub(value, session: &session).text }
        for (key, value) in message {
            switch (key, value) {
            case ("role", _), (_, is NSNull):
                continue
            case ("content", let content as String), ("name", let content as String):
                message[key] = text(content)
            case ("content", let parts as [[String: Any]]):
                message[key] = try parts.map { part in
                    guard part["type"] as? String == "text", let value = part["text"] as? String else {
                        throw APIError.invalidRequest("messages[\(index)]: only text parts can be sent privately (got \(part["type"] ?? "?")); nothing was sent.", param: "messages")
                    }
                    var part = part
                    part["text"] = text(value)
                    return part
                }
            case ("tool_calls", let calls as [[String: Any]]):
                message[key] = calls.map { call in
                    var call = call
                    if var function = call["function"] as? [String: Any] {
                        if let arguments = function["arguments"] as? String { function["arguments"] = text(arguments) }
                        call["function"] = function
                    }
                    return call
                }
            case ("tool_call_id", _):
                continue
            default:
                throw APIError.invalidRequest("messages[\(index)].\(key) cannot be scrubbed, so it cannot be sent privately; nothing was sent.", param: "messages")
            }
        }
        return message
    }

    func rehydrated(_ message: [String: Any], session: ScrubSession) -> [String: Any] {
        var message = message
        if let content = message["content"] as? String { message["content"] = Rehydrator.rehydrate(content, session: session).text }
        if let calls = message["tool_calls"] as? [[String: Any]] {
            message["tool_calls"] = calls.map { call in
                var call = call
                if var function = call["function"] as? [String: Any], let arguments = function["arguments"] as? String {
                    function["arguments"] = Rehydrator.rehydrate(arguments, session: session).text
                    call["function"] = function
                }
                return call
            }
        }
        return message
    }

    /// Rewrites the external SSE stream event by event, rehydrating each choice's content as it flows.
    func streamBody(_ upstream: HTTPClientResponse.Body, session: ScrubSession) -> ResponseBody {
        ResponseBody { writer in
            var rehydrators: [Int: StreamingRehydrator] = [:]
            var buffer = ""
            func emit(_ event: String) async throws {
                try await writer.write(ByteBuffer(string: event + "\n\n"))
            }
            func flushAll() async throws {
                for (index, var rehydrator) in rehydrators {
                    let rest = rehydrator.finish()
                    rehydrators[index] = rehydrator
                    if !rest.isEmpty {
                        let chunk: [String: Any] = ["object": "chat.completion.chunk",
                                                    "choices": [["index": index, "delta": ["content": rest], "finish_reason": NSNull()]]]
                        try await emit("data: " + String(decoding: try JSONSerialization.data(withJSONObject: chunk), as: UTF8.self))
                    }
                }
            }
            for try await chunk in upstream {
                buffer += String(buffer: chunk)
                while let end = buffer.range(of: "\n\n") {
                    let event = String(buffer[..<end.lowerBound])
                    buffer.removeSubrange(..<end.upperBound)
                    guard event.hasPrefix("data: ") else {
                        try await emit(event)
                        continue
                    }
                    let payload = event.dropFirst(6)
                    if payload == "[DONE]" {
                        try await flushAll()
                        try await emit(event)
                        continue
                    }
                    guard var object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any],
                          let choices = object["choices"] as? [[String: Any]] else {
                        try await emit(event)
                        continue
                    }
                    object["choices"] = choices.map { choice in
                        var choice = choice
                        let index = choice["index"] as? Int ?? 0
                        var rehydrator = rehydrators[index] ?? StreamingRehydrator(session: session)
                        var delta = choice["delta"] as? [String: Any] ?? [:]
                        var text = (delta["content"] as? String).map { rehydrator.feed($0) } ?? ""
                        if let finish = choice["finish_reason"], !(finish is NSNull) { text += rehydrator.finish() }
                        if delta["content"] != nil || !text.isEmpty { delta["content"] = text }
                        choice["delta"] = delta
                        rehydrators[index] = rehydrator
                        return choice
                    }
                    try await emit("data: " + String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
                }
            }
            try await flushAll()
            try await writer.finish(nil)
        }
    }
}
