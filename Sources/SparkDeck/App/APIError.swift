import Foundation
import Hummingbird

/// An error in the OpenAI envelope, so SDK clients surface our message:
/// `{"error": {"message", "type", "code", "param"}}`.
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var type: String
    public var code: String?
    public var message: String
    public var param: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, type: String, code: String? = nil, message: String, param: String? = nil) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = param
    }

    public static func invalidRequest(_ message: String, param: String? = nil, status: HTTPResponse.Status = .badRequest) -> APIError {
        APIError(status, type: "invalid_request_error", code: "invalid_request", message: message, param: param)
    }

    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, type: "invalid_request_error", code: "not_found", message: message)
    }

    public var body: JSONValue {
        .object([
            "error": .object([
                "message": .string(message), "type": .string(type), "code": .optional(code), "param": .optional(param),
            ])
        ])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

extension Response {
    /// A JSON response from a built document.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }
}
