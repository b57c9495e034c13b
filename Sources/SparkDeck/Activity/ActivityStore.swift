import Foundation
import GRDB

/// Per-minute activity counts in the store, kept 30 days and at most `maxRows` rows.
public struct ActivityStore: Sendable {
    let store: Store
    public static let retentionDays = 30
    public static let maxRows = 200_000

    public init(store: Store) { self.store = store }

    /// Adds counts to the rows of their minutes (a minute saved in part at shutdown gets the rest after a restart),
    /// then drops what is past the retention.
    func add(_ counts: [ActivityKey: ActivityCounts], now: Double = Timestamp.now()) async throws {
        try await add(taking: { counts }, restore: { _ in }, now: now)
    }

    /// Takes counts from memory with `take` and adds them, in one step of the store's writer: `counts(since:plus:)`
    /// runs on the same writer, so it sees each count once, in memory or in the store, never both or neither. A
    /// failed write hands them back with `restore` before the writer is free again.
    func add(
        taking take: @Sendable () -> [ActivityKey: ActivityCounts], restore: @Sendable ([ActivityKey: ActivityCounts]) -> Void,
        now: Double = Timestamp.now()
    ) async throws {
        try await store.database.write { db in
            let counts = take()
            guard !counts.isEmpty else { return }
            do {
                try Self.insert(counts, db: db, now: now)
            } catch {
                restore(counts)
                throw error
            }
        }
    }

    static func insert(_ counts: [ActivityKey: ActivityCounts], db: Database, now: Double) throws {
        for (key, value) in counts {
            var merged = value
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM activity_minute WHERE minute = ? AND app = ? AND route = ? AND upstream = ?",
                arguments: [key.minute, key.app, key.route, key.upstream])
            {
                merged.add(Self.counts(row))
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO activity_minute
                      (minute, app, route, upstream, requests, client_errors, overloaded, swapping, upstream_errors,
                       latency, queue_ms, tokens_in, tokens_out, documents, audio_seconds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key.minute, key.app, key.route, key.upstream, merged.requests, merged.errors(.client),
                    merged.errors(.overloaded), merged.errors(.swapping), merged.errors(.upstream), merged.latencyText,
                    merged.queueMs, merged.tokensIn, merged.tokensOut, merged.documents,
                    merged.audioSeconds,
                ])
        }
        let oldest = Int(now) / 60 - Self.retentionDays * 24 * 60
        try db.execute(sql: "DELETE FROM activity_minute WHERE minute < ?", arguments: [oldest])
        let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity_minute") ?? 0
        if rows > Self.maxRows {
            try db.execute(
                sql: "DELETE FROM activity_minute WHERE rowid IN (SELECT rowid FROM activity_minute ORDER BY minute LIMIT ?)",
                arguments: [rows - Self.maxRows])
        }
    }

    /// The saved counts from `minute` on, with those `unsaved` gives (still in memory) added, read on the store's
    /// writer so no flush moves counts from memory to the store in between.
    func counts(since minute: Int, plus unsaved: @Sendable () -> [ActivityKey: ActivityCounts] = { [:] }) async throws
        -> [ActivityKey: ActivityCounts]
    {
        try await store.database.write { db in
            var result: [ActivityKey: ActivityCounts] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM activity_minute WHERE minute >= ?", arguments: [minute]) {
                result[ActivityKey(minute: row["minute"], app: row["app"], route: row["route"], upstream: row["upstream"])] =
                    Self.counts(row)
            }
            for (key, value) in unsaved() { result[key, default: ActivityCounts()].add(value) }
            return result
        }
    }

    static func counts(_ row: Row) -> ActivityCounts {
        var counts = ActivityCounts()
        counts.requests = row["requests"]
        for kind in RequestOutcome.ErrorKind.allCases {
            let column = ["client": "client_errors", "overloaded": "overloaded", "swapping": "swapping", "upstream": "upstream_errors"][
                kind.rawValue]!
            counts.errors[kind.index] = row[column]
        }
        counts.latency = ActivityCounts.latency(from: row["latency"])
        counts.queueMs = row["queue_ms"]
        counts.tokensIn = row["tokens_in"]
        counts.tokensOut = row["tokens_out"]
        counts.documents = row["documents"]
        counts.audioSeconds = row["audio_seconds"]
        return counts
    }
}
