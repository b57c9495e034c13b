import Foundation
import HTTPTypes
import Hummingbird

/// Refuses requests whose `Host` this server does not go by (421) and requests a page of another site sent
/// (`Origin` not this server's, 403), before any route runs: see `HostPolicy`.
struct HostGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: HostPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // HTTP/1.1 `Host` arrives as the authority; a request without one (HTTP/1.0) comes from no browser.
        let host = request.head.authority
        if let host, !policy.allowsHost(host) {
            let name = HostPolicy.split(host)?.name ?? host
            throw APIError(
                .misdirectedRequest, type: "invalid_request_error", code: "host_not_allowed",
                message:
                    "SparkDeck does not answer to the name '\(name)'. Use its IP address or a local name, or, if this name is "
                    + "yours, start SparkDeck with `--allowed-host \(name)` (or SPARKDECK_ALLOWED_HOSTS=\(name)); this "
                    + "stops other web sites from reaching it through a DNS name they control.")
        }
        if let origin = request.headers[.origin], !policy.allowsOrigin(origin, host: host) {
            throw APIError(
                .forbidden, type: "invalid_request_error", code: "origin_not_allowed",
                message:
                    "A page from \(origin) may not call SparkDeck: only SparkDeck's own dashboard (and origins listed "
                    + "with `--allowed-host`) may send requests from a browser.")
        }
        return try await next(request, context)
    }
}
