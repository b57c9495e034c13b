import Foundation
import GRDB

/// Swap records in the store: each whole record as JSON, with the columns history queries need.
public struct SwapStore: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    public func save(_ record: SwapRecord) async throws {
        let document = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        try await store.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO swap (id, model, state, result, created_at, finished_at, load_seconds, document)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET state = excluded.state, result = excluded.result,
                      finished_at = excluded.finished_at, load_seconds = excluded.load_seconds, document = excluded.document
                    """,
                arguments: [
                    record.id, record.model, record.state.rawValue, record.result?.rawValue, record.createdAt,
                    record.finishedAt, record.loadSeconds, document,
                ])
        }
    }

    public func record(_ id: String) async throws -> SwapRecord? {
        try await store.database.read { db in
            try String.fetchOne(db, sql: "SELECT document FROM swap WHERE id = ?", arguments: [id]).map(Self.decode)
        }
    }

    public func history(limit: Int) async throws -> [SwapRecord] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM swap ORDER BY created_at DESC LIMIT ?", arguments: [limit]).map(Self.decode)
        }
    }

    /// Swaps that had not ended when SparkDeck last stopped.
    public func unfinished() async throws -> [SwapRecord] {
        try await store.database.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM swap WHERE result IS NULL ORDER BY created_at").map(Self.decode)
        }
    }

    /// Measured load times of a model, newest first.
    public func loadSeconds(of model: String, limit: Int = 5) async throws -> [Double] {
        try await store.database.read { db in
            try Double.fetchAll(
                db,
                sql: """
                    SELECT load_seconds FROM swap WHERE model = ? AND load_seconds IS NOT NULL ORDER BY created_at DESC LIMIT ?
                    """, arguments: [model, limit])
        }
    }

    /// The model the last ended swap left loaded, if any.
    public func lastLoadedModel() async throws -> String? {
        guard
            let last = try await store.database.read({ db in
                try String.fetchOne(db, sql: "SELECT document FROM swap WHERE result IS NOT NULL ORDER BY finished_at DESC LIMIT 1").map(
                    Self.decode)
            })
        else { return nil }
        switch last.result {
        case .ready: return last.model
        case .rolledBack, .cancelledRolledBack: return last.fromModel
        case .rollbackFailed, .failed, .none: return nil
        }
    }

    static func decode(_ document: String) throws -> SwapRecord {
        try JSONDecoder().decode(SwapRecord.self, from: Data(document.utf8))
    }
}
