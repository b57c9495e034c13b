import Foundation
import HTTPTypes
import Hummingbird

/// Checks `Authorization: Bearer <key>` when API keys exist. Each route needs one scope (`admin` passes them all);
/// reading the cluster's state (dashboard, status, events, history) and the health endpoints stay open. Service logs
/// need `admin` even to read: a log can hold prompts and transcripts.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeyStore

    /// The scope a request needs, or nil for open routes.
    static func requiredScope(method: HTTPRequest.Method, path: String) -> APIScope? {
        if path.hasPrefix("/v1/audio/") { return .audio }
        if path.hasPrefix("/v1/embeddings") || path == "/v1/rerank" { return .embeddings }
        if path.hasPrefix("/v1/search/") { return .search }
        if path.hasPrefix("/v1/private/") || path.hasPrefix("/scrub") || path == "/rehydrate" { return .redaction }
        if path.hasPrefix("/v1/") { return .chat }
        if path.hasPrefix("/api/logs/") { return .admin }
        if path.hasPrefix("/api/"), method != .get { return .admin }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let scope = Self.requiredScope(method: request.method, path: request.uri.path), !(await keys.isOpen()) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError(.unauthorized, type: "authentication_error", code: "missing_api_key",
                           message: "This SparkDeck requires an API key: send `Authorization: Bearer <key>` (keys are made with `sparkdeck keys create`).")
        }
        let key = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard let record = await keys.lookup(key) else {
            throw APIError(.unauthorized, type: "authentication_error", code: "invalid_api_key",
                           message: "The API key is not valid or has been revoked.")
        }
        guard record.scopes.contains(scope) || record.scopes.contains(.admin) else {
            throw APIError(.forbidden, type: "authentication_error", code: "insufficient_scope",
                           message: "The key '\(record.name)' lacks the `\(scope.rawValue)` scope this endpoint needs (it has: \(record.scopes.map(\.rawValue).sorted().joined(separator: ", "))).")
        }
        return try await next(request, context)
    }
}
