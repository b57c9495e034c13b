import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Passes an upstream's answer on to the client as it arrives: status and headers mapped, the body streamed
/// without buffering, an event stream in whole events (`EventStreamFramer`), usage read from a whole JSON answer,
/// and a clean error event when a stream breaks off. Settles the call when the last byte is out.
struct UpstreamRelay: Sendable {
    let settings: UpstreamSettings
    let traffic: TrafficClock?
    let logger: Logger

    /// The most of a whole JSON answer kept for `onJSON` (usage counting).
    static let capturedLimit = 4 * 1024 * 1024

    func respond(
        _ upstream: HTTPClientResponse, call: UpstreamCall,
        onJSON: (@Sendable (ByteBuffer) -> Void)?
    ) async throws -> Response {
        var headers: HTTPFields = [
            UpstreamCore.upstreamHeader: call.upstream,
            UpstreamCore.queueHeader: "\(UpstreamCore.milliseconds(call.waited))",
        ]
        let upstreamType = upstream.headers.first(name: "content-type") ?? "application/octet-stream"
        let isEventStream = upstreamType.hasPrefix("text/event-stream")
        if isEventStream {
            for field in Response.eventStreamHeaders { headers[field.name] = field.value }
        }
        headers[.contentType] = upstreamType
        if let cache = upstream.headers.first(name: "cache-control") { headers[.cacheControl] = cache }
        // A sized answer stays sized: the client gets it without chunked framing. The bytes are still passed on
        // as they arrive.
        let contentLength = upstream.headers.first(name: "content-length")
        if let contentLength { headers[.contentLength] = contentLength }
        let status = Int(upstream.status.code)
        traffic?.noteBytes(from: call.upstream)
        let wantsJSON = onJSON != nil && !isEventStream && status == 200

        if status >= 400 {
            // An error answer is small and read whole, so it can be put in the envelope the gateway promises.
            let body: ByteBuffer
            do {
                body = try await upstream.body.collect(upTo: UpstreamErrorAnswer.limit)
            } catch {
                body = ByteBuffer()
            }
            call.finish(status: status)
            headers[.contentType] = "application/json"
            headers[.contentLength] = nil
            return Response(
                status: .init(code: status), headers: headers,
                body: .init(byteBuffer: UpstreamErrorAnswer.enveloped(status: status, body: body, upstream: call.upstream)))
        }
        let chunks = AnswerChunks(upstream.body, call: call)
        var first: ByteBuffer?
        if !isEventStream {
            // A plain answer comes with its head or right after it. Waiting for its first bytes lets an answer that
            // arrived whole go to the client in one write; the rest, if any, streams.
            do {
                first = try await chunks.next()
                call.firstByte()
                let length = contentLength.flatMap { Int($0) }
                // The body is read to its end even when its length says it is all there: the client hands the
                // connection back to its pool only then, and a body left unread closes the connection.
                if let length, length == (first?.readableBytes ?? 0), try await chunks.next() == nil {
                    if wantsJSON, let first { onJSON?(first) }
                    call.finish(status: status)
                    return Response(
                        status: .init(code: status), headers: headers,
                        body: ResponseBody(byteBuffer: first ?? ByteBuffer()))
                }
            } catch {
                call.abandon()
                throw UpstreamSender.apiError(for: error, upstream: call.upstream, settings: settings, streaming: false)
                    .naming(call.upstream, waited: call.waited)
            }
        }
        let logger = self.logger
        let traffic = self.traffic
        return Response(
            status: .init(code: status), headers: headers,
            body: ResponseBody { [first] writer in
                var collected: ByteBuffer? = wantsJSON ? ByteBuffer() : nil
                var framer = EventStreamFramer()
                func pass(_ chunk: ByteBuffer) async throws {
                    if let size = collected?.readableBytes, size < Self.capturedLimit {
                        var copy = chunk
                        collected?.writeBuffer(&copy)
                    }
                    guard isEventStream else { return try await writer.write(chunk) }
                    if let whole = framer.feed(chunk) { try await writer.write(whole) }
                }
                do {
                    if let first { try await pass(first) }
                    var awaitingFirstByte = first == nil
                    while let chunk = try await chunks.next() {
                        traffic?.noteBytes(from: call.upstream)
                        if awaitingFirstByte {
                            call.firstByte()
                            awaitingFirstByte = false
                        }
                        try await pass(chunk)
                    }
                    // The stream ended cleanly: whatever is left (an event without its blank line) goes as it is.
                    if let rest = framer.finish() { try await writer.write(rest) }
                    try await writer.finish(nil)
                    if let collected { onJSON?(collected) }
                    call.finish(status: status)
                } catch {
                    logger.info("upstream: \(call.route) to \(call.upstream) ended early: \(error)")
                    call.finish(status: 599)
                    // The client left (a write failed) or the upstream broke mid-body. A stream gets a clean error event
                    // before it closes (the partial event held back is dropped); a client that left gets nothing, and
                    // the upstream request is cancelled by leaving the loop.
                    if isEventStream, !(error is CancellationError) {
                        try? await writer.write(ByteBuffer(string: Self.streamErrorEvent(upstream: call.upstream, error: error)))
                        try? await writer.finish(nil)
                        return
                    }
                    // Any other answer cannot be ended cleanly: the error makes the server close the connection, so the
                    // client sees a cut answer at once instead of waiting for bytes that never come.
                    throw error
                }
            })
    }

    /// The event a broken stream ends with, in the OpenAI error envelope.
    static func streamErrorEvent(upstream: String, error: any Error) -> String {
        let message = "The \(upstream) stream broke off: \(error). The answer above is incomplete."
        let json = JSONValue.object([
            "error": .object([
                "message": .string(message), "type": .string("upstream_unavailable"), "code": .string("stream_interrupted"),
                "param": .null,
            ])
        ])
        return "data: " + String(decoding: json.encoded(), as: UTF8.self) + "\n\n"
    }
}

/// An upstream's answer body read a chunk at a time. Each wait for a chunk ends with `ServiceWentDown` as soon as
/// the monitor sees the service stop serving, so a hung service does not hold its client until the idle timeout.
final class AnswerChunks: @unchecked Sendable {
    // Read by one task at a time: the relay, then the body writer it hands the rest to.
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let call: UpstreamCall

    init(_ body: HTTPClientResponse.Body, call: UpstreamCall) {
        iterator = body.makeAsyncIterator()
        self.call = call
    }

    func next() async throws -> ByteBuffer? {
        try await call.unlessDown { try await self.iterator.next() }
    }
}
