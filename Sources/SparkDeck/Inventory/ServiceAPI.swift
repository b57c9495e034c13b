/// How a service speaks where servers of its kind differ (inventory `api:`): bge-m3 servers in their sparse and rerank
/// shapes and in how many inputs one request may carry; ASR servers in the transcription formats they answer; TTS
/// servers in the formats they stream whole.
public struct ServiceAPI: Sendable, Equatable {
    /// The shape of the service's sparse answers.
    public enum SparseShape: String, Sendable, Equatable, CaseIterable {
        /// TEI: `POST /embed_sparse {"inputs": [...]}` -> `[[{"index": 1012, "value": 0.99}]]`.
        case tei
        /// FlagEmbedding-style: the same request -> `{"lexical_weights": [{"1012": 0.99}]}` (string token ids).
        case lexicalWeights = "lexical_weights"
        /// No sparse output (a dense-only embedder): sparse and hybrid search are refused with a clear 400.
        case none
    }

    /// The shape of the service's rerank requests and answers.
    public enum RerankShape: String, Sendable, Equatable, CaseIterable {
        /// TEI: `{query, texts}` -> `[{index, score}]`.
        case tei
        /// Cohere/Infinity: `{query, documents, top_n, return_documents}` -> `{results: [{index, relevance_score}]}`.
        case cohere
    }

    /// An embedder's or reranker's model name sent upstream as `model` (nil sends the client's, or for SparkDeck's own
    /// calls none); for every service, the name `GET /v1/models` lists it under.
    public var model: String?
    /// The transcription formats an ASR service answers itself; nil: all of OpenAI's. With a list (faster-whisper-server
    /// answers only `json` and `verbose_json`), SparkDeck spools each upload, asks for `verbose_json` and renders the
    /// format asked for itself.
    public var formats: [String]?
    /// The speech formats a TTS service streams as one file; nil: all of them. Any other format is asked for whole
    /// (`stream: false`) and passed on as it comes: fastkokoro streams a wav or flac as one file per sentence,
    /// joined, which no player reads past the first.
    public var streamedFormats: [String]?
    /// The most inputs one upstream request may carry (TEI's `max_client_batch_size`); larger batches are split.
    public var maxBatch = 32
    public var sparse = SparseShape.tei
    public var sparsePath = "/embed_sparse"
    public var rerank = RerankShape.tei
    public var rerankPath = "/rerank"

    public init() {}
}
