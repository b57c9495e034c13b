import Crypto
import Foundation
import GRDB

/// Scrub sessions in the store, encrypted at rest (AES-GCM with a key file in the data folder, mode 0600), each
/// expiring after its TTL and deletable at once. Survives restarts.
public actor PlaceholderVault {
    let store: Store
    let key: SymmetricKey
    let limits: Limits

    /// How much the vault holds: per session (its sealed mapping, in bytes) and all sessions together.
    public struct Limits: Sendable {
        public var sessionBytes: Int
        public var totalBytes: Int

        public init(sessionBytes: Int, totalBytes: Int) {
            self.sessionBytes = sessionBytes
            self.totalBytes = totalBytes
        }

        /// 8 MiB per session (about 100,000 distinct values), 256 MiB in all.
        public static let defaults = Limits(sessionBytes: 8 << 20, totalBytes: 256 << 20)
    }

    public init(store: Store, dataDirectory: String, limits: Limits = .defaults) throws {
        self.store = store
        self.limits = limits
        key = try Self.loadOrCreateKey(at: (dataDirectory as NSString).appendingPathComponent("vault.key"))
    }

    static func loadOrCreateKey(at path: String) throws -> SymmetricKey {
        if FileManager.default.fileExists(atPath: path) {
            // A key that exists but cannot be read is an error, never a reason to make a new one: that would
            // orphan every stored session.
            guard let data = FileManager.default.contents(atPath: path) else { throw VaultError.cannotReadKey(path) }
            guard data.count == 32 else { throw VaultError.badKeyFile(path) }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        try key.withUnsafeBytes { bytes in try writeNewKey(bytes, to: path) }
        return key
    }

    /// Writes a new key file readable by its owner only from the start (no moment with wider permissions), and
    /// flushed to disk before anything is sealed with the key. Fails if the file appeared meanwhile.
    static func writeNewKey(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw VaultError.cannotWriteKey(path) }
        defer { close(fd) }
        guard write(fd, bytes.baseAddress, bytes.count) == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw VaultError.cannotWriteKey(path)
        }
    }

    public enum VaultError: Error, CustomStringConvertible {
        case badKeyFile(String)
        case cannotReadKey(String)
        case cannotWriteKey(String)
        public var description: String {
            switch self {
            case .badKeyFile(let path): "the vault key \(path) is not 32 bytes; restore it from a backup or delete it (and every session)"
            case .cannotReadKey(let path):
                "the vault key \(path) exists but cannot be read; check its owner and permissions (SparkDeck will not replace it: that would lose every session)"
            case .cannotWriteKey(let path): "cannot write the vault key \(path)"
            }
        }
    }

    /// The session, or nil when it does not exist or has expired.
    public func session(_ id: String, now: Double = Timestamp.now()) async throws -> ScrubSession? {
        guard
            let row = try await store.database.read({ db in
                try Row.fetchOne(db, sql: "SELECT sealed, expires_at FROM scrub_session WHERE id = ?", arguments: [id])
            })
        else { return nil }
        guard (row["expires_at"] as Double) > now else {
            _ = try await delete(id)
            return nil
        }
        let box = try AES.GCM.SealedBox(combined: row["sealed"] as Data)
        return try JSONDecoder().decode(ScrubSession.self, from: try AES.GCM.open(box, using: key, authenticating: Data(id.utf8)))
    }

    /// Saves the session, unless it is over the per-session limit or the vault would go over its total: then a 413
    /// (`scrub_session_too_large`, `vault_full`) and the stored session, if any, stays as it was.
    public func save(_ session: ScrubSession) async throws {
        let plain = try JSONEncoder().encode(session)
        guard plain.count <= limits.sessionBytes else {
            throw APIError(
                .contentTooLarge, type: "invalid_request_error", code: "scrub_session_too_large",
                message:
                    "The scrub session \(session.id) would hold \(plain.count >> 10) KiB of mappings; a session holds at most \(limits.sessionBytes >> 10) KiB. Nothing was saved: scrub less text per session, or start a new one."
            )
        }
        // The id is authenticated with the data: a sealed session cannot be moved under another id.
        guard let sealed = try AES.GCM.seal(plain, using: key, authenticating: Data(session.id.utf8)).combined else { return }
        let now = Timestamp.now()
        let total = limits.totalBytes
        try await store.database.write { db in
            try db.execute(sql: "DELETE FROM scrub_session WHERE expires_at <= ?", arguments: [now])
            let others =
                try Int.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(LENGTH(sealed)), 0) FROM scrub_session WHERE id != ?", arguments: [session.id]) ?? 0
            guard others + sealed.count <= total else {
                throw APIError(
                    .contentTooLarge, type: "invalid_request_error", code: "vault_full",
                    message:
                        "The vault holds \(others >> 20) MiB of scrub sessions; it holds at most \(total >> 20) MiB. Nothing was saved: delete sessions no longer needed (DELETE /scrub/sessions/{id}) or wait for them to expire."
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO scrub_session (id, expires_at, sealed) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET expires_at = excluded.expires_at, sealed = excluded.sealed
                    """, arguments: [session.id, session.expiresAt, sealed])
        }
    }

    /// Forgets a session now; false when there was none.
    public func delete(_ id: String) async throws -> Bool {
        try await store.database.write { db in
            try db.execute(sql: "DELETE FROM scrub_session WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: One change at a time per session

    /// Callers waiting for a session another request is changing, by session id.
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Runs `change` (which loads, changes and saves the session `id`) while no other change of that session runs.
    /// Without it two requests on one session both load it, both number a new value `<EMAIL_1>`, and the last save
    /// wins: the other request's placeholder then rehydrates to the wrong person's data.
    public nonisolated func exclusively<T>(_ id: String, _ change: () async throws -> T) async throws -> T {
        await acquire(id)
        do {
            let result = try await change()
            await release(id)
            return result
        } catch {
            await release(id)
            throw error
        }
    }

    private func acquire(_ id: String) async {
        guard waiting[id] != nil else {
            waiting[id] = []
            return
        }
        await withCheckedContinuation { waiting[id, default: []].append($0) }
    }

    private func release(_ id: String) {
        guard var queue = waiting[id], !queue.isEmpty else {
            waiting[id] = nil
            return
        }
        let next = queue.removeFirst()
        waiting[id] = queue
        next.resume()
    }
}
