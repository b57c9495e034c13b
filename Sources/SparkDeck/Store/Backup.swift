import Foundation
import GRDB

/// A consistent copy of SparkDeck's state in a folder of its own: the store, copied with SQLite's online backup (a
/// snapshot of one moment, taken while SparkDeck serves), and the vault key that opens its scrub sessions. Restored
/// into a new data folder, SparkDeck starts with its swap history, connectivity log, API keys, scrub sessions, jobs
/// and sweeps as they were.
public enum Backup {
    static let database = "sparkdeck.sqlite"
    static let vaultKey = "vault.key"
    /// The tables whose rows a backup reports, in the order they are listed.
    static let tables = [
        "swap", "state_change", "outage", "api_key", "scrub_session", "action_run", "audio_job", "activity_minute", "capacity_sweep",
    ]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Rows per table of what was copied.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var rows: [(table: String, count: Int)]

        public static func == (a: Summary, b: Summary) -> Bool { a.rows.elementsEqual(b.rows) { $0 == $1 } }

        public func count(_ table: String) -> Int? { rows.first { $0.table == table }?.count }

        public var description: String { rows.map { "\($0.table) \($0.count)" }.joined(separator: ", ") }
    }

    /// Copies the store and vault key of `dataDirectory` into `folder` (made 0700; must not hold a backup already).
    /// The copy is written under a temporary name, checked with SQLite's integrity check, then renamed: an
    /// interrupted backup leaves no file that looks whole.
    public static func write(dataDirectory: String, to folder: String) throws -> Summary {
        let source = (dataDirectory as NSString).appendingPathComponent(database)
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure(description: "no SparkDeck store at \(source): is \(dataDirectory) the data folder `serve --data` uses?")
        }
        try makeFolder(folder)
        let target = (folder as NSString).appendingPathComponent(database)
        guard !FileManager.default.fileExists(atPath: target) else {
            throw Failure(description: "\(folder) already holds a backup; give a new folder")
        }
        // Not read-only: a read-only connection cannot open a WAL database whose shared-memory file is gone (SparkDeck
        // stopped). The backup only reads.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: source, configuration: configuration)
        let summary = try copy(from: pool, to: target)
        try copyVaultKey(from: dataDirectory, to: folder)
        return summary
    }

    /// Puts a backup made by `write` into `dataDirectory`, which must hold no store yet (SparkDeck stopped, or a new
    /// folder), then opens it once so a backup of an older version is brought up to this one's schema.
    public static func restore(from folder: String, to dataDirectory: String) throws -> Summary {
        let source = (folder as NSString).appendingPathComponent(database)
        guard FileManager.default.fileExists(atPath: source) else {
            throw Failure(description: "no backup in \(folder) (\(database) is missing)")
        }
        let target = (dataDirectory as NSString).appendingPathComponent(database)
        guard !FileManager.default.fileExists(atPath: target) else {
            throw Failure(
                description: "\(dataDirectory) already holds a store; restore into an empty folder (or move the old one aside first)")
        }
        try makeFolder(dataDirectory)
        _ = try copy(from: try DatabaseQueue(path: source), to: target)
        try copyVaultKey(from: folder, to: dataDirectory)
        let store = try Store(dataDirectory: dataDirectory)
        return try store.database.read { try counts($0) }
    }

    static func copy(from source: some DatabaseReader, to target: String) throws -> Summary {
        let partial = target + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        let descriptor = open(partial, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(partial): \(String(cString: strerror(errno)))") }
        close(descriptor)
        do {
            let destination = try DatabaseQueue(path: partial)
            try source.backup(to: destination)
            let (check, summary) = try destination.read { db in
                (try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "", try counts(db))
            }
            try destination.close()
            guard check == "ok" else { throw Failure(description: "the copy failed SQLite's integrity check: \(check)") }
            guard rename(partial, target) == 0 else {
                throw Failure(description: "cannot move the copy to \(target): \(String(cString: strerror(errno)))")
            }
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    static func counts(_ db: Database) throws -> Summary {
        var rows: [(String, Int)] = []
        for table in tables where try db.tableExists(table) {
            rows.append((table, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0))
        }
        return Summary(rows: rows)
    }

    /// The vault key goes with the store: without it the backed-up scrub sessions cannot be opened. A data folder
    /// that never sealed a session has none, and the backup has none either.
    static func copyVaultKey(from source: String, to target: String) throws {
        let from = (source as NSString).appendingPathComponent(vaultKey)
        guard FileManager.default.fileExists(atPath: from) else { return }
        let to = (target as NSString).appendingPathComponent(vaultKey)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: from))
        let descriptor = open(to, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(to): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else { throw Failure(description: "cannot write \(to)") }
    }

    static func makeFolder(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
