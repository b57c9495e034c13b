import Foundation

/// A document id as the caller gives it: a string, or a whole number (kept as its decimal text).
struct DocumentID: Decodable, Sendable {
    var text: String
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.text = text
        } else if let number = try? container.decode(UInt64.self) {
            text = String(number)
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "must be a string or a whole number"))
        }
    }
}

/// `POST /v1/search/collections/{name}/documents`.
struct DocumentsRequest: Decodable, Sendable {
    struct Document: Decodable, Sendable {
        var id: DocumentID?
        var text: String
        var metadata: [String: JSONValue]?
    }
    var documents: [Document]
    /// Passage size and overlap in characters (defaults 1200 and 200).
    var passageCharacters: Int?
    var overlapCharacters: Int?
    enum CodingKeys: String, CodingKey {
        case documents
        case passageCharacters = "passage_characters"
        case overlapCharacters = "overlap_characters"
    }

    static let maxDocuments = 5000

    /// Each document with its id (given, or made from its text) and passages; a 400 naming the document when one
    /// cannot be indexed.
    func planned() throws -> [(id: String, metadata: [String: JSONValue], passages: [PassagePlan.Passage])] {
        guard !documents.isEmpty else { throw APIError.invalidRequest("`documents` must hold at least one document.", param: "documents") }
        guard documents.count <= Self.maxDocuments else {
            throw APIError.invalidRequest(
                "`documents` holds \(documents.count); send at most \(Self.maxDocuments) a request.", param: "documents")
        }
        if let size = passageCharacters, !(100...20_000).contains(size) {
            throw APIError.invalidRequest("`passage_characters` must be from 100 to 20000.", param: "passage_characters")
        }
        let plan = PassagePlan(maxCharacters: passageCharacters ?? 1200, overlapCharacters: overlapCharacters ?? 200)
        var seen = Set<String>()
        return try documents.enumerated().map { index, document in
            let id = document.id?.text ?? QdrantBodies.documentID(forText: document.text)
            guard !id.isEmpty else { throw APIError.invalidRequest("`documents[\(index)].id` is empty.", param: "documents[\(index)].id") }
            guard seen.insert(id).inserted else {
                throw APIError.invalidRequest(
                    "`documents[\(index)]` has the id `\(id)` of an earlier document in this request; ids must be unique.",
                    param: "documents[\(index)].id")
            }
            let passages = plan.passages(of: document.text)
            guard !passages.isEmpty else {
                throw APIError.invalidRequest("`documents[\(index)].text` (id `\(id)`) is empty.", param: "documents[\(index)].text")
            }
            return (id, document.metadata ?? [:], passages)
        }
    }
}

/// `DELETE /v1/search/collections/{name}/documents`.
struct DeleteDocumentsRequest: Decodable, Sendable {
    var ids: [DocumentID]
}

/// `POST /v1/search/collections/{name}/query`.
struct SearchQueryRequest: Decodable, Sendable {
    var query: String
    var limit: Int?
    var offset: Int?
    var mode: String?
    var filter: [String: JSONValue]?
    var rerank: Bool?
    /// How many passages the reranker sees (default 50).
    var rerankCandidates: Int?
    /// One result per document (its best passage); default true.
    var group: Bool?

    enum CodingKeys: String, CodingKey {
        case query, limit, offset, mode, filter, rerank, group
        case rerankCandidates = "rerank_candidates"
    }

    struct Checked {
        var mode: QdrantBodies.Mode
        var limit: Int
        var offset: Int
        var filter: JSONValue?
        var rerankDepth: Int?
        var group: Bool
    }

    func checked() throws -> Checked {
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalidRequest("`query` is empty.", param: "query")
        }
        let limit = limit ?? 10
        guard (1...100).contains(limit) else { throw APIError.invalidRequest("`limit` must be from 1 to 100.", param: "limit") }
        let offset = offset ?? 0
        guard (0...900).contains(offset) else { throw APIError.invalidRequest("`offset` must be from 0 to 900.", param: "offset") }
        guard let mode = QdrantBodies.Mode(rawValue: mode ?? "hybrid") else {
            throw APIError.invalidRequest("`mode` must be hybrid, dense or sparse, not `\(mode ?? "")`.", param: "mode")
        }
        if let depth = rerankCandidates, !(1...1000).contains(depth) {
            throw APIError.invalidRequest("`rerank_candidates` must be from 1 to 1000.", param: "rerank_candidates")
        }
        return Checked(
            mode: mode, limit: limit, offset: offset, filter: try filter.flatMap(SearchFilter.qdrant),
            rerankDepth: rerank == true ? max(rerankCandidates ?? 50, limit + offset) : nil, group: group ?? true)
    }
}
