import Foundation
import GRDB

/// Maintenance action runs in the store.
public struct ActionStore: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    public func save(_ run: ActionRun) async throws {
        try await store.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO action_run (id, action, node, started_at, ended_at, exit_code, error, output)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET ended_at = excluded.ended_at, exit_code = excluded.exit_code,
                      error = excluded.error, output = excluded.output
                    """,
                arguments: [
                    run.id, run.action, run.node, run.startedAt, run.endedAt, run.exitCode.map { Int($0) },
                    run.error, run.output,
                ])
        }
    }

    /// The newest run of each action.
    public func lastRuns() async throws -> [String: ActionRun] {
        let runs = try await store.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM action_run r WHERE started_at = (SELECT MAX(started_at) FROM action_run WHERE action = r.action)
                    """
            ).map(Self.run)
        }
        return Dictionary(runs.map { ($0.action, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Runs that had not ended when SparkDeck last stopped are ended now, saying so: their outcome is unknown.
    public func endInterrupted(at time: Double = Timestamp.now()) throws {
        try store.database.write { db in
            try db.execute(
                sql: """
                    UPDATE action_run SET ended_at = ?, error = 'SparkDeck stopped while this ran; its outcome is unknown, so check the node before running it again'
                    WHERE ended_at IS NULL
                    """, arguments: [time])
        }
    }

    static func run(_ row: Row) -> ActionRun {
        ActionRun(
            id: row["id"], action: row["action"], node: row["node"], startedAt: row["started_at"],
            endedAt: row["ended_at"], exitCode: (row["exit_code"] as Int?).map { Int32($0) }, error: row["error"],
            output: row["output"])
    }
}
