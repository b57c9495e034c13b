import Foundation
import GRDB

/// One outage of a service or node, as `/api/connectivity` shows it.
public struct OutageRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var target: String
    public var targetKind: TargetKind
    public var startedAt: Double
    public var endedAt: Double?
    public var cause: String?

    public func json(now: Double) -> [String: JSONValue] {
        [
            "id": .number(Double(id)), "target": .string(target), "target_kind": .string(targetKind.rawValue),
            "started_at": .string(Timestamp.iso(startedAt)),
            "ended_at": endedAt.map { .string(Timestamp.iso($0)) } ?? .null,
            "duration_seconds": .number((((endedAt ?? now) - startedAt) * 1000).rounded() / 1000),
            "cause": cause.map(JSONValue.string) ?? .null,
        ]
    }
}

/// One recorded change of a target's state.
public struct StateChangeRecord: Sendable, Equatable {
    public var id: Int64
    public var target: String
    public var targetKind: TargetKind
    public var from: HealthState
    public var to: HealthState
    public var at: Double
    public var cause: String?

    public var json: [String: JSONValue] {
        [
            "id": .number(Double(id)), "target": .string(target), "target_kind": .string(targetKind.rawValue),
            "from": .string(from.rawValue), "to": .string(to.rawValue), "at": .string(Timestamp.iso(at)),
            "cause": cause.map(JSONValue.string) ?? .null,
        ]
    }
}

/// The connectivity log: every state change and every outage, durable in the store.
public struct ConnectivityLog: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    /// Writes a transition; opens or closes an outage. Returns the outage that this transition ended, if any.
    @discardableResult
    public func record(target: String, kind: TargetKind, transition: TargetTracker.Transition) async throws -> OutageRecord? {
        try await store.database.write { db in
            try db.execute(
                sql: "INSERT INTO state_change (target, target_kind, from_state, to_state, at, cause) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [target, kind.rawValue, transition.from.rawValue, transition.to.rawValue, transition.at, transition.cause])
            switch transition.outage {
            case .none:
                return nil
            case .started:
                try db.execute(
                    sql: "INSERT INTO outage (target, target_kind, started_at, cause) VALUES (?, ?, ?, ?)",
                    arguments: [target, kind.rawValue, transition.at, transition.cause])
                return nil
            case .ended:
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT id, started_at, cause FROM outage WHERE target = ? AND target_kind = ? AND ended_at IS NULL
                            ORDER BY started_at DESC LIMIT 1
                            """, arguments: [target, kind.rawValue])
                else { return nil }
                let id: Int64 = row["id"]
                try db.execute(sql: "UPDATE outage SET ended_at = ? WHERE id = ?", arguments: [transition.at, id])
                return OutageRecord(
                    id: id, target: target, targetKind: kind, startedAt: row["started_at"],
                    endedAt: transition.at, cause: row["cause"])
            }
        }
    }

    /// Outages left open by a previous run (SparkDeck stopped or crashed during them), keyed by target.
    public func openOutages(kind: TargetKind) throws -> [String: Double] {
        try store.database.read { db in
            var open: [String: Double] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT target, MIN(started_at) AS started FROM outage WHERE ended_at IS NULL AND target_kind = ? GROUP BY target",
                arguments: [kind.rawValue])
            {
                open[row["target"]] = row["started"]
            }
            return open
        }
    }

    /// Outages that overlap the time since `since`, oldest first.
    public func outages(since: Double) async throws -> [OutageRecord] {
        try await store.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outage WHERE ended_at IS NULL OR ended_at >= ? ORDER BY started_at LIMIT 10000
                    """, arguments: [since]
            ).map { row in
                OutageRecord(
                    id: row["id"], target: row["target"], targetKind: TargetKind(rawValue: row["target_kind"]) ?? .service,
                    startedAt: row["started_at"], endedAt: row["ended_at"], cause: row["cause"])
            }
        }
    }

    /// State changes since `since`, oldest first.
    public func changes(since: Double) async throws -> [StateChangeRecord] {
        try await store.database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM state_change WHERE at >= ? ORDER BY at, id LIMIT 10000",
                arguments: [since]
            ).map { row in
                StateChangeRecord(
                    id: row["id"], target: row["target"],
                    targetKind: TargetKind(rawValue: row["target_kind"]) ?? .service,
                    from: HealthState(rawValue: row["from_state"]) ?? .unknown,
                    to: HealthState(rawValue: row["to_state"]) ?? .unknown, at: row["at"], cause: row["cause"])
            }
        }
    }
}
