import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A request body handed to a redaction thread and back. `JSONSerialization`'s objects are only read while it
/// crosses, by one thread at a time.
struct JSONObjectBox: @unchecked Sendable {
    let object: [String: Any]
    init(_ object: [String: Any]) { self.object = object }
}

/// `POST /v1/private/chat/completions`: every text of the request is scrubbed (`PrivateChatRequest`), only scrubbed
/// text goes to the external endpoint in the inventory, and the answer (whole or streamed) is rehydrated on the way
/// back. Fails closed: if any part of a request cannot be scrubbed, nothing is sent. The outside model is called
/// through the upstream core like any upstream: admission, timeouts, resends, metrics and a clean error event.
struct PrivateChatController {
    let scrubber: Scrubber
    let vault: PlaceholderVault
    let workers: RedactionWorkers
    let external: ExternalEndpoint?
    let core: UpstreamCore

    static let sessionHeader = HTTPField.Name("X-SparkDeck-Session")!
    static let answerLimit = 16 * 1024 * 1024

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/private/chat/completions") { request, context in
            try await core.observer.observing(route: "private_chat", upstream: "external") {
                try await complete(request, context: context)
            }
        }
    }

    func complete(_ request: Request, context: some RequestContext) async throws -> Response {
        var body = try await JSONBody.object(request, context: context, limit: 8 * 1024 * 1024)
        guard let external else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_external_endpoint",
                message: "No external model is configured: set `redaction.external.url` in the inventory.")
        }
        let id = try sessionID(request)
        let privateRequest = PrivateChatRequest(scrubber: scrubber)
        let caller = RequestCaller.of(request, context: context)
        let (scrubbed, session) = try await vault.exclusively(id) { [body] in
            let stored = try await vault.session(id)
            guard stored?.isUsable(by: caller) ?? true else { throw RedactionController.taken(id) }
            var loaded = stored ?? ScrubSession(id: id, expiresAt: 0)
            if stored == nil { loaded.owner = caller }
            loaded.expiresAt = Timestamp.now() + RedactionController.defaultTTL
            // The CPU-heavy part, off the threads that serve requests; given up if the client leaves.
            let (scrubbed, session) = try await workers.run { [loaded, body = JSONObjectBox(body)] stop in
                var session = loaded
                let scrubbed = try privateRequest.scrubbed(body.object, session: &session, stop: stop)
                return (JSONObjectBox(scrubbed), session)
            }
            // Saved before anything leaves: every placeholder the outside model sees can be rehydrated.
            try await vault.save(session)
            return (scrubbed.object, session)
        }
        body = scrubbed

        let streaming = (body["stream"] as? Bool) == true
        let upstream = Upstream(external: external)
        let outbound = UpstreamRequest(
            route: "private_chat", path: "/chat/completions",
            body: .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))),
            streaming: streaming)
        let call = try await core.admit(outbound, to: upstream)
        let answer = try await core.send(outbound, on: call, to: upstream)
        var headers: HTTPFields = [
            Self.sessionHeader: session.id, UpstreamCore.upstreamHeader: upstream.id,
            UpstreamCore.queueHeader: "\(UpstreamCore.milliseconds(call.waited))",
        ]
        let type = answer.headers.first(name: "content-type") ?? "application/json"
        headers[.contentType] = type
        let status = Int(answer.status.code)
        guard answer.status == .ok else {
            // An error answer can only echo what was sent: scrubbed text.
            let text = try await collect(answer, call: call)
            call.finish(status: status)
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: text))
        }
        if type.hasPrefix("text/event-stream") {
            return Response.eventStream(headers: headers, streamBody(answer.body, session: session, call: call))
        }
        let whole = try await collect(answer, call: call)
        guard var object = try? JSONSerialization.jsonObject(with: Data(buffer: whole)) as? [String: Any] else {
            call.abandon()
            throw APIError(
                .badGateway, type: "upstream_unavailable", code: "external_bad_answer",
                message: "The external model's answer is not JSON."
            ).naming(upstream.id, waited: call.waited)
        }
        object["choices"] = (object["choices"] as? [[String: Any]])?.map { choice in
            var choice = choice
            if var message = choice["message"] as? [String: Any] {
                message = rehydrated(message, session: session)
                choice["message"] = message
            }
            return choice
        }
        let answerBytes = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
        call.finish(status: status)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: answerBytes))
    }

    /// A whole answer, read within the answer limit; a failure to read it abandons the call with a gateway error.
    func collect(_ answer: HTTPClientResponse, call: UpstreamCall) async throws -> ByteBuffer {
        do {
            return try await answer.body.collect(upTo: Self.answerLimit)
        } catch {
            call.abandon()
            throw APIError(
                .badGateway, type: "upstream_unavailable", code: "external_bad_answer",
                message: "The external model's answer could not be read whole (at most \(Self.answerLimit / 1024 / 1024) MiB): \(error)."
            )
            .naming(call.upstream, waited: call.waited)
        }
    }

    /// The session named by `X-SparkDeck-Session`, or a new one.
    func sessionID(_ request: Request) throws -> String {
        guard let id = request.headers[Self.sessionHeader] else { return "scrub-" + UUID().uuidString.lowercased() }
        guard RedactionController.sessionIDPattern.firstMatch(in: id, range: NSRange(location: 0, length: (id as NSString).length)) != nil
        else {
            throw APIError.invalidRequest("`X-SparkDeck-Session` must be 16 to 128 letters, digits, '-' or '_'.")
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

    /// Passes the external event stream on as it comes, rehydrated (`RehydratingEventStream`); a stream that breaks
    /// off ends with a clean error event, as the gateway's do.
    func streamBody(_ upstream: HTTPClientResponse.Body, session: ScrubSession, call: UpstreamCall)
        -> @Sendable (inout any ResponseBodyWriter) async throws -> Void
    {
        { writer in
            var stream = RehydratingEventStream(session: session)
            do {
                var first = true
                for try await chunk in upstream {
                    if first {
                        call.firstByte()
                        first = false
                    }
                    let text = try stream.feed(chunk.readableBytesView)
                    if !text.isEmpty { try await writer.write(ByteBuffer(string: text)) }
                }
                let rest = try stream.finish()
                if !rest.isEmpty { try await writer.write(ByteBuffer(string: rest)) }
                try await writer.finish(nil)
                call.finish(status: 200)
            } catch {
                call.finish(status: 599)
                if error is CancellationError { throw error }
                // What came before the break goes out rehydrated, then the error event says the answer is cut.
                if let rest = try? stream.finish(), !rest.isEmpty { try? await writer.write(ByteBuffer(string: rest)) }
                try? await writer.write(ByteBuffer(string: UpstreamRelay.streamErrorEvent(upstream: call.upstream, error: error)))
                try? await writer.finish(nil)
            }
        }
    }
}
