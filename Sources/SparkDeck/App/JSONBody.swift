import Foundation
import Hummingbird

/// Reads a request's JSON object body, with OpenAI-shaped errors that say what to fix (415, 413, 400).
enum JSONBody {
    static func object(_ request: Request, context: some RequestContext, limit: Int) async throws -> [String: Any] {
        try await read(request, context: context, limit: limit).object
    }

    /// The body's bytes as sent, and the object they hold (a proxy forwards the bytes when it changes nothing).
    static func read(_ request: Request, context: some RequestContext, limit: Int) async throws -> (bytes: ByteBuffer, object: [String: Any]) {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw APIError.invalidRequest("Send the body as JSON with `Content-Type: application/json`" + (type.isEmpty ? "." : " (got \(type))."),
                                          status: .unsupportedMediaType)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError.invalidRequest("The body is over \(limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB").",
                                          status: .contentTooLarge)
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(buffer: buffer))
        } catch {
            throw APIError.invalidRequest("The body is not valid JSON; check quotes, commas and braces.")
        }
        guard let object = parsed as? [String: Any] else {
            throw APIError.invalidRequest("The body must be a JSON object.")
        }
        return (buffer, object)
    }
}
