import Foundation
import NIOCore
import Synchronization

/// Dense and sparse embeddings from the inventory's embeddings service, through the upstream core: inputs beyond
/// the service's `max_batch` are split into several requests (as many at once as its admission allows) and the
/// vectors re-joined in input order.
struct Embedder: Sendable {
    let core: UpstreamCore
    let service: ClusterService
    let sizes: DenseSizeCache

    struct Dense: Sendable {
        var vectors: [[Float]]
        var promptTokens: Int
        var model: String?
    }

    private struct DenseAnswer: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]

            enum CodingKeys: String, CodingKey { case index, embedding }

            // Asked for as base64 (a quarter of the bytes, and no number parsing); an upstream that answers with
            // floats anyway is read too.
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                index = try container.decode(Int.self, forKey: .index)
                if let packed = try? container.decode(String.self, forKey: .embedding) {
                    guard let data = Data(base64Encoded: packed), data.count % 4 == 0 else {
                        throw DecodingError.dataCorruptedError(forKey: .embedding, in: container, debugDescription: "not base64 float32")
                    }
                    embedding = data.withUnsafeBytes { raw in
                        (0..<data.count / 4).map {
                            Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                        }
                    }
                } else {
                    embedding = try container.decode([Float].self, forKey: .embedding)
                }
            }
        }
        struct Usage: Decodable {
            var promptTokens: Int?
            enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens" }
        }
        var data: [Item]
        var usage: Usage?
        var model: String?
    }

    private struct DenseRequest: Encodable {
        var input: [String]
        var model: String?
        var dimensions: Int?
        var encodingFormat = "base64"
        enum CodingKeys: String, CodingKey {
            case input, model, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    /// Requests of one call sent at once: as many as the service (and its group) admit.
    var parallel: Int { min(core.gates.maxInFlight(for: Upstream(service: service)), 8) }

    func dense(_ texts: [String], model: String? = nil, dimensions: Int? = nil, route: String) async throws -> Dense {
        let (core, service) = (self.core, self.service)
        let model = service.api.model ?? model
        let parts = try await BatchPlan.run(BatchPlan.ranges(count: texts.count, size: service.api.maxBatch), parallel: parallel) {
            range in
            let body = try JSONEncoder().encode(DenseRequest(input: Array(texts[range]), model: model, dimensions: dimensions))
            let answer = try await core.exchange(
                UpstreamRequest(route: route, path: "/v1/embeddings", body: .bytes(ByteBuffer(bytes: body))), to: Upstream(service: service)
            )
            let data = try UpstreamAnswerCheck.body(answer, from: service.id, doing: "the embeddings request")
            guard let parsed = try? JSONDecoder().decode(DenseAnswer.self, from: data), parsed.data.count == range.count else {
                throw UpstreamAnswerCheck.unreadable(service.id, "an embeddings request")
            }
            return parsed
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for part in parts { vectors += part.data.sorted { $0.index < $1.index }.map(\.embedding) }
        return Dense(
            vectors: vectors, promptTokens: parts.reduce(0) { $0 + ($1.usage?.promptTokens ?? 0) }, model: parts.first?.model ?? model)
    }

    func sparse(_ texts: [String], route: String) async throws -> [SparseVector] {
        let (core, service) = (self.core, self.service)
        guard service.api.sparse != .none else {
            throw APIError.invalidRequest(
                "The \(service.id) service makes no sparse vectors (its inventory `api.sparse` is none); use dense search.",
                param: "mode")
        }
        let parts = try await BatchPlan.run(BatchPlan.ranges(count: texts.count, size: service.api.maxBatch), parallel: parallel) {
            range in
            let body = JSONValue.object(["inputs": .array(texts[range].map(JSONValue.string))]).encoded()
            let answer = try await core.exchange(
                UpstreamRequest(route: route, path: service.api.sparsePath, body: .bytes(ByteBuffer(bytes: body))),
                to: Upstream(service: service))
            let data = try UpstreamAnswerCheck.body(answer, from: service.id, doing: "the sparse embeddings request")
            guard let vectors = SparseVector.parse(data, shape: service.api.sparse, count: range.count) else {
                throw UpstreamAnswerCheck.unreadable(service.id, "a sparse embeddings request")
            }
            return vectors
        }
        return parts.flatMap { $0 }
    }

    /// The embedder's dense size, read from one embedding of a probe text (never assumed), then remembered.
    func denseSize() async throws -> Int {
        if let size = sizes.size(of: service.id) { return size }
        let size = try await dense(["dimension probe"], route: "search").vectors[0].count
        sizes.store(size, for: service.id)
        return size
    }
}

/// The dense size each embeddings service was last seen making.
final class DenseSizeCache: Sendable {
    private let sizes = Mutex<[String: Int]>([:])
    init() {}
    func size(of service: String) -> Int? { sizes.withLock { $0[service] } }
    func store(_ size: Int, for service: String) { sizes.withLock { $0[service] = size } }
}

/// Relevance scores from the inventory's rerank service (TEI or Cohere/Infinity shape, as its `api.rerank` says),
/// one per document in the order given; documents beyond `max_batch` go in several requests.
struct Reranker: Sendable {
    let core: UpstreamCore
    let service: ClusterService

    func scores(query: String, documents: [String], model: String? = nil, route: String) async throws -> [Double] {
        let (core, service) = (self.core, self.service)
        let model = service.api.model ?? model
        let parallel = min(core.gates.maxInFlight(for: Upstream(service: service)), 8)
        let parts = try await BatchPlan.run(BatchPlan.ranges(count: documents.count, size: service.api.maxBatch), parallel: parallel) {
            range in
            let texts = JSONValue.array(documents[range].map(JSONValue.string))
            var body: [String: JSONValue] = ["query": .string(query)]
            switch service.api.rerank {
            case .tei:
                body["texts"] = texts
                body["truncate"] = .bool(true)
            case .cohere:
                body["documents"] = texts
                body["top_n"] = .number(Double(range.count))
                body["return_documents"] = .bool(false)
                if let model { body["model"] = .string(model) }
            }
            let answer = try await core.exchange(
                UpstreamRequest(
                    route: route, path: service.api.rerankPath, body: .bytes(ByteBuffer(bytes: JSONValue.object(body).encoded()))),
                to: Upstream(service: service))
            let data = try UpstreamAnswerCheck.body(answer, from: service.id, doing: "the rerank request")
            guard let scores = Self.parse(data, shape: service.api.rerank, count: range.count) else {
                throw UpstreamAnswerCheck.unreadable(service.id, "a rerank request")
            }
            return scores
        }
        return parts.flatMap { $0 }
    }

    /// Scores by document index from TEI's `[{index, score}]` or Cohere's `{results: [{index, relevance_score}]}`;
    /// nil unless every document got one.
    static func parse(_ data: Data, shape: ServiceAPI.RerankShape, count: Int) -> [Double]? {
        guard let parsed = try? JSONSerialization.jsonObject(with: data) else { return nil }
        let items: [[String: Any]]?
        let scoreKey: String
        switch shape {
        case .tei:
            items = parsed as? [[String: Any]]
            scoreKey = "score"
        case .cohere:
            items = (parsed as? [String: Any])?["results"] as? [[String: Any]]
            scoreKey = "relevance_score"
        }
        guard let items else { return nil }
        var scores = [Double?](repeating: nil, count: count)
        for item in items {
            guard let index = (item["index"] as? NSNumber)?.intValue, (0..<count).contains(index),
                let score = (item[scoreKey] as? NSNumber)?.doubleValue
            else { return nil }
            scores[index] = score
        }
        return scores.contains { $0 == nil } ? nil : scores.map { $0! }
    }
}
