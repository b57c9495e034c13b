/// Which app made a request: the name of the API key it sent, or, while the API is open (no keys), the client's
/// address. Set by `APIKeyMiddleware` for every API route and read where the request's outcome is counted.
public struct RequestApp: Sendable, Hashable {
    public var name: String
    /// Whether `name` is a key's name (a bounded set) rather than a client address.
    public var isKey: Bool

    public init(name: String, isKey: Bool) {
        self.name = name
        self.isKey = isKey
    }

    /// The request's app, for the task that serves it.
    @TaskLocal public static var current: RequestApp?

    /// The Prometheus `app` label: a key's name, or `open` for every client of an open API (addresses are not
    /// bounded, so they stay out of the metrics).
    public var metricLabel: String { isKey ? name : "open" }
}
