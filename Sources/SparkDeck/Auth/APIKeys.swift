import Crypto
import Foundation
import GRDB
import Synchronization

/// What an API key may do.
public enum APIScope: String, Sendable, CaseIterable, Codable {
    case chat, audio, embeddings, search, redaction, admin
}

/// An API key as stored: never the key itself, only its SHA-256.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The first characters of the key, to recognise it in a list.
    public var prefix: String
    public var scopes: Set<APIScope>
    public var createdAt: Double
    public var revokedAt: Double?

    public var json: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "prefix": .string(prefix),
            "scopes": .array(scopes.map(\.rawValue).sorted().map(JSONValue.string)),
            "created_at": .string(Timestamp.iso(createdAt)),
            "revoked_at": revokedAt.map { .string(Timestamp.iso($0)) } ?? .null,
        ])
    }
}

/// API keys in the store, with an in-memory view refreshed every couple of seconds so keys created or revoked by
/// `sparkdeck keys` (another process) take effect without a restart.
public actor APIKeyStore {
    let store: Store
    /// Active keys by hash (nil until the store has been read once), and when they were read; checked on every
    /// request without waiting for the actor.
    private let cache = Mutex<(byHash: [String: APIKeyRecord]?, loadedAt: ContinuousClock.Instant)>((nil, .now - .seconds(3600)))
    static let refreshEvery: Duration = .seconds(2)
    static let keyPrefix = "sdk_"

    public init(store: Store) { self.store = store }

    /// Creates a key; returns the key text (shown once) and its record.
    public func create(name: String, scopes: Set<APIScope>) async throws -> (key: String, record: APIKeyRecord) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        let secret = String((0..<40).map { _ in alphabet.randomElement(using: &generator)! })
        let key = Self.keyPrefix + secret
        let record = APIKeyRecord(
            id: "key_" + String(secret.prefix(8)).lowercased() + String(Int.random(in: 1000...9999)),
            name: name, prefix: String(key.prefix(10)), scopes: scopes, createdAt: Timestamp.now())
        try await store.database.write { db in
            try db.execute(
                sql: "INSERT INTO api_key (id, name, prefix, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    record.id, name, record.prefix, Self.hash(key),
                    scopes.map(\.rawValue).sorted().joined(separator: ","), record.createdAt,
                ])
        }
        invalidate()
        return (key, record)
    }

    public func list() async throws -> [APIKeyRecord] {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at").map(Self.record)
        }
    }

    /// Revokes a key by id; false when there is no such active key.
    public func revoke(id: String) async throws -> Bool {
        let changed = try await store.database.write { db in
            try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [Timestamp.now(), id])
            return db.changesCount
        }
        invalidate()
        return changed > 0
    }

    /// True while no active key exists: the API is then open (a LAN-only deployment). False while the keys cannot
    /// be read.
    public nonisolated func isOpen() async -> Bool {
        await activeKeys()?.isEmpty ?? false
    }

    /// Whether a request whose `Authorization` header is `authorization` may see what `scope` guards: true while no
    /// key exists, false while the keys cannot be read.
    public nonisolated func grants(_ scope: APIScope, authorization: String?) async -> Bool {
        guard let active = await activeKeys() else { return false }
        if active.isEmpty { return true }
        guard let key = Self.bearerKey(authorization), let record = active[Self.hash(key)] else { return false }
        return record.scopes.contains(scope) || record.scopes.contains(.admin)
    }

    /// The key in an `Authorization: Bearer <key>` header.
    static func bearerKey(_ header: String?) -> String? {
        guard let header, header.lowercased().hasPrefix("bearer ") else { return nil }
        return String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// The active key with this text, if any.
    public nonisolated func lookup(_ key: String) async -> APIKeyRecord? {
        await activeKeys()?[Self.hash(key)]
    }

    /// The active keys by hash, or nil when the store has never been read successfully. A failed read keeps the
    /// last good view: a store error must never read as "no keys", which would open the API.
    nonisolated func activeKeys() async -> [String: APIKeyRecord]? {
        let (keys, loadedAt) = cache.withLock { ($0.byHash, $0.loadedAt) }
        if ContinuousClock.now - loadedAt < Self.refreshEvery { return keys }
        return await refresh()
    }

    /// Makes the next check read the store again.
    func invalidate() {
        cache.withLock { $0.loadedAt = .now - .seconds(3600) }
    }

    private var refreshing: Task<[String: APIKeyRecord]?, Never>?

    /// One read of the store at a time, however many requests found the view stale.
    private func refresh() async -> [String: APIKeyRecord]? {
        let (current, loadedAt) = cache.withLock { ($0.byHash, $0.loadedAt) }
        guard ContinuousClock.now - loadedAt >= Self.refreshEvery else { return current }
        if let refreshing { return await refreshing.value }
        let store = self.store
        let task = Task { () -> [String: APIKeyRecord]? in
            guard
                let rows = try? await store.database.read({ db in
                    try Row.fetchAll(db, sql: "SELECT * FROM api_key WHERE revoked_at IS NULL").map {
                        (String($0["hash"] as String), Self.record($0))
                    }
                })
            else { return nil }
            return Dictionary(rows, uniquingKeysWith: { first, _ in first })
        }
        refreshing = task
        let read = await task.value
        refreshing = nil
        // A failed read is tried again after the usual interval, with the last good view (if any) in the meantime.
        return cache.withLock {
            $0 = (read ?? $0.byHash, .now)
            return $0.byHash
        }
    }

    static func record(_ row: Row) -> APIKeyRecord {
        APIKeyRecord(
            id: row["id"], name: row["name"], prefix: row["prefix"],
            scopes: Set((row["scopes"] as String).split(separator: ",").compactMap { APIScope(rawValue: String($0)) }),
            createdAt: row["created_at"], revokedAt: row["revoked_at"])
    }

    static func hash(_ key: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(key.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 15)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
