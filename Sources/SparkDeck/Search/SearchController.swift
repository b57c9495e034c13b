import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// The hybrid search API over Qdrant (`/v1/search/...`): collections sized by the embedder, documents cut into
/// passages, embedded dense and sparse in batches and upserted with `wait=true`, and queries (hybrid by RRF,
/// dense, sparse) with metadata filters, optional rerank, grouping per document and paging.
struct SearchController {
    let inventory: Inventory
    let core: UpstreamCore
    let sizes: DenseSizeCache
    /// Collections' vector shapes, read from Qdrant at most every few seconds (each query would otherwise ask).
    let shapes = CollectionShapeCache()

    static let bodyLimit = 64 << 20
    /// Passages per upsert; a document's passages always travel together, so a batch may hold more.
    static let passagesPerBatch = 64

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/v1/search/collections") { _, _ in
            try await observing { try await list() }
        }
        router.put("/v1/search/collections/{name}") { _, context in
            try await observing { try await create(try Self.name(context)) }
        }
        router.delete("/v1/search/collections/{name}") { _, context in
            try await observing { try await drop(try Self.name(context)) }
        }
        router.post("/v1/search/collections/{name}/documents") { request, context in
            try await observing { try await index(request, context: context, collection: try Self.name(context)) }
        }
        router.delete("/v1/search/collections/{name}/documents") { request, context in
            try await observing { try await deleteDocuments(request, context: context, collection: try Self.name(context)) }
        }
        router.post("/v1/search/collections/{name}/query") { request, context in
            try await observing { try await query(request, context: context, collection: try Self.name(context)) }
        }
    }

    func observing(_ work: () async throws -> Response) async throws -> Response {
        try await core.observer.observing(route: "search", upstream: inventory.services(of: .qdrant).first?.id ?? "none", work)
    }

    static func name(_ context: some RequestContext) throws -> String {
        let name = try context.parameters.require("name")
        guard (1...64).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw APIError.invalidRequest(
                "Collection names are 1 to 64 letters, digits, `_` and `-`; got `\(name)`.", param: "collection")
        }
        return name
    }

    // MARK: collections

    func list() async throws -> Response {
        let qdrant = try requireQdrant()
        var collections: [JSONValue] = []
        for name in try await qdrant.names() {
            let info = try await qdrant.collection(name)
            collections.append(
                .object([
                    "name": .string(name), "points": .number(Double(info.points)),
                    "dense_size": info.denseSize.map { .number(Double($0)) } ?? .null, "sparse": .bool(info.sparse),
                ]))
        }
        return answer(.object(["collections": .array(collections)]), qdrant)
    }

    func create(_ name: String) async throws -> Response {
        let qdrant = try requireQdrant()
        let embedder = try requireEmbedder()
        let size = try await embedder.denseSize()
        let sparse = embedder.service.api.sparse != .none
        shapes.forget(name)
        try await qdrant.create(name, denseSize: size, sparse: sparse)
        return answer(
            .object(["name": .string(name), "dense_size": .number(Double(size)), "sparse": .bool(sparse), "distance": .string("Cosine")]),
            qdrant, status: .created)
    }

    func drop(_ name: String) async throws -> Response {
        let qdrant = try requireQdrant()
        shapes.forget(name)
        guard try await qdrant.drop(name) else { throw QdrantClient.unknownCollection(name) }
        return answer(.object(["name": .string(name), "dropped": .bool(true)]), qdrant)
    }

    /// The collection, checked against the embedder: a dense size that differs is explained, not sent to Qdrant.
    func checkedCollection(_ name: String, qdrant: QdrantClient, embedder: Embedder) async throws -> QdrantClient.Collection {
        let collection: QdrantClient.Collection
        if let known = shapes.fresh(name) {
            collection = known
        } else {
            collection = try await qdrant.collection(name)
            shapes.store(collection)
        }
        let size = try await embedder.denseSize()
        if let held = collection.denseSize, held != size {
            var error = APIError.invalidRequest(
                "The collection `\(name)` holds \(held)-d dense vectors, but the \(embedder.service.id) service now makes \(size)-d ones (the collection was made with another embedder). Drop it and create it again to use this embedder, or point the inventory at the embedder it was made with.",
                param: "collection")
            error.code = "dimension_mismatch"
            throw error
        }
        guard collection.denseSize != nil else {
            throw APIError.invalidRequest(
                "The collection `\(name)` was not made by SparkDeck (it has no `dense` vector); create search collections with PUT /v1/search/collections/{name}.",
                param: "collection")
        }
        return collection
    }

    // MARK: documents

    typealias Planned = (id: String, metadata: [String: JSONValue], passages: [PassagePlan.Passage])

    func index(_ request: Request, context: some RequestContext, collection name: String) async throws -> Response {
        let qdrant = try requireQdrant()
        let embedder = try requireEmbedder()
        let documents = try await JSONBody.decode(DocumentsRequest.self, request, context: context, limit: Self.bodyLimit).planned()
        let collection = try await checkedCollection(name, qdrant: qdrant, embedder: embedder)
        let batches = Self.batches(documents)
        let outcomes = try await BatchPlan.run(batches, parallel: 2) { (range: Range<Int>) async -> (ids: [String], error: APIError)? in
            let batch = Array(documents[range])
            do {
                try await write(batch, to: name, sparse: collection.sparse, qdrant: qdrant, embedder: embedder)
                return nil
            } catch {
                let apiError =
                    error as? APIError
                    ?? APIError(.badGateway, type: "upstream_unavailable", code: "upstream_error", message: "\(error)")
                return (batch.map(\.id), apiError)
            }
        }
        let failures = outcomes.compactMap { $0 }
        let passages = documents.reduce(0) { $0 + $1.passages.count }
        let indexed = documents.count - failures.reduce(0) { $0 + $1.ids.count }
        core.observer.documents(route: "search", upstream: qdrant.service.id, count: indexed)
        guard let first = failures.first else {
            return answer(
                .object([
                    "collection": .string(name), "indexed": .number(Double(documents.count)), "passages": .number(Double(passages)),
                    "ids": .array(documents.map { .string($0.id) }),
                ]), qdrant)
        }
        let failed = failures.flatMap(\.ids)
        let shown =
            failed.prefix(20).map { "`\($0)`" }.joined(separator: ", ") + (failed.count > 20 ? " and \(failed.count - 20) more" : "")
        var error = first.error
        error.message =
            "\(failed.count) of \(documents.count) documents were not indexed (\(shown)); the others were, each whole. Cause: \(first.error.message) Sending the same documents again is safe: their ids are stable, so nothing is duplicated."
        error.code = "partially_indexed"
        throw error
    }

    /// Runs of documents of about `passagesPerBatch` passages.
    static func batches(_ documents: [Planned]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var passages = 0
        for (index, document) in documents.enumerated() {
            if passages > 0, passages + document.passages.count > passagesPerBatch {
                ranges.append(start..<index)
                start = index
                passages = 0
            }
            passages += document.passages.count
        }
        if start < documents.count { ranges.append(start..<documents.count) }
        return ranges
    }

    /// Embeds and writes one batch (Qdrant writes one upsert whole or not at all), then removes passages an
    /// earlier, longer version of these documents left behind.
    func write(_ batch: [Planned], to collection: String, sparse: Bool, qdrant: QdrantClient, embedder: Embedder) async throws {
        let texts = batch.flatMap { $0.passages.map(\.text) }
        async let dense = embedder.dense(texts, route: "search")
        var sparseVectors: [SparseVector]?
        if sparse { sparseVectors = try await embedder.sparse(texts, route: "search") }
        let vectors = try await dense.vectors
        var points: [QdrantBodies.Point] = []
        var next = 0
        for document in batch {
            for passage in document.passages {
                points.append(
                    .init(
                        document: document.id, passage: passage, passages: document.passages.count, metadata: document.metadata,
                        dense: vectors[next], sparse: sparseVectors?[next]))
                next += 1
            }
        }
        try await qdrant.upsert(collection, body: QdrantBodies.upsert(points))
        try await qdrant.delete(collection, body: QdrantBodies.deleteStalePassages(batch.map { ($0.id, $0.passages.count) }))
    }

    func deleteDocuments(_ request: Request, context: some RequestContext, collection name: String) async throws -> Response {
        let qdrant = try requireQdrant()
        let body = try await JSONBody.decode(DeleteDocumentsRequest.self, request, context: context, limit: 4 << 20)
        let ids = body.ids.map(\.text)
        guard !ids.isEmpty else { throw APIError.invalidRequest("`ids` must hold at least one document id.", param: "ids") }
        let filter = JSONValue.object(["filter": .object(["must": .array([QdrantBodies.documentMatch(ids)])])]).encoded()
        let passages = try await qdrant.count(name, body: filter)
        try await qdrant.delete(name, body: QdrantBodies.deleteDocuments(ids))
        return answer(.object(["collection": .string(name), "deleted_passages": .number(Double(passages))]), qdrant)
    }

    // MARK: query

    func query(_ request: Request, context: some RequestContext, collection name: String) async throws -> Response {
        let qdrant = try requireQdrant()
        let embedder = try requireEmbedder()
        let body = try await JSONBody.decode(SearchQueryRequest.self, request, context: context, limit: 1 << 20)
        let checked = try body.checked()
        let collection = try await checkedCollection(name, qdrant: qdrant, embedder: embedder)
        if checked.mode != .dense, !collection.sparse {
            throw APIError.invalidRequest(
                "The collection `\(name)` has no sparse vectors; query it with `\"mode\": \"dense\"`.", param: "mode")
        }
        @Sendable func queryDense() async throws -> [Float]? {
            if checked.mode == .sparse { return nil }
            return try await embedder.dense([body.query], route: "search").vectors.first
        }
        async let dense = queryDense()
        var sparse: SparseVector?
        if checked.mode != .dense { sparse = try await embedder.sparse([body.query], route: "search").first }
        let candidates = SearchHits.candidates(
            limit: checked.limit, offset: checked.offset, group: checked.group, rerankDepth: checked.rerankDepth)
        let qdrantBody = QdrantBodies.query(
            mode: checked.mode, dense: try await dense, sparse: sparse, filter: checked.filter, candidates: candidates)
        var hits = try await qdrant.query(name, body: qdrantBody)
        if let depth = checked.rerankDepth, !hits.isEmpty {
            let reranker = try requireReranker()
            let scored = Array(hits.prefix(depth))
            let scores = try await reranker.scores(query: body.query, documents: scored.map(\.text), route: "search")
            hits = zip(scored, scores).map { hit, score in
                var hit = hit
                hit.rerankScore = score
                return hit
            }
        }
        let page = SearchHits.page(hits, limit: checked.limit, offset: checked.offset, group: checked.group)
        return answer(.object(["mode": .string(checked.mode.rawValue), "results": .array(page.map(\.json))]), qdrant)
    }

    // MARK: services

    func answer(_ value: JSONValue, _ qdrant: QdrantClient, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response.json(value, status: status)
        response.headers[UpstreamCore.upstreamHeader] = qdrant.service.id
        return response
    }

    func requireQdrant() throws -> QdrantClient {
        guard let service = inventory.services(of: .qdrant).first else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_qdrant_service",
                message: "The inventory has no qdrant service; add one (port 6333) to use /v1/search.")
        }
        return QdrantClient(core: core, service: service)
    }

    func requireEmbedder() throws -> Embedder {
        let embeddings = EmbeddingsController(inventory: inventory, core: core)
        return Embedder(core: core, service: try embeddings.requireEmbedder().service, sizes: sizes)
    }

    func requireReranker() throws -> Reranker {
        try EmbeddingsController(inventory: inventory, core: core).requireReranker()
    }
}

/// The vector shapes of the collections last read, kept a few seconds.
final class CollectionShapeCache: Sendable {
    private let entries = Mutex<[String: (collection: QdrantClient.Collection, at: ContinuousClock.Instant)]>([:])
    let lifetime: Duration

    init(lifetime: Duration = .seconds(5)) {
        self.lifetime = lifetime
    }

    func fresh(_ name: String) -> QdrantClient.Collection? {
        entries.withLock { entries in
            guard let entry = entries[name], ContinuousClock.now - entry.at < lifetime else { return nil }
            return entry.collection
        }
    }

    func store(_ collection: QdrantClient.Collection) {
        entries.withLock { $0[collection.name] = (collection, .now) }
    }

    func forget(_ name: String) {
        _ = entries.withLock { $0.removeValue(forKey: name) }
    }
}
