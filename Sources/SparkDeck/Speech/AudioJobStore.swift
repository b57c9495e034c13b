import Foundation
import GRDB

/// One audio job as stored: what was asked, where it stands, and its answer once done.
public struct AudioJob: Sendable, Equatable {
    public enum State: String, Sendable, Codable {
        case queued, running, succeeded, failed, cancelled

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    public var id: String
    public var request: AudioJobRequest
    public var state: State
    public var progress: AudioJobProgress
    public var createdAt: Double
    public var updatedAt: Double
    /// The rendered answer and its content type, once succeeded.
    public var result: String?
    public var resultType: String?
    /// The error envelope's fields, once failed.
    public var errorCode: String?
    public var errorMessage: String?
    public var errorParam: String?
    /// Who submitted the job (`RequestCaller.of`), and so who alone may read or cancel it; nil for jobs made with no
    /// address (a test router) or before 0.8.0: then anyone may.
    public var owner: String? = nil
    /// The app that submitted it (`RequestApp`), so a job resumed after a restart counts its audio to it too.
    public var app: RequestApp? = nil

    /// Whether `caller` may read or cancel the job.
    public func isUsable(by caller: String?) -> Bool { owner == nil || owner == caller }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "object": .string("audio.job"), "kind": .string(request.kind.rawValue),
            "state": .string(state.rawValue), "response_format": .string(request.responseFormat),
            "progress": progress.json, "created_at": .number(createdAt.rounded()), "updated_at": .number(updatedAt.rounded()),
        ]
        if let result {
            object["result"] =
                request.format == .json || request.format == .verboseJSON
                ? (try? JSONDecoder().decode(AnyJSON.self, from: Data(result.utf8)).value) ?? .string(result) : .string(result)
        }
        if let errorMessage {
            object["error"] = .object([
                "message": .string(errorMessage), "code": .optional(errorCode), "param": .optional(errorParam),
            ])
        }
        return .object(object)
    }
}

/// Decodes any JSON document into a `JSONValue` (a job's stored answer, embedded in its status).
struct AnyJSON: Decodable {
    var value: JSONValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let bool = try? container.decode(Bool.self) {
            value = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            value = .number(number)
        } else if let string = try? container.decode(String.self) {
            value = .string(string)
        } else if let array = try? container.decode([AnyJSON].self) {
            value = .array(array.map(\.value))
        } else {
            value = .object(try container.decode([String: AnyJSON].self).mapValues(\.value))
        }
    }
}

/// Audio jobs in the store, so a restart finds the unfinished ones.
public struct AudioJobStore: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    public func save(_ job: AudioJob) async throws {
        let request = String(decoding: try JSONEncoder().encode(job.request), as: UTF8.self)
        let progress = String(decoding: try JSONEncoder().encode(job.progress), as: UTF8.self)
        try await store.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO audio_job (id, kind, state, request, progress, created_at, updated_at, result, result_type,
                      error_code, error_message, error_param, owner, app, app_is_key)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET state = excluded.state, progress = excluded.progress,
                      updated_at = excluded.updated_at, result = excluded.result, result_type = excluded.result_type,
                      error_code = excluded.error_code, error_message = excluded.error_message, error_param = excluded.error_param
                    """,
                arguments: [
                    job.id, job.request.kind.rawValue, job.state.rawValue, request, progress, job.createdAt, job.updatedAt,
                    job.result, job.resultType, job.errorCode, job.errorMessage, job.errorParam, job.owner,
                    job.app?.name, job.app?.isKey,
                ])
        }
    }

    public func job(_ id: String) async throws -> AudioJob? {
        try await store.database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audio_job WHERE id = ?", arguments: [id]).flatMap(Self.job)
        }
    }

    /// Jobs not finished when SparkDeck last stopped, oldest first.
    public func unfinished() async throws -> [AudioJob] {
        try await store.database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audio_job WHERE state IN ('queued', 'running') ORDER BY created_at")
                .compactMap(Self.job)
        }
    }

    /// Finished jobs older than `cutoff` are forgotten (their answers with them).
    public func prune(finishedBefore cutoff: Double) async throws {
        try await store.database.write { db in
            try db.execute(
                sql: "DELETE FROM audio_job WHERE state IN ('succeeded', 'failed', 'cancelled') AND updated_at < ?", arguments: [cutoff])
        }
    }

    static func job(_ row: Row) -> AudioJob? {
        guard let request = try? JSONDecoder().decode(AudioJobRequest.self, from: Data((row["request"] as String).utf8)),
            let state = AudioJob.State(rawValue: row["state"])
        else { return nil }
        let progress =
            (try? JSONDecoder().decode(AudioJobProgress.self, from: Data((row["progress"] as String).utf8))) ?? AudioJobProgress()
        let app = (row["app"] as String?).map { RequestApp(name: $0, isKey: row["app_is_key"] ?? false) }
        return AudioJob(
            id: row["id"], request: request, state: state, progress: progress, createdAt: row["created_at"], updatedAt: row["updated_at"],
            result: row["result"], resultType: row["result_type"], errorCode: row["error_code"], errorMessage: row["error_message"],
            errorParam: row["error_param"], owner: row["owner"], app: app)
    }
}
