import Hummingbird
import NIOCore
import Synchronization

/// Watches each client connection for its end: the client closing its side (`inputClosed`: SparkDeck lets a client
/// half-close) or the connection dropping. Requests on the connection find its `EndSignal` through their context, so
/// work for a client that left stops at once (`CancelOnDisconnectMiddleware`). Keep-alive is untouched: the handler
/// only looks at events, it reads nothing.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Never
    static let key = "client"

    /// The signal of every open connection, by channel.
    private static let open = Mutex<[ObjectIdentifier: EndSignal]>([:])

    private let gone = EndSignal()

    init() {}

    /// The end signal of the connection `channel` is (nil for a channel it does not watch, e.g. a test router's).
    static func signal(for channel: any Channel) -> EndSignal? {
        open.withLock { $0[ObjectIdentifier(channel)] }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = ObjectIdentifier(context.channel)
        Self.open.withLock { $0[channel] = gone }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let channel = ObjectIdentifier(context.channel)
        _ = Self.open.withLock { $0.removeValue(forKey: channel) }
        gone.raise(Self.key)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { gone.raise(Self.key) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        gone.raise(Self.key)
        context.fireChannelInactive()
    }
}
