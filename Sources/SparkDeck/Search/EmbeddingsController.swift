import Foundation
import Hummingbird
import NIOCore

/// `POST /v1/embeddings` (OpenAI shape, float or base64), `POST /v1/embeddings/sparse` and `POST /v1/rerank`
/// (Cohere/Jina shape), to the inventory's embeddings and rerank services through the upstream core.
struct EmbeddingsController {
    let inventory: Inventory
    let core: UpstreamCore

    static let bodyLimit = 16 << 20

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/v1/embeddings") { request, context in
            try await core.observer.observing(route: "embeddings", upstream: embeddingsService()?.id ?? "none") {
                try await dense(request, context: context)
            }
        }
        router.post("/v1/embeddings/sparse") { request, context in
            try await core.observer.observing(route: "sparse_embeddings", upstream: embeddingsService()?.id ?? "none") {
                try await sparse(request, context: context)
            }
        }
        router.post("/v1/rerank") { request, context in
            try await core.observer.observing(route: "rerank", upstream: rerankService()?.id ?? "none") {
                try await rerank(request, context: context)
            }
        }
    }

    func dense(_ request: Request, context: some RequestContext) async throws -> Response {
        let embedder = try requireEmbedder()
        let body = try await JSONBody.decode(EmbeddingsRequest.self, request, context: context, limit: Self.bodyLimit)
        let (texts, base64) = try body.validated()
        let result = try await embedder.dense(texts, model: body.model, dimensions: body.dimensions, route: "embeddings")
        core.observer.documents(route: "embeddings", upstream: embedder.service.id, count: texts.count)
        var json = JSONText()
        json.raw(#"{"object":"list","data":["#)
        for (index, vector) in result.vectors.enumerated() {
            json.raw(index == 0 ? #"{"object":"embedding","index":"# : #",{"object":"embedding","index":"#)
            json.raw("\(index),\"embedding\":")
            if base64 { json.string(vector.base64LittleEndian) } else { json.floats(vector) }
            json.raw("}")
        }
        json.raw(#"],"model":"#)
        json.string(result.model ?? body.model ?? "embeddings")
        json.raw(#","usage":{"prompt_tokens":\#(result.promptTokens),"total_tokens":\#(result.promptTokens)}}"#)
        return Self.answer(json.text, service: embedder.service.id)
    }

    func sparse(_ request: Request, context: some RequestContext) async throws -> Response {
        let embedder = try requireEmbedder()
        let body = try await JSONBody.decode(SparseEmbeddingsRequest.self, request, context: context, limit: Self.bodyLimit)
        let vectors = try await embedder.sparse(try body.input.checked("input"), route: "sparse_embeddings")
        core.observer.documents(route: "sparse_embeddings", upstream: embedder.service.id, count: vectors.count)
        var json = JSONText()
        json.raw(#"{"object":"list","data":["#)
        for (index, vector) in vectors.enumerated() {
            json.raw(index == 0 ? "{" : ",{")
            json.raw(#""index":\#(index),"indices":[\#(vector.indices.map(String.init).joined(separator: ","))],"values":"#)
            json.floats(vector.values)
            json.raw("}")
        }
        json.raw(#"],"model":"#)
        json.string(embedder.service.api.model ?? body.model ?? "embeddings")
        json.raw("}")
        return Self.answer(json.text, service: embedder.service.id)
    }

    func rerank(_ request: Request, context: some RequestContext) async throws -> Response {
        let reranker = try requireReranker()
        let body = try await JSONBody.decode(RerankRequest.self, request, context: context, limit: Self.bodyLimit)
        let documents = try body.validated()
        let scores = try await reranker.scores(query: body.query, documents: documents, model: body.model, route: "rerank")
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        let top = order.prefix(body.topN ?? order.count)
        let results = JSONValue.array(
            top.map { index in
                var result: [String: JSONValue] = ["index": .number(Double(index)), "relevance_score": .number(scores[index])]
                if body.returnDocuments == true { result["document"] = .object(["text": .string(documents[index])]) }
                return .object(result)
            })
        var answer: [String: JSONValue] = ["results": results]
        if let model = reranker.service.api.model ?? body.model { answer["model"] = .string(model) }
        return Self.answer(String(decoding: JSONValue.object(answer).encoded(), as: UTF8.self), service: reranker.service.id)
    }

    static func answer(_ text: String, service: String) -> Response {
        var response = Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[UpstreamCore.upstreamHeader] = service
        return response
    }

    func embeddingsService() -> ClusterService? { inventory.services(of: .embeddings).first }

    /// The rerank service; without one, the embeddings service (Infinity and TEI servers can serve a reranker too).
    func rerankService() -> ClusterService? { inventory.services(of: .rerank).first ?? embeddingsService() }

    func requireEmbedder() throws -> Embedder {
        guard let service = embeddingsService() else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_embeddings_service",
                message: "The inventory has no embeddings service; add one (bge-m3 behind TEI or Infinity) to use embeddings and search.")
        }
        return Embedder(core: core, service: service, sizes: DenseSizeCache())
    }

    func requireReranker() throws -> Reranker {
        guard let service = rerankService() else {
            throw APIError(
                .serviceUnavailable, type: "upstream_unavailable", code: "no_rerank_service",
                message: "The inventory has no rerank service; add one (kind rerank) to use /v1/rerank.")
        }
        return Reranker(core: core, service: service)
    }
}
