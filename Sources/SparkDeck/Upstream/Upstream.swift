import Foundation
import HTTPTypes
import NIOCore

/// Where an outbound call goes: a service of the inventory, or the outside model endpoint of the redaction gateway.
/// The upstream core admits, sends and relays for both alike.
public struct Upstream: Sendable {
    /// The service id (`vllm`, `asr`, ...), or `external` for the outside model.
    public let id: String
    /// Base URL without a trailing slash; request paths are appended to it.
    public let baseURL: String
    /// The service's own admission limits, then its group's (entered in that order, so no two requests wait for each
    /// other's slots).
    let gateLimits: [(name: String, limits: AdmissionLimits)]
    /// The status board watches it: a request is refused at once while it is down, and a failed connection is
    /// reported to the board as a passive health signal.
    let watched: Bool
    /// Sent with every call (the outside model's API key, read when needed).
    let authorization: (@Sendable () -> String?)?

    public init(service: ClusterService) {
        id = service.id
        baseURL = service.baseURL
        gateLimits = [(service.id, service.limits)] + (service.admissionGroup.map { [($0.name, $0.limits)] } ?? [])
        watched = true
        authorization = nil
    }

    public init(external: ExternalEndpoint) {
        id = "external"
        baseURL = external.url
        gateLimits = [("external", external.limits)]
        watched = false
        authorization = { external.apiKey() }
    }
}

/// A request body on its way to an upstream.
public enum UpstreamBody: Sendable {
    case none
    /// Bytes in hand: sent again when the first attempt provably never reached the upstream.
    case bytes(ByteBuffer)
    /// Streamed as it arrives (an upload of any size, never held whole); sent once.
    case stream(any AsyncSequence<ByteBuffer, any Error> & Sendable, length: Int?)

    var canResend: Bool {
        if case .stream = self { return false }
        return true
    }
}

/// One outbound request, as the upstream core sends it.
public struct UpstreamRequest: Sendable {
    /// The route label in metrics and activity (`chat`, `completions`, `private_chat`, ...).
    public var route: String
    public var method: HTTPRequest.Method
    public var path: String
    public var body: UpstreamBody
    public var contentType: String?
    /// The client asked for an event stream: silence past the idle timeout ends it.
    public var streaming: Bool
    /// How long the request already waited before it came to the core (for a swap to end); counted in
    /// `X-SparkDeck-Queue-Ms` with the admission wait.
    public var waited: Duration
    /// Overrides the first-byte timeout for this request (a check that must not wait minutes).
    public var timeout: Duration?

    public init(
        route: String, method: HTTPRequest.Method = .post, path: String, body: UpstreamBody = .none,
        contentType: String? = "application/json", streaming: Bool = false, waited: Duration = .zero,
        timeout: Duration? = nil
    ) {
        self.timeout = timeout
        self.route = route
        self.method = method
        self.path = path
        self.body = body
        self.contentType = contentType
        self.streaming = streaming
        self.waited = waited
    }
}
