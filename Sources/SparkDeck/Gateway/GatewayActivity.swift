import Foundation
import ServiceLifecycle
import Synchronization

/// Counts gateway requests and errors per second over the last minute, for the dashboard's live panel. A lock, not
/// an actor: every request records, and a hop per request cost more than the counting.
public final class GatewayActivity: Sendable {
    private let buckets = Mutex([(second: Int, requests: Int, errors: Int)](repeating: (0, 0, 0), count: 60))

    public init() {}

    /// One finished request; `failed` for 5xx answers, rejections and broken streams.
    public func record(failed: Bool, at time: Double = Timestamp.now()) {
        let second = Int(time)
        let index = second % 60
        buckets.withLock { buckets in
            if buckets[index].second != second { buckets[index] = (second, 0, 0) }
            buckets[index].requests += 1
            if failed { buckets[index].errors += 1 }
        }
    }

    /// Requests and errors in the last 60 s.
    public func lastMinute(now: Double = Timestamp.now()) -> (requests: Int, errors: Int) {
        let current = Int(now)
        return buckets.withLock { buckets in
            buckets.filter { current - $0.second < 60 }.reduce((0, 0)) { ($0.0 + $1.requests, $0.1 + $1.errors) }
        }
    }
}

/// Once a second: tells the status board whether the API is open and how loaded the gateway is.
struct GatewayStatusPublisher: Service {
    let board: StatusBoard
    let keys: APIKeyStore
    let gates: GatewayGates
    let activity: GatewayActivity

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let minute = activity.lastMinute()
                var gateLoad: [String: JSONValue] = [:]
                for (name, gate) in gates.loads() {
                    gateLoad[name] = .object([
                        "in_flight": .number(Double(gate.load.inFlight)), "queued": .number(Double(gate.load.queued)),
                        "max_in_flight": .number(Double(gate.limits.maxInFlight)), "queue": .number(Double(gate.limits.queueDepth)),
                    ])
                }
                await board.setAccess(
                    open: await keys.isOpen(),
                    gatewayLoad: .object([
                        "requests_last_minute": .number(Double(minute.requests)),
                        "errors_last_minute": .number(Double(minute.errors)),
                        "gates": .object(gateLoad),
                    ]))
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
