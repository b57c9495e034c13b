import Hummingbird
import NIOCore

/// The request context of SparkDeck's router: Hummingbird's basic one plus the client's address, which caps
/// per client (event streams) are counted by, and its connection's end signal.
public struct SparkDeckRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Raised when the client's connection ends (nil where no `ClientConnectionHandler` watches it).
    let connectionEnd: EndSignal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        connectionEnd = ClientConnectionHandler.signal(for: source.channel)
    }
}

extension RequestContext {
    /// The client's IP address (no port), or "unknown" (a test router has none).
    var clientAddress: String {
        (self as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress ?? "unknown"
    }
}
