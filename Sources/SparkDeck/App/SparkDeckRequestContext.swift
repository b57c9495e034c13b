import Hummingbird
import NIOCore

/// The request context of SparkDeck's router: Hummingbird's basic one plus the client's address, which caps
/// per client (event streams) are counted by.
public struct SparkDeckRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension RequestContext {
    /// The client's IP address (no port), or "unknown" (a test router has none).
    var clientAddress: String {
        (self as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "unknown"
    }
}
