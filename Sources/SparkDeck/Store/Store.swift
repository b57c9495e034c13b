import Foundation
import GRDB

/// SparkDeck's one SQLite file (`<data>/sparkdeck.sqlite`, WAL) with versioned migrations.
public final class Store: Sendable {
    public let database: DatabasePool
    public let path: String

    public init(dataDirectory: String) throws {
        path = (dataDirectory as NSString).appendingPathComponent("sparkdeck.sqlite")
        try Self.makePrivate(dataDirectory: dataDirectory, database: path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    /// The data folder holds session ids, key hashes, the vault and action output: it is the owner's alone (0700),
    /// and so is the database (0600; SQLite gives its `-wal` and `-shm` files the database's mode). A folder of
    /// an older version, made 0755, is closed on the next start.
    static func makePrivate(dataDirectory: String, database: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory)
        let descriptor = open(database, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: database])
        }
        fchmod(descriptor, 0o600)
        close(descriptor)
        for suffix in ["-wal", "-shm"] where files.fileExists(atPath: database + suffix) {
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: database + suffix)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-connectivity") { db in
            try db.create(table: "state_change") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("target", .text).notNull()
                t.column("target_kind", .text).notNull()
                t.column("from_state", .text).notNull()
                t.column("to_state", .text).notNull()
                t.column("at", .double).notNull()
                t.column("cause", .text)
            }
            try db.create(index: "state_change_at", on: "state_change", columns: ["at"])
            try db.create(table: "outage") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("target", .text).notNull()
                t.column("target_kind", .text).notNull()
                t.column("started_at", .double).notNull()
                t.column("ended_at", .double)
                t.column("cause", .text)
            }
            try db.create(index: "outage_started_at", on: "outage", columns: ["started_at"])
        }
        migrator.registerMigration("v2-swaps") { db in
            try db.create(table: "swap") { t in
                t.primaryKey("id", .text)
                t.column("model", .text).notNull()
                t.column("state", .text).notNull()
                t.column("result", .text)
                t.column("created_at", .double).notNull()
                t.column("finished_at", .double)
                t.column("load_seconds", .double)
                t.column("document", .text).notNull()
            }
            try db.create(index: "swap_model_created", on: "swap", columns: ["model", "created_at"])
        }
        migrator.registerMigration("v3-api-keys") { db in
            try db.create(table: "api_key") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("prefix", .text).notNull()
                t.column("hash", .text).notNull().unique()
                t.column("scopes", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("revoked_at", .double)
            }
        }
        migrator.registerMigration("v4-scrub-sessions") { db in
            try db.create(table: "scrub_session") { t in
                t.primaryKey("id", .text)
                t.column("expires_at", .double).notNull()
                t.column("sealed", .blob).notNull()
            }
            try db.create(index: "scrub_session_expires", on: "scrub_session", columns: ["expires_at"])
        }
        migrator.registerMigration("v5-action-runs") { db in
            try db.create(table: "action_run") { t in
                t.primaryKey("id", .text)
                t.column("action", .text).notNull()
                t.column("node", .text).notNull()
                t.column("started_at", .double).notNull()
                t.column("ended_at", .double)
                t.column("exit_code", .integer)
                t.column("error", .text)
                t.column("output", .text).notNull()
            }
            try db.create(index: "action_run_action", on: "action_run", columns: ["action", "started_at"])
        }
        migrator.registerMigration("v6-audio-jobs") { db in
            try db.create(table: "audio_job") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("state", .text).notNull()
                t.column("request", .text).notNull()
                t.column("progress", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.column("result", .text)
                t.column("result_type", .text)
                t.column("error_code", .text)
                t.column("error_message", .text)
                t.column("error_param", .text)
            }
            try db.create(index: "audio_job_state", on: "audio_job", columns: ["state", "created_at"])
        }
        migrator.registerMigration("v7-audio-job-owner") { db in
            try db.alter(table: "audio_job") { t in t.add(column: "owner", .text) }
        }
        migrator.registerMigration("v8-activity") { db in
            try db.create(table: "activity_minute") { t in
                t.column("minute", .integer).notNull()
                t.column("app", .text).notNull()
                t.column("route", .text).notNull()
                t.column("upstream", .text).notNull()
                t.column("requests", .integer).notNull()
                t.column("client_errors", .integer).notNull()
                t.column("overloaded", .integer).notNull()
                t.column("swapping", .integer).notNull()
                t.column("upstream_errors", .integer).notNull()
                t.column("latency", .text).notNull()
                t.column("queue_ms", .double).notNull()
                t.column("tokens_in", .integer).notNull()
                t.column("tokens_out", .integer).notNull()
                t.column("documents", .integer).notNull()
                t.column("audio_seconds", .double).notNull()
                t.primaryKey(["minute", "app", "route", "upstream"])
            }
        }
        migrator.registerMigration("v9-capacity-sweeps") { db in
            try db.create(table: "capacity_sweep") { t in
                t.primaryKey("id", .text)
                t.column("state", .text).notNull()
                t.column("started_at", .double).notNull()
                t.column("document", .text).notNull()
            }
        }
        migrator.registerMigration("v10-audio-job-app") { db in
            try db.alter(table: "audio_job") { t in
                t.add(column: "app", .text)
                t.add(column: "app_is_key", .boolean)
            }
        }
        return migrator
    }
}
