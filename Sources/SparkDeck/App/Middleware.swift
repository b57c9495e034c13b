import Foundation
import HTTPTypes
import Hummingbird

/// Gives every response an `X-Request-Id` (the client's, when it sent a sane one) and turns every error into the
/// OpenAI error envelope, unknown routes included.
struct RequestIdMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let incoming = request.headers[.requestId].flatMap { id in
            id.count <= 128 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) } ? id : nil
        }
        // Hummingbird's own id: a process-wide random prefix and a counter, so no random read per request.
        let requestId = incoming ?? context.id
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = try error.response(from: request, context: context)
        } catch let error as HTTPError {
            response = Self.envelope(for: error, request: request)
        } catch {
            context.logger.error("unhandled error: \(error)")
            response = Response.json(
                APIError(
                    .internalServerError, type: "server_error", code: "internal_error",
                    message: "SparkDeck hit an internal error; see its log (request \(requestId))."
                ).body,
                status: .internalServerError)
        }
        response.headers[.requestId] = requestId
        return response
    }

    static func envelope(for error: HTTPError, request: Request) -> Response {
        let apiError: APIError
        switch error.status {
        case .notFound:
            apiError = .notFound("No route \(request.method.rawValue) \(request.uri.path). See /openapi.json or docs/ for the API.")
        case .methodNotAllowed:
            apiError = .invalidRequest("\(request.method.rawValue) is not allowed on \(request.uri.path).", status: .methodNotAllowed)
        default:
            apiError = APIError(
                error.status, type: error.status.code >= 500 ? "server_error" : "invalid_request_error",
                message: error.body ?? error.status.reasonPhrase)
        }
        var response = Response.json(apiError.body, status: apiError.status)
        response.headers.append(contentsOf: error.headers)
        return response
    }
}

extension HTTPField.Name {
    static let requestId = Self("X-Request-Id")!
}

/// Cancels the work of an API request whose client goes away before its answer is ready: its queue place or
/// upstream slot is given back and the upstream call is cancelled, instead of running on for nobody. Only routes that
/// may wait are watched (the `/v1` API and the redaction gateway); dashboard and maintenance routes are not (a swap
/// must not stop because a browser tab closed). An answer streamed after its head is not watched here: its next write
/// fails when the client has gone.
struct CancelOnDisconnectMiddleware: RouterMiddleware {
    typealias Context = SparkDeckRequestContext

    static func watches(_ request: Request) -> Bool {
        guard request.method == .post else { return false }
        let path = request.uri.path
        return path.hasPrefix("/v1/") || path == "/scrub" || path == "/rehydrate"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard Self.watches(request), let connection = context.connectionEnd else { return try await next(request, context) }
        return try await withoutActuallyEscaping(next) { next in
            // The group below waits for `next` to return before this returns, so it never outlives this call.
            let handler = UncheckedSendable(next)
            return try await connection.unlessRaised(ClientConnectionHandler.key, after: 0, else: { CancellationError() }) {
                try await handler.value(request, context)
            }
        }
    }
}

/// Lets a value the compiler cannot prove sendable cross into a child task whose lifetime the caller bounds.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
