import Foundation
import NIOCore

/// An upstream's error answer in the OpenAI envelope the gateway promises, so an SDK client surfaces its message:
/// vLLM's already is; Kokoro's and FastAPI's `{"detail": ...}`, or plain text, are wrapped. Pure.
enum UpstreamErrorAnswer {
    /// The most of an error answer read (its message is the useful part).
    static let limit = 64 * 1024

    static func enveloped(status: Int, body: ByteBuffer, upstream: String) -> ByteBuffer {
        let data = Data(buffer: body)
        let parsed = try? JSONSerialization.jsonObject(with: data)
        if let object = parsed as? [String: Any], object["error"] is [String: Any] { return body }
        let message = detail(parsed) ?? String(decoding: data.prefix(2000), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let code = ((parsed as? [String: Any])?["detail"] as? [String: Any])?["error"] as? String
        let error = JSONValue.object([
            "error": .object([
                "message": .string("The \(upstream) service answered \(status)" + (message.isEmpty ? "." : ": \(message)")),
                "type": .string(status < 500 ? "invalid_request_error" : "upstream_unavailable"),
                "code": .string(code ?? "upstream_error"),
                "param": .null,
            ])
        ])
        return ByteBuffer(bytes: error.encoded())
    }

    /// FastAPI's `detail`: a string, an object with `message`, or a list of validation errors with `msg`.
    private static func detail(_ parsed: Any?) -> String? {
        guard let object = parsed as? [String: Any] else { return nil }
        if let text = object["detail"] as? String { return text }
        if let detail = object["detail"] as? [String: Any] { return detail["message"] as? String ?? detail["error"] as? String }
        if let list = object["detail"] as? [[String: Any]] {
            return list.compactMap { item -> String? in
                guard let message = item["msg"] as? String else { return nil }
                let field = (item["loc"] as? [Any])?.map { "\($0)" }.joined(separator: ".")
                return field.map { "\($0): \(message)" } ?? message
            }.joined(separator: "; ")
        }
        return object["message"] as? String
    }
}
