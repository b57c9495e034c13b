import DequeModule
import Foundation
import Synchronization

/// Per-app activity: the live request log (the last `logCapacity` requests) and per-minute counts by app, route and
/// upstream, which `ActivityFlusher` moves to the store once their minute is over. A lock, not an actor: every
/// request records, and the counting is a few additions.
public final class AppActivity: Sendable {
    public static let logCapacity = 5_000

    private struct State {
        var log = Deque<RequestLogEntry>()
        var minutes: [ActivityKey: ActivityCounts] = [:]
    }
    private let state = Mutex(State())
    let store: ActivityStore?

    public init(store: ActivityStore?) { self.store = store }

    /// One request that ended.
    public func record(app: RequestApp?, route: String, upstream: String, outcome: RequestOutcome, at time: Double = Timestamp.now()) {
        let name = app?.name ?? "unknown"
        let key = ActivityKey(minute: Int(time) / 60, app: name, route: route, upstream: upstream)
        let entry = RequestLogEntry(
            time: time, app: name, route: route, upstream: upstream, status: outcome.status, errorCode: outcome.errorCode,
            durationMs: outcome.durationMs, queueMs: outcome.queueMs)
        state.withLock { state in
            state.minutes[key, default: ActivityCounts()].add(outcome)
            if state.log.count >= Self.logCapacity { state.log.removeFirst() }
            state.log.append(entry)
        }
    }

    /// Adds what an answer reported beyond its outcome (tokens, texts embedded, seconds of audio) to the counts of
    /// the minute it ended in.
    public func add(
        app: RequestApp?, route: String, upstream: String, at time: Double = Timestamp.now(), _ change: (inout ActivityCounts) -> Void
    ) {
        let key = ActivityKey(minute: Int(time) / 60, app: app?.name ?? "unknown", route: route, upstream: upstream)
        state.withLock { state in change(&state.minutes[key, default: ActivityCounts()]) }
    }

    /// The log, newest first, filtered; at most `limit` entries.
    public func log(app: String? = nil, route: String? = nil, errorsOnly: Bool = false, limit: Int = 200) -> [RequestLogEntry] {
        state.withLock { state in
            var result: [RequestLogEntry] = []
            for entry in state.log.reversed() {
                if let app, entry.app != app { continue }
                if let route, entry.route != route { continue }
                if errorsOnly, entry.status < 400 { continue }
                result.append(entry)
                if result.count >= limit { break }
            }
            return result
        }
    }

    /// Takes the counts of minutes before `minute` (all of them with nil), to be saved.
    func takeCounts(before minute: Int?) -> [ActivityKey: ActivityCounts] {
        state.withLock { state in
            guard let minute else {
                defer { state.minutes.removeAll() }
                return state.minutes
            }
            let done = state.minutes.filter { $0.key.minute < minute }
            for key in done.keys { state.minutes[key] = nil }
            return done
        }
    }

    /// Counts not saved yet, from `minute` on.
    func unsavedCounts(since minute: Int) -> [ActivityKey: ActivityCounts] {
        state.withLock { state in state.minutes.filter { $0.key.minute >= minute } }
    }

    /// Saves the minutes that are over (all of them with `everything`, at shutdown). A busy or full disk loses no
    /// counts: they stay for the next flush.
    public func flush(everything: Bool = false, now: Double = Timestamp.now()) async throws {
        guard let store else { return }
        let before = everything ? nil : Int(now) / 60
        try await store.add(
            taking: { self.takeCounts(before: before) },
            restore: { counts in
                self.state.withLock { state in
                    for (key, value) in counts { state.minutes[key, default: ActivityCounts()].add(value) }
                }
            }, now: now)
    }

    /// The counts of the last `minutes` minutes, saved and not, summed by the key with its minute set to 0 (and
    /// `route`/`upstream` set to "" unless `byRoute`); and the totals per minute, for a chart.
    public func summary(minutes: Int, byRoute: Bool, now: Double = Timestamp.now()) async throws
        -> (groups: [ActivityKey: ActivityCounts], perMinute: [Int: ActivityCounts])
    {
        let since = Int(now) / 60 - minutes + 1
        let rows: [ActivityKey: ActivityCounts]
        if let store {
            rows = try await store.counts(since: since, plus: { self.unsavedCounts(since: since) })
        } else {
            rows = unsavedCounts(since: since)
        }
        var groups: [ActivityKey: ActivityCounts] = [:]
        var perMinute: [Int: ActivityCounts] = [:]
        for (key, value) in rows {
            let group = ActivityKey(minute: 0, app: key.app, route: byRoute ? key.route : "", upstream: byRoute ? key.upstream : "")
            groups[group, default: ActivityCounts()].add(value)
            perMinute[key.minute, default: ActivityCounts()].add(value)
        }
        return (groups, perMinute)
    }
}
