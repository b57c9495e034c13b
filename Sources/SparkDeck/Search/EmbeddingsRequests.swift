import Foundation

/// Texts given as one string or a list of strings (OpenAI's token-array inputs are refused: SparkDeck cannot know
/// the upstream's tokenizer).
struct TextInputs: Decodable, Sendable {
    var texts: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            texts = [one]
        } else if let many = try? container.decode([String].self) {
            texts = many
        } else {
            throw DecodingError.typeMismatch(
                [String].self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "must be a string or a list of strings (token arrays are not accepted)"))
        }
    }

    static let maxCount = 2048

    func checked(_ field: String) throws -> [String] {
        guard !texts.isEmpty else { throw APIError.invalidRequest("`\(field)` must hold at least one text.", param: field) }
        guard texts.count <= Self.maxCount else {
            throw APIError.invalidRequest(
                "`\(field)` holds \(texts.count) texts; send at most \(Self.maxCount) a request (SparkDeck splits them for the upstream).",
                param: field)
        }
        return texts
    }
}

/// `POST /v1/embeddings`, OpenAI's shape.
struct EmbeddingsRequest: Decodable, Sendable {
    var input: TextInputs
    var model: String?
    var encodingFormat: String?
    var dimensions: Int?
    var user: String?

    enum CodingKeys: String, CodingKey {
        case input, model, dimensions, user
        case encodingFormat = "encoding_format"
    }

    func validated() throws -> (texts: [String], base64: Bool) {
        let texts = try input.checked("input")
        switch encodingFormat {
        case nil, "float": return (texts, false)
        case "base64": return (texts, true)
        case .some(let other):
            throw APIError.invalidRequest("`encoding_format` must be float or base64, not `\(other)`.", param: "encoding_format")
        }
    }
}

/// `POST /v1/embeddings/sparse`: `{input}` -> `{data: [{index, indices, values}]}`.
struct SparseEmbeddingsRequest: Decodable, Sendable {
    var input: TextInputs
    var model: String?
}

/// `POST /v1/rerank`, Cohere's and Jina's shape.
struct RerankRequest: Decodable, Sendable {
    struct Document: Decodable, Sendable {
        var text: String
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
                return
            }
            enum Keys: String, CodingKey { case text }
            text = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .text)
        }
    }
    var model: String?
    var query: String
    var documents: [Document]
    var topN: Int?
    var returnDocuments: Bool?

    enum CodingKeys: String, CodingKey {
        case model, query, documents
        case topN = "top_n"
        case returnDocuments = "return_documents"
    }

    static let maxDocuments = 1000

    func validated() throws -> [String] {
        guard !documents.isEmpty else { throw APIError.invalidRequest("`documents` must hold at least one document.", param: "documents") }
        guard documents.count <= Self.maxDocuments else {
            throw APIError.invalidRequest("`documents` holds \(documents.count); send at most \(Self.maxDocuments).", param: "documents")
        }
        if let topN, topN < 1 { throw APIError.invalidRequest("`top_n` must be at least 1.", param: "top_n") }
        return documents.map(\.text)
    }
}

/// JSON text written directly, for answers with many floats (a `Float`'s description is its shortest exact form,
/// a third the size of a `Double`'s).
struct JSONText {
    private(set) var text = ""

    init() { text.reserveCapacity(1 << 14) }

    mutating func raw(_ part: String) { text += part }

    mutating func string(_ value: String) { text += String(decoding: JSONValue.string(value).encoded(), as: UTF8.self) }

    mutating func floats(_ values: [Float]) {
        text += "["
        for (index, value) in values.enumerated() {
            if index > 0 { text += "," }
            text += value.isFinite ? value.description : "0"
        }
        text += "]"
    }

    mutating func value(_ value: JSONValue) { text += String(decoding: value.encoded(), as: UTF8.self) }
}

extension [Float] {
    /// OpenAI's `encoding_format: base64`: the floats' little-endian float32 bytes.
    var base64LittleEndian: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * 4)
        for value in self {
            let bits = value.bitPattern.littleEndian
            Swift.withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
