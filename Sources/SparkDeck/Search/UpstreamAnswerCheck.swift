import Foundation
import NIOCore

/// Reads an embedder's, reranker's or Qdrant's error answer into the gateway's envelope, with the upstream's own
/// sentence: TEI's `{"error"}`, OpenAI's `{"error": {"message"}}`, Qdrant's `{"status": {"error"}}`, FastAPI's
/// `{"detail"}`. Pure.
enum UpstreamAnswerCheck {
    static func message(_ body: ByteBuffer) -> String {
        let data = Data(buffer: body)
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let text = object["error"] as? String { return text }
            if let text = (object["error"] as? [String: Any])?["message"] as? String { return text }
            if let text = (object["status"] as? [String: Any])?["error"] as? String { return text }
            if let text = object["detail"] as? String { return text }
            if let text = object["message"] as? String { return text }
        }
        return String(decoding: data.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The answer's body when it is a 2xx; otherwise the error a client should see: a 4xx from the upstream is the
    /// request's fault (400 with the upstream's sentence), anything else the upstream's (502).
    static func body(_ answer: UpstreamCore.WholeAnswer, from service: String, doing what: String) throws -> Data {
        guard (200..<300).contains(answer.status) else {
            let message = "The \(service) service refused \(what) (HTTP \(answer.status)): \(message(answer.body))"
            let error =
                (400..<500).contains(answer.status)
                ? APIError(.badRequest, type: "invalid_request_error", code: "upstream_rejected", message: message)
                : APIError(.badGateway, type: "upstream_unavailable", code: "upstream_error", message: message)
            throw error.naming(service, waited: answer.waited)
        }
        return Data(buffer: answer.body)
    }

    static func unreadable(_ service: String, _ what: String) -> APIError {
        APIError(
            .badGateway, type: "upstream_unavailable", code: "upstream_bad_answer",
            message: "The \(service) service's answer to \(what) has an unexpected shape; check its `api:` settings in the inventory.")
    }
}
