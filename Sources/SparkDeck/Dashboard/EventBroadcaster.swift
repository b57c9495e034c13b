import Foundation
import ServiceLifecycle

/// Fans events out to every connected SSE client. Each client has a bounded buffer: a slow one loses old events
/// (the next `status` event carries the whole picture again) instead of growing memory.
public actor EventBroadcaster {
    private var subscribers: [UUID: AsyncStream<ServerEvent>.Continuation] = [:]
    static let bufferPerClient = 64

    public init() {}

    public var subscriberCount: Int { subscribers.count }

    public func subscribe() -> (id: UUID, events: AsyncStream<ServerEvent>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(
            of: ServerEvent.self,
            bufferingPolicy: .bufferingNewest(Self.bufferPerClient))
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        subscribers[id] = continuation
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    public func publish(_ event: ServerEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    /// Ends every stream (graceful shutdown).
    public func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }
}

/// Pings every SSE client every `interval`, so a client that left is found by the failed write and its
/// subscription ends, even while the cluster is quiet.
public struct EventHeartbeat: Service {
    let events: EventBroadcaster
    let interval: Duration

    public init(events: EventBroadcaster, interval: Duration = .seconds(2)) {
        self.events = events
        self.interval = interval
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await events.publish(.ping)
            }
        }
        await events.finishAll()
    }
}
