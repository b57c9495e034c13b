import Synchronization

/// Ends the waits on something that has just gone: a service the health monitor saw stop serving (`StatusBoard`
/// raises it on every transition from serving to not serving, and the upstream core races each wait on a service
/// against it), or a client connection that closed (`ClientConnectionHandler`). Keyed by name; each raise counts, so
/// a wait begun at epoch `n` ends as soon as the key is past `n`.
public final class EndSignal: Sendable {
    /// A call's wait on a service: parked, or cancelled before it could park.
    private enum Waiter {
        case parked(CheckedContinuation<Void, Never>)
        case cancelled
    }

    private struct State {
        /// How many times each key was raised.
        var epochs: [String: UInt64] = [:]
        var waiters: [String: [UInt64: Waiter]] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// How many times `service` was raised so far; taken when a wait on it begins.
    public func epoch(of service: String) -> UInt64 { state.withLock { $0.epochs[service, default: 0] } }

    /// `service` has gone: every wait on it ends.
    public func raise(_ service: String) {
        let parked = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.epochs[service, default: 0] += 1
            let waiters = state.waiters.removeValue(forKey: service) ?? [:]
            return waiters.values.compactMap { if case .parked(let continuation) = $0 { continuation } else { nil } }
        }
        for continuation in parked { continuation.resume() }
    }

    /// Returns once `service` is raised after `epoch` (at once if it already was), or when the task is cancelled.
    func wait(for service: String, after epoch: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.epochs[service, default: 0] > epoch { return true }
                    if case .cancelled = state.waiters[service]?[id] {
                        state.waiters[service]?[id] = nil
                        return true
                    }
                    state.waiters[service, default: [:]][id] = .parked(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let parked = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if case .parked(let continuation) = state.waiters[service]?[id] {
                    state.waiters[service]?[id] = nil
                    return continuation
                }
                // Already ended by the service going down, or not parked yet: then the wait finds this mark and
                // returns instead of parking.
                if state.epochs[service, default: 0] > epoch { return nil }
                state.waiters[service, default: [:]][id] = .cancelled
                return nil
            }
            parked?.resume()
        }
    }

    /// Runs `operation`, but cancels it and throws `gone()` if `service` is raised after `epoch` first.
    func unlessRaised<Value: Sendable>(
        _ service: String, after epoch: UInt64, else gone: @escaping @Sendable () -> any Error,
        _ operation: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                await self.wait(for: service, after: epoch)
                if Task.isCancelled { return nil }
                throw gone()
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    /// Waiters not yet ended (for tests: a call that finished leaves none behind).
    var waiting: Int { state.withLock { $0.waiters.values.reduce(0) { $0 + $1.count } } }
}

/// A call ended because the health monitor saw its service stop serving while it waited for the answer.
public struct ServiceWentDown: Error, CustomStringConvertible {
    public let service: String
    public var description: String { "the health monitor saw the \(service) service stop answering" }
}
