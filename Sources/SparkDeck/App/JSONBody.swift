import Foundation
import Hummingbird

/// Reads a request's JSON object body, with OpenAI-shaped errors that say what to fix (415, 413, 400).
enum JSONBody {
    /// The whole object, decoded (for routes that use most of it).
    static func object(_ request: Request, context: some RequestContext, limit: Int) async throws -> [String: Any] {
        let buffer = try await collect(request, context: context, limit: limit)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(buffer: buffer))
        } catch {
            throw invalid
        }
        guard let object = parsed as? [String: Any] else { throw notAnObject }
        return object
    }

    /// The body's bytes as sent, checked as JSON, with its top-level members located (for a proxy that reads a few
    /// fields and forwards the bytes).
    static func scan(_ request: Request, context: some RequestContext, limit: Int) async throws -> (bytes: ByteBuffer, body: JSONObjectScan) {
        let buffer = try await collect(request, context: context, limit: limit)
        do {
            return (buffer, try JSONObjectScan(Array(buffer.readableBytesView)))
        } catch .notAnObject {
            throw notAnObject
        } catch {
            throw invalid
        }
    }

    static let invalid = APIError.invalidRequest("The body is not valid JSON; check quotes, commas and braces.")
    static let notAnObject = APIError.invalidRequest("The body must be a JSON object.")

    private static func collect(_ request: Request, context: some RequestContext, limit: Int) async throws -> ByteBuffer {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw APIError.invalidRequest("Send the body as JSON with `Content-Type: application/json`" + (type.isEmpty ? "." : " (got \(type))."),
                                          status: .unsupportedMediaType)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw APIError.invalidRequest("The body is over \(limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB").",
                                          status: .contentTooLarge)
        }
    }
}

/// A cluster mutation's `"confirm": true`, read from the body as written: only the JSON literal `true` confirms.
/// Foundation's JSON objects cannot tell `1` from `true` (both come out as numbers that convert to `Bool`), and a
/// swap or an action must not run on anything but the literal the API asks for.
enum Confirmation {
    /// True for `"confirm": true`; false when it is absent, `null` or `false`; a 400 for any other value.
    static func read(_ body: JSONObjectScan) throws -> Bool {
        guard let member = body["confirm"], member.kind != .null else { return false }
        guard member.kind == .bool else { throw APIError.invalidRequest("`confirm` must be true or false.", param: "confirm") }
        return body.bytes[member.range].first == UInt8(ascii: "t")
    }
}
