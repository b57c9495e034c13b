import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /v1/private/chat/completions`: every text of the request is scrubbed (`PrivateChatRequest`), only scrubbed
/// text goes to the external endpoint in the inventory, and the answer (whole or streamed) is rehydrated on the way
/// back. Fails closed: if any part of a request cannot be scrubbed, nothing is sent.
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
        let id = try sessionID(request)
        let (scrubbed, session) = try await vault.exclusively(id) { [body] in
            var session = try await vault.session(id) ?? ScrubSession(id: id, expiresAt: 0)
            session.expiresAt = Timestamp.now() + RedactionController.defaultTTL
            let scrubbed = try PrivateChatRequest(scrubber: scrubber).scrubbed(body, session: &session)
            // Saved before anything leaves: every placeholder the outside model sees can be rehydrated.
            try await vault.save(session)
            return (scrubbed, session)
        }
        body = scrubbed

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

    /// The session named by `X-SparkDeck-Session`, or a new one.
    func sessionID(_ request: Request) throws -> String {
        guard let id = request.headers[Self.sessionHeader] else { return "scrub-" + UUID().uuidString.lowercased() }
        guard RedactionController.sessionIDPattern.firstMatch(in: id, range: NSRange(location: 0, length: (id as NSString).length)) != nil else {
            throw APIError.invalidRequest("`X-SparkDeck-Session` must be 8 to 128 letters, digits, '-' or '_'.")
        }
        return id
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

    /// Passes the external event stream on as it comes, rehydrated (`RehydratingEventStream`).
    func streamBody(_ upstream: HTTPClientResponse.Body, session: ScrubSession) -> ResponseBody {
        ResponseBody { writer in
            var stream = RehydratingEventStream(session: session)
            for try await chunk in upstream {
                let text = try stream.feed(chunk.readableBytesView)
                if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
            }
            let rest = try stream.finish()
            if !rest.isEmpty { try await writer.write(ByteBuffer(string: rest)) }
            try await writer.finish(nil)
        }
    }
}
