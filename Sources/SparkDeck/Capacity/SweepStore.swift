import Foundation
import GRDB

/// Capacity sweeps in the store, each whole as JSON; the last `kept` are kept.
public struct SweepStore: Sendable {
    let store: Store
    static let kept = 50

    public init(store: Store) { self.store = store }

    public func save(_ sweep: CapacitySweep) async throws {
        let document = String(decoding: try JSONEncoder().encode(sweep), as: UTF8.self)
        try await store.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO capacity_sweep (id, state, started_at, document) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET state = excluded.state, document = excluded.document
                    """,
                arguments: [sweep.id, sweep.state.rawValue, sweep.startedAt, document])
            try db.execute(
                sql: "DELETE FROM capacity_sweep WHERE id NOT IN (SELECT id FROM capacity_sweep ORDER BY started_at DESC LIMIT ?)",
                arguments: [Self.kept])
        }
    }

    public func sweep(_ id: String) async throws -> CapacitySweep? {
        try await store.database.read { db in
            try String.fetchOne(db, sql: "SELECT document FROM capacity_sweep WHERE id = ?", arguments: [id]).map(Self.decode)
        }
    }

    /// Newest first.
    public func recent(limit: Int) async throws -> [CapacitySweep] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM capacity_sweep ORDER BY started_at DESC LIMIT ?", arguments: [limit])
                .map(Self.decode)
        }
    }

    /// The newest finished sweep.
    public func lastFinished() async throws -> CapacitySweep? {
        try await store.database.read { db in
            try String.fetchOne(
                db, sql: "SELECT document FROM capacity_sweep WHERE state = 'finished' ORDER BY started_at DESC LIMIT 1"
            ).map(Self.decode)
        }
    }

    /// Sweeps still marked running: SparkDeck stopped during them.
    public func unfinished() async throws -> [CapacitySweep] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM capacity_sweep WHERE state = 'running'").map(Self.decode)
        }
    }

    static func decode(_ document: String) throws -> CapacitySweep {
        try JSONDecoder().decode(CapacitySweep.self, from: Data(document.utf8))
    }
}
