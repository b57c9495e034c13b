import Foundation
import HTTPTypes
import NIOCore

/// Calls to the inventory's Qdrant through the upstream core; answers unwrapped from Qdrant's
/// `{"result", "status", "time"}`, errors in the gateway's envelope with Qdrant's own sentence.
struct QdrantClient: Sendable {
    let core: UpstreamCore
    let service: ClusterService

    /// A collection as SparkDeck reads it.
    struct Collection: Sendable {
        var name: String
        var denseSize: Int?
        var sparse: Bool
        var points: Int
    }

    static func unknownCollection(_ name: String) -> APIError {
        var error = APIError.notFound("There is no search collection `\(name)`; create it with PUT /v1/search/collections/\(name).")
        error.code = "collection_not_found"
        error.param = "collection"
        return error
    }

    /// The answer's `result`. A 404 for a collection path is `collection_not_found`.
    func call(_ method: HTTPRequest.Method, _ path: String, body: Data? = nil, collection: String? = nil, what: String) async throws -> Any
    {
        let request = UpstreamRequest(
            route: "search", method: method, path: path, body: body.map { .bytes(ByteBuffer(bytes: $0)) } ?? .none,
            contentType: body == nil ? nil : "application/json")
        let answer = try await core.exchange(request, to: Upstream(service: service), limit: 64 << 20)
        if answer.status == 404, let collection { throw Self.unknownCollection(collection).naming(service.id, waited: answer.waited) }
        let data = try UpstreamAnswerCheck.body(answer, from: service.id, doing: what)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let result = object["result"] else {
            throw UpstreamAnswerCheck.unreadable(service.id, what)
        }
        return result
    }

    static func path(_ collection: String, _ rest: String = "") -> String {
        "/collections/\(collection)\(rest)"
    }

    func names() async throws -> [String] {
        let result = try await call(.get, "/collections", what: "the collection list")
        return ((result as? [String: Any])?["collections"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted()
    }

    func collection(_ name: String) async throws -> Collection {
        let result = try await call(.get, Self.path(name), collection: name, what: "reading collection `\(name)`")
        let info = result as? [String: Any] ?? [:]
        let params = (info["config"] as? [String: Any])?["params"] as? [String: Any] ?? [:]
        let dense = ((params["vectors"] as? [String: Any])?[QdrantBodies.dense] as? [String: Any])?["size"] as? NSNumber
        let sparse = (params["sparse_vectors"] as? [String: Any])?[QdrantBodies.sparse] != nil
        return Collection(
            name: name, denseSize: dense?.intValue, sparse: sparse, points: (info["points_count"] as? NSNumber)?.intValue ?? 0)
    }

    func create(_ name: String, denseSize: Int, sparse: Bool) async throws {
        do {
            _ = try await call(
                .put, Self.path(name), body: QdrantBodies.createCollection(denseSize: denseSize, sparse: sparse),
                what: "creating collection `\(name)`")
        } catch let error as APIError where error.message.contains("already exists") {
            var conflict = APIError(
                .conflict, type: "conflict", code: "collection_exists",
                message:
                    "The search collection `\(name)` already exists; drop it first (DELETE /v1/search/collections/\(name)) to make it again."
            )
            conflict.headers = error.headers
            throw conflict
        }
    }

    func drop(_ name: String) async throws -> Bool {
        (try await call(.delete, Self.path(name), collection: name, what: "dropping collection `\(name)`") as? Bool) ?? false
    }

    func upsert(_ collection: String, body: Data) async throws {
        _ = try await call(.put, Self.path(collection, "/points?wait=true"), body: body, collection: collection, what: "the upsert")
    }

    func delete(_ collection: String, body: Data) async throws {
        _ = try await call(.post, Self.path(collection, "/points/delete?wait=true"), body: body, collection: collection, what: "the delete")
    }

    func count(_ collection: String, body: Data) async throws -> Int {
        let result = try await call(.post, Self.path(collection, "/points/count"), body: body, collection: collection, what: "the count")
        return ((result as? [String: Any])?["count"] as? NSNumber)?.intValue ?? 0
    }

    func query(_ collection: String, body: Data) async throws -> [SearchHits.Hit] {
        let result = try await call(.post, Self.path(collection, "/points/query"), body: body, collection: collection, what: "the query")
        guard let points = (result as? [String: Any])?["points"] as? [[String: Any]] else {
            throw UpstreamAnswerCheck.unreadable(service.id, "the query")
        }
        return points.map(SearchHits.Hit.init(point:))
    }
}
