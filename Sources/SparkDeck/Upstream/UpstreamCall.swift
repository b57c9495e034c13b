import Synchronization

/// One admitted request to an upstream, from its admission to its last byte: its lease and its outcome, settled
/// exactly once. A call that ends in an error thrown to the client is `abandon`ed (the route's observer counts the
/// error); one whose answer is dropped before its body is written (the client left before the head went out)
/// settles as ended early when it is released, so its slots are never lost.
final class UpstreamCall: Sendable {
    let route: String
    let upstream: String
    let arrived: ContinuousClock.Instant
    /// Time spent waiting: for a swap, then for admission (`X-SparkDeck-Queue-Ms`).
    let waited: Duration
    private let lease: AdmissionLease
    private let observer: GatewayObserver
    private let settled = Atomic<Bool>(false)
    /// For a service the monitor watches: its outage signal and how many outages it had when the call began.
    private let outage: (signal: EndSignal, epoch: UInt64)?
    /// The app the request came from (read where the call is made: the answer ends in another task).
    let app = RequestApp.current

    init(
        route: String, upstream: String, arrived: ContinuousClock.Instant, waited: Duration, lease: AdmissionLease,
        observer: GatewayObserver, outage: (signal: EndSignal, epoch: UInt64)? = nil
    ) {
        self.outage = outage
        self.route = route
        self.upstream = upstream
        self.arrived = arrived
        self.waited = waited
        self.lease = lease
        self.observer = observer
    }

    /// The answer ended with `status` (599: it broke off).
    func finish(status: Int) {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        lease.release()
        observer.answered(
            route: route, upstream: upstream, status: status, duration: ContinuousClock.now - arrived, queued: waited, app: app)
    }

    /// The call ends with an error the route throws: the slots go back, the count is the route's.
    func abandon() {
        guard !settled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        lease.release()
    }

    func firstByte() {
        observer.firstByte(route: route, upstream: upstream, after: ContinuousClock.now - arrived)
    }

    /// Runs one wait on the upstream (its head, a chunk of its body); it ends with `ServiceWentDown` as soon as the
    /// monitor sees the service stop serving after the call began.
    func unlessDown<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard let outage else { return try await operation() }
        let upstream = upstream
        return try await outage.signal.unlessRaised(upstream, after: outage.epoch, else: { ServiceWentDown(service: upstream) }, operation)
    }

    var isSettled: Bool { settled.load(ordering: .acquiring) }

    deinit { finish(status: 599) }
}
