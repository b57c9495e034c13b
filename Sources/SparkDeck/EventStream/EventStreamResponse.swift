import HTTPTypes
import Hummingbird

extension Response {
    /// The headers every `text/event-stream` answer of SparkDeck carries: no caching, and no buffering by a proxy
    /// in front of it.
    static let eventStreamHeaders: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// A `text/event-stream` answer whose events `write` sends: the one place such an answer's head is made.
    static func eventStream(
        status: HTTPResponse.Status = .ok, headers: HTTPFields = [:],
        _ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        var fields = eventStreamHeaders
        for field in headers { fields[field.name] = field.value }
        return Response(status: status, headers: fields, body: ResponseBody(write))
    }
}
