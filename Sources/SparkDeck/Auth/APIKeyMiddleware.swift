import Foundation
import HTTPTypes
import Hummingbird

/// Checks `Authorization: Bearer <key>` when API keys exist. Each route needs one scope (`admin` passes them all);
/// reading the cluster's state (dashboard, status, events, history) and the health endpoints stay open. Service logs
/// and maintenance actions need `admin` even to read: a log can hold prompts and transcripts, an action's output
/// whatever its command printed (on `/api/events`, action output goes only to streams opened with an admin key).
///
/// The scope is decided by the route the router matched (`context.endpointPath`), never by the request's path text:
/// the router reads `//api/swaps` and `/rehydrate/` as `/api/swaps` and `/rehydrate`, and a check on the raw text
/// would let them through without a key.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let keys: APIKeyStore

    /// The scope a request to `route` (a route pattern as registered, e.g. `/api/swaps/{id}/cancel`) needs, or nil
    /// for open routes.
    static func requiredScope(method: HTTPRequest.Method, route: String) -> APIScope? {
        if route.hasPrefix("/v1/audio/") { return .audio }
        if route.hasPrefix("/v1/embeddings") || route == "/v1/rerank" { return .embeddings }
        if route.hasPrefix("/v1/search/") { return .search }
        if route.hasPrefix("/v1/private/") || route.hasPrefix("/scrub") || route == "/rehydrate" { return .redaction }
        if route.hasPrefix("/v1/") { return .chat }
        if route.hasPrefix("/api/logs/") || route.hasPrefix("/api/actions") { return .admin }
        if route.hasPrefix("/api/"), method != .get, method != .head { return .admin }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // No matched route (endpointPath nil): the router answers 404 whatever the key.
        guard let route = context.endpointPath, let scope = Self.requiredScope(method: request.method, route: route) else {
            return try await next(request, context)
        }
        guard let active = await keys.activeKeys() else {
            var error = APIError(
                .serviceUnavailable, type: "server_error", code: "api_keys_unreadable",
                message:
                    "SparkDeck cannot read its API keys from its store (sparkdeck.sqlite in its data folder), so it refuses requests that need a key until it can; check the disk and the file's permissions."
            )
            error.headers[.retryAfter] = "2"
            throw error
        }
        if active.isEmpty {
            return try await RequestApp.$current.withValue(RequestApp(name: context.clientAddress, isKey: false)) {
                try await next(request, context)
            }
        }
        guard let key = APIKeyStore.bearerKey(request.headers[.authorization]) else {
            throw APIError(
                .unauthorized, type: "authentication_error", code: "missing_api_key",
                message:
                    "This SparkDeck requires an API key: send `Authorization: Bearer <key>` (keys are made with `sparkdeck keys create`).")
        }
        guard let record = active[APIKeyStore.hash(key)] else {
            throw APIError(
                .unauthorized, type: "authentication_error", code: "invalid_api_key",
                message: "The API key is not valid or has been revoked.")
        }
        guard record.scopes.contains(scope) || record.scopes.contains(.admin) else {
            throw APIError(
                .forbidden, type: "authentication_error", code: "insufficient_scope",
                message:
                    "The key '\(record.name)' lacks the `\(scope.rawValue)` scope this endpoint needs (it has: \(record.scopes.map(\.rawValue).sorted().joined(separator: ", ")))."
            )
        }
        // The request belongs to the app its key was made for (`sparkdeck keys create --name`).
        return try await RequestApp.$current.withValue(RequestApp(name: record.name, isKey: true)) {
            try await next(request, context)
        }
    }
}
