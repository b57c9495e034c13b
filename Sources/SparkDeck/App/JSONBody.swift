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
    static func scan(_ request: Request, context: some RequestContext, limit: Int) async throws -> (bytes: ByteBuffer, body: JSONObjectScan)
    {
        let buffer = try await collect(request, context: context, limit: limit)
        do {
            return (buffer, try JSONObjectScan(Array(buffer.readableBytesView)))
        } catch .notAnObject {
            throw notAnObject
        } catch {
            throw invalid
        }
    }

    /// The body decoded as `T`, with a 400 that names the field and what it must be when it does not fit.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, context: some RequestContext, limit: Int) async throws -> T {
        try decode(type, from: try await collect(request, context: context, limit: limit))
    }

    /// Bytes already read (by `scan`) decoded as `T`, with the same 400s.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Self.explained(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw invalid
        }
    }

    /// A decoding error as the client should read it: which field, and what was expected there.
    static func explained(_ error: DecodingError) -> APIError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { path, key in
                if let index = key.intValue { return path + "[\(index)]" }
                return path.isEmpty ? key.stringValue : path + "." + key.stringValue
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError.invalidRequest("`\(field)` is required.", param: field)
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            if field.isEmpty { return notAnObject }
            return APIError.invalidRequest("`\(field)` must be \(Self.describe(type)).", param: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty { return invalid }
            return APIError.invalidRequest("`\(field)`: \(context.debugDescription)", param: field)
        @unknown default:
            return invalid
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        case is [String].Type: "a list of strings"
        default: String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }

    static let invalid = APIError.invalidRequest("The body is not valid JSON; check quotes, commas and braces.")
    static let notAnObject = APIError.invalidRequest("The body must be a JSON object.")

    private static func collect(_ request: Request, context: some RequestContext, limit: Int) async throws -> ByteBuffer {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw APIError.invalidRequest(
                "Send the body as JSON with `Content-Type: application/json`" + (type.isEmpty ? "." : " (got \(type))."),
                status: .unsupportedMediaType)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch {
            throw APIError.invalidRequest(
                "The body is over \(limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB").",
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
