import Foundation
import Hummingbird
import Synchronization

/// Qdrant's REST API, the subset SparkDeck uses, in memory (`SimQdrantStore`): health, collections (create, get,
/// exists, list, delete), points (upsert with `wait`, delete by ids or filter, count) and the Query API. Answers
/// and errors have Qdrant's envelope: `{"result": ..., "status": "ok", "time": s}` and
/// `{"status": {"error": "..."}, "time": s}`.
public enum SimQdrant {
    public static func run(_ options: SimOptions) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        try await SimServer.run(router(options), options: options, name: "qdrant") { SimStartup.running(options) }
    }

    struct Failure: HTTPResponseError {
        var error: SimQdrantError
        var status: HTTPResponse.Status { .init(code: error.status) }
        func response(from request: Request, context: some RequestContext) throws -> Response {
            SimServer.json(["status": ["error": error.message], "time": 0.000_05], status: status)
        }
    }

    /// The routes, for a test to serve in its own process (`store` lets it look inside, `faults` makes upserts fail).
    public static func router(
        _ options: SimOptions, store: SimQdrantStore = SimQdrantStore(), faults: SimQdrantFaults = SimQdrantFaults()
    ) -> Router<BasicRequestContext> {
        let router = SimServer.router(options)
        router.get("/healthz") { _, _ in SimServer.text("healthz check passed") }
        router.get("/livez") { _, _ in SimServer.text("healthz check passed") }
        router.get("/readyz") { _, _ in SimServer.text("all shards are ready") }
        router.get("/collections") { _, _ in
            ok(["collections": store.names().map { ["name": $0] }])
        }
        router.get("/collections/{name}") { _, context in
            try answer { try store.info(try context.parameters.require("name")) }
        }
        router.get("/collections/{name}/exists") { _, context in
            ok(["exists": store.names().contains(try context.parameters.require("name"))])
        }
        router.put("/collections/{name}") { request, context in
            let body = try await json(request)
            return try answer {
                try store.create(try context.parameters.require("name"), body: body)
                return true
            }
        }
        router.delete("/collections/{name}") { _, context in
            ok(store.drop(try context.parameters.require("name")))
        }
        router.put("/collections/{name}/points") { request, context in
            let data = Data(buffer: try await request.body.collect(upTo: 256 << 20))
            let wait = request.uri.queryParameters.get("wait") == "true"
            if faults.failsThisUpsert(data) {
                throw Failure(error: SimQdrantError(status: 503, message: "Service Unavailable: the node is restarting"))
            }
            return try await searchThreads {
                let operation = try store.upsert(try context.parameters.require("name"), body: data)
                return ["operation_id": operation, "status": wait ? "completed" : "acknowledged"]
            }
        }
        router.post("/collections/{name}/points/delete") { request, context in
            let body = try await json(request)
            let wait = request.uri.queryParameters.get("wait") == "true"
            return try await searchThreads {
                let operation = try store.delete(try context.parameters.require("name"), body: body)
                return ["operation_id": operation, "status": wait ? "completed" : "acknowledged"]
            }
        }
        router.post("/collections/{name}/points/count") { request, context in
            let body = try await json(request)
            return try await searchThreads { ["count": try store.count(try context.parameters.require("name"), body: body)] }
        }
        router.post("/collections/{name}/points/query") { request, context in
            let body = try await json(request)
            return try await searchThreads { try store.query(try context.parameters.require("name"), body: body) }
        }
        return router
    }

    static func ok(_ result: Any) -> Response {
        SimServer.json(["result": result, "status": "ok", "time": 0.000_05])
    }

    /// Runs point work on threads of its own, as Qdrant runs searches and writes apart from its API workers: a
    /// busy collection slows its own requests, never `/readyz`.
    static func searchThreads(_ work: @escaping @Sendable () throws -> Any) async throws -> Response {
        let outcome: Result<Response, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { try answer(work) })
            }
        }
        return try outcome.get()
    }

    static func answer(_ work: () throws -> Any) throws -> Response {
        do {
            return ok(try work())
        } catch let error as SimQdrantError {
            throw Failure(error: error)
        }
    }

    static func json(_ request: Request) async throws -> SimJSON {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        if buffer.readableBytes == 0 { return .object([:]) }
        do {
            return try JSONDecoder().decode(SimJSON.self, from: Data(buffer: buffer))
        } catch {
            throw Failure(error: SimQdrantError(status: 400, message: "Format error in JSON body: expected value at line 1 column 1"))
        }
    }
}

/// Injected failures, for tests of what a client sees when Qdrant goes away: chosen upserts are refused with 503 and
/// write nothing.
public final class SimQdrantFaults: Sendable {
    private let state = Mutex((failing: 0, marker: [UInt8]()))

    public init() {}

    /// The next `failing` upserts whose body holds `marker` fail, whatever order they arrive in (batches sent in
    /// parallel arrive in any order).
    public func failUpserts(containing marker: String, count failing: Int = 1) {
        state.withLock { $0 = (failing, Array(marker.utf8)) }
    }

    func failsThisUpsert(_ body: Data) -> Bool {
        state.withLock { state in
            guard state.failing > 0, body.range(of: Data(state.marker)) != nil else { return false }
            state.failing -= 1
            return true
        }
    }
}
