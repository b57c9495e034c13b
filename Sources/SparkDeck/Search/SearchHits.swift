import Foundation

/// A query's passages turned into the answer: reranked when asked (the rerank score orders, the retrieval score
/// stays), one per document when grouped (its best passage), then paged by `offset` and `limit`. Pure.
enum SearchHits {
    struct Hit: Sendable {
        var document: String
        var position: Int
        var score: Double
        var text: String
        var metadata: JSONValue
        var rerankScore: Double?

        init(document: String, position: Int, score: Double, text: String, metadata: JSONValue = .object([:]), rerankScore: Double? = nil) {
            self.document = document
            self.position = position
            self.score = score
            self.text = text
            self.metadata = metadata
            self.rerankScore = rerankScore
        }

        init(point: [String: Any]) {
            let payload = point["payload"] as? [String: Any] ?? [:]
            let metadata = (payload["metadata"]).flatMap { try? JSONSerialization.data(withJSONObject: $0) }
                .flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
            self.init(
                document: payload["document_id"] as? String ?? "\(point["id"] ?? "")",
                position: (payload["position"] as? NSNumber)?.intValue ?? 0,
                score: (point["score"] as? NSNumber)?.doubleValue ?? 0,
                text: payload["text"] as? String ?? "",
                metadata: metadata ?? .object([:]))
        }

        var json: JSONValue {
            var object: [String: JSONValue] = [
                "id": .string(document), "passage": .number(Double(position)), "score": .number(score),
                "text": .string(text), "metadata": metadata,
            ]
            if let rerankScore { object["rerank_score"] = .number(rerankScore) }
            return .object(object)
        }
    }

    /// How many passages to ask Qdrant for: the page's end, more when grouping (several passages of one document
    /// may come first) and at least `rerankDepth` when reranking.
    static func candidates(limit: Int, offset: Int, group: Bool, rerankDepth: Int?) -> Int {
        let window = limit + offset
        var count = group ? window * 4 : window
        if let rerankDepth { count = max(count, rerankDepth) }
        return min(max(count, window), 1000)
    }

    /// Orders (by rerank score when present, keeping retrieval order for ties), groups and pages.
    static func page(_ hits: [Hit], limit: Int, offset: Int, group: Bool) -> [Hit] {
        var ordered = hits
        if hits.contains(where: { $0.rerankScore != nil }) {
            ordered = hits.enumerated().sorted { a, b in
                let (x, y) = (a.element.rerankScore ?? -.infinity, b.element.rerankScore ?? -.infinity)
                return x != y ? x > y : a.offset < b.offset
            }.map(\.element)
        }
        if group {
            var seen = Set<String>()
            ordered = ordered.filter { seen.insert($0.document).inserted }
        }
        return Array(ordered.dropFirst(offset).prefix(limit))
    }
}
