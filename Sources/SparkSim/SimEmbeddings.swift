import Foundation
import Hummingbird

/// A bge-m3 server as TEI and Infinity serve it: OpenAI `/v1/embeddings` (float or base64), TEI's `/embed`,
/// `/embed_sparse` (TEI's `[[{index, value}]]`, or FlagEmbedding's `{"lexical_weights":[{"id": weight}]}` with
/// string token ids, as the settings say) and `/rerank` (TEI's `{query, texts}` -> `[{index, score}]`, or
/// Cohere/Infinity's `{query, documents, top_n, return_documents}` -> `{results}`, told apart by the body). Batches
/// above the server's limit get TEI's 413, so a client must split them.
public enum SimEmbeddings {
    public struct Settings: Sendable {
        public enum SparseFormat: String, Sendable, CaseIterable {
            case tei
            case lexicalWeights = "lexical_weights"
        }
        public var dimensions: Int
        public var maxBatch: Int
        public var sparseFormat: SparseFormat
        public var model: String

        public init(dimensions: Int = 1024, maxBatch: Int = 32, sparseFormat: SparseFormat = .tei, model: String = "BAAI/bge-m3") {
            self.dimensions = dimensions
            self.maxBatch = maxBatch
            self.sparseFormat = sparseFormat
            self.model = model
        }
    }

    public static func run(_ options: SimOptions, settings: Settings = Settings()) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        try await SimServer.run(router(options, settings: settings), options: options, name: "embeddings") { SimStartup.running(options) }
    }

    /// The routes, for a test to serve in its own process.
    public static func router(_ options: SimOptions, settings: Settings = Settings()) -> Router<BasicRequestContext> {
        let router = SimServer.router(options)
        router.get("/health") { _, _ in SimServer.json(["status": "ok", "model": settings.model]) }
        router.get("/v1/models") { _, _ in
            SimServer.json([
                "object": "list",
                "data": [["id": settings.model, "object": "model", "created": 1_700_000_000, "owned_by": "sparksim"]],
            ])
        }
        router.post("/v1/embeddings") { request, _ in try await openAIEmbeddings(request, settings) }
        router.post("/embed") { request, _ in
            let inputs = try await texts(request, field: "inputs", settings)
            return await modelThread { denseRows(inputs, settings) }
        }
        router.post("/embed_sparse") { request, _ in
            let inputs = try await texts(request, field: "inputs", settings)
            return await modelThread { sparseRows(inputs, settings) }
        }
        router.post("/rerank") { request, _ in try await rerank(request, settings) }
        router.post("/v1/rerank") { request, _ in try await rerank(request, settings) }
        return router
    }

    static func denseRows(_ inputs: [String], _ settings: Settings) -> Response {
        let rows = inputs.map {
            "[" + SimTextFeatures.dense($0, dimensions: settings.dimensions).map(\.description).joined(separator: ",") + "]"
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "[" + rows.joined(separator: ",") + "]")))
    }

    static func sparseRows(_ inputs: [String], _ settings: Settings) -> Response {
        let vectors = inputs.map(SimTextFeatures.sparse)
        switch settings.sparseFormat {
        case .tei:
            return SimServer.json(vectors.map { $0.map { ["index": $0.index, "value": Double($0.value)] } })
        case .lexicalWeights:
            let weights = vectors.map { vector in
                Dictionary(vector.map { (String($0.index), Double($0.value)) }, uniquingKeysWith: max)
            }
            return SimServer.json(["lexical_weights": weights])
        }
    }

    struct Refusal: HTTPResponseError {
        var status: HTTPResponse.Status
        var message: String
        var kind = "Validation"

        func response(from request: Request, context: some RequestContext) throws -> Response {
            SimServer.json(["error": message, "error_type": kind], status: status)
        }
    }

    static func body(_ request: Request) async throws -> [String: Any] {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
            throw Refusal(status: .unprocessableContent, message: "Failed to deserialize the JSON body into the target type")
        }
        return object
    }

    static func texts(_ object: [String: Any], field: String, _ settings: Settings) throws -> [String] {
        let inputs: [String]
        if let one = object[field] as? String {
            inputs = [one]
        } else if let many = object[field] as? [String] {
            inputs = many
        } else {
            throw Refusal(status: .unprocessableContent, message: "\(field): expected a string or a list of strings")
        }
        guard !inputs.isEmpty else { throw Refusal(status: .unprocessableContent, message: "`\(field)` cannot be empty") }
        guard inputs.count <= settings.maxBatch else {
            throw Refusal(
                status: .contentTooLarge, message: "batch size \(inputs.count) > maximum allowed batch size \(settings.maxBatch)")
        }
        return inputs
    }

    static func texts(_ request: Request, field: String, _ settings: Settings) async throws -> [String] {
        try texts(try await body(request), field: field, settings)
    }

    static func openAIEmbeddings(_ request: Request, _ settings: Settings) async throws -> Response {
        let object = try await body(request)
        let inputs = try texts(object, field: "input", settings)
        if let dimensions = object["dimensions"] as? Int, dimensions != settings.dimensions {
            throw Refusal(
                status: .badRequest,
                message:
                    "Model \(settings.model) does not support matryoshka representation; `dimensions` must be \(settings.dimensions) or absent"
            )
        }
        let base64 = (object["encoding_format"] as? String) == "base64"
        return await modelThread { vectors(inputs, base64: base64, settings) }
    }

    /// Runs the model's work on threads of its own, as TEI's backend runs beside its HTTP router: a busy model
    /// slows embedding requests, never `/health`.
    static func modelThread(_ work: @escaping @Sendable () -> Response) async -> Response {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }

    static func vectors(_ inputs: [String], base64: Bool, _ settings: Settings) -> Response {
        var tokens = 0
        // Written as text: JSONSerialization takes ~5 ms per 1024 doubles, longer than the vectors take to make.
        var text = #"{"object":"list","data":["#
        for (index, input) in inputs.enumerated() {
            tokens += SimTextFeatures.words(input).count + 2
            let vector = SimTextFeatures.dense(input, dimensions: settings.dimensions)
            text += index == 0 ? "{" : ",{"
            text += #""object":"embedding","index":\#(index),"embedding":"#
            if base64 {
                text += "\"" + vector.withUnsafeBufferPointer { Data(buffer: $0).base64EncodedString() } + "\""
            } else {
                text += "[" + vector.map(\.description).joined(separator: ",") + "]"
            }
            text += "}"
        }
        text += #"],"model":"\#(settings.model)","usage":{"prompt_tokens":\#(tokens),"total_tokens":\#(tokens)}}"#
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func rerank(_ request: Request, _ settings: Settings) async throws -> Response {
        let object = try await body(request)
        guard let query = object["query"] as? String else {
            throw Refusal(status: .unprocessableContent, message: "query: missing field `query`")
        }
        if object["texts"] != nil {
            let texts = try texts(object, field: "texts", settings)
            let scored = texts.enumerated().map { (index: $0.offset, score: SimTextFeatures.relevance(query: query, document: $0.element)) }
            let sorted: [[String: Any]] = scored.sorted { $0.score > $1.score }.map { ["index": $0.index, "score": $0.score] }
            return SimServer.json(sorted)
        }
        guard let raw = object["documents"] as? [Any] else {
            throw Refusal(status: .unprocessableContent, message: "documents: expected a list of strings or {text} objects")
        }
        let documents = try raw.map { item -> String in
            if let text = item as? String { return text }
            if let text = (item as? [String: Any])?["text"] as? String { return text }
            throw Refusal(status: .unprocessableContent, message: "documents: expected a list of strings or {text} objects")
        }
        guard documents.count <= settings.maxBatch else {
            throw Refusal(
                status: .contentTooLarge, message: "batch size \(documents.count) > maximum allowed batch size \(settings.maxBatch)")
        }
        let returnDocuments = object["return_documents"] as? Bool ?? false
        let ranked = documents.enumerated()
            .map { (index: $0.offset, text: $0.element, score: SimTextFeatures.relevance(query: query, document: $0.element)) }
            .sorted { $0.score > $1.score }
        let topN = (object["top_n"] as? Int).map { max(0, $0) } ?? ranked.count
        let results: [[String: Any]] = ranked.prefix(topN).map { hit in
            var result: [String: Any] = ["index": hit.index, "relevance_score": hit.score]
            if returnDocuments { result["document"] = ["text": hit.text] }
            return result
        }
        return SimServer.json(["object": "rerank", "model": settings.model, "results": results, "usage": ["total_tokens": 0]])
    }
}
