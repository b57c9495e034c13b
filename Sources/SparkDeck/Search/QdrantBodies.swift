import Crypto
import Foundation

/// The request bodies SparkDeck sends Qdrant, and the point ids it derives, as pure functions. Collections hold a
/// named dense vector `dense` (Cosine) and a sparse vector `sparse` (idf); each passage is a point whose payload
/// carries its document's id, its position, the passage text and the document's metadata.
enum QdrantBodies {
    static let dense = "dense"
    static let sparse = "sparse"

    static func createCollection(denseSize: Int, sparse: Bool) -> Data {
        var body: [String: JSONValue] = [
            "vectors": .object([Self.dense: .object(["size": .number(Double(denseSize)), "distance": .string("Cosine")])])
        ]
        if sparse { body["sparse_vectors"] = .object([Self.sparse: .object(["modifier": .string("idf")])]) }
        return JSONValue.object(body).encoded()
    }

    /// A document's id when the caller gives none: a UUID made from its text, so indexing it again replaces it.
    static func documentID(forText text: String) -> String {
        uuid(SHA256.hash(data: Data(("sparkdeck-document\u{0}" + text).utf8)))
    }

    /// A passage's point id: a UUID from the document id and position (ids of any form become valid Qdrant ids).
    static func pointID(document: String, position: Int) -> String {
        uuid(SHA256.hash(data: Data("sparkdeck-passage\u{0}\(document)\u{0}\(position)".utf8)))
    }

    static func uuid(_ digest: SHA256.Digest) -> String {
        var bytes = Array(digest.prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80 // version 8: a name-based UUID of our own hashing
        bytes[8] = (bytes[8] & 0x3F) | 0x80 // RFC 4122 variant
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }

    /// One point to write.
    struct Point {
        var document: String
        var passage: PassagePlan.Passage
        var passages: Int
        var metadata: [String: JSONValue]
        var dense: [Float]
        var sparse: SparseVector?
    }

    static func upsert(_ points: [Point]) -> Data {
        var json = JSONText()
        json.raw(#"{"points":["#)
        for (index, point) in points.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw(#"{"id":"#)
            json.string(pointID(document: point.document, position: point.passage.position))
            json.raw(#","vector":{"dense":"#)
            json.floats(point.dense)
            if let sparse = point.sparse {
                json.raw(#","sparse":{"indices":[\#(sparse.indices.map(String.init).joined(separator: ","))],"values":"#)
                json.floats(sparse.values)
                json.raw("}")
            }
            json.raw(#"},"payload":"#)
            json.value(
                .object([
                    "document_id": .string(point.document), "position": .number(Double(point.passage.position)),
                    "passages": .number(Double(point.passages)), "start": .number(Double(point.passage.start)),
                    "text": .string(point.passage.text), "metadata": .object(point.metadata),
                ]))
            json.raw("}")
        }
        json.raw("]}")
        return Data(json.text.utf8)
    }

    /// Deletes every passage of these documents.
    static func deleteDocuments(_ ids: [String]) -> Data {
        JSONValue.object([
            "filter": .object(["must": .array([documentMatch(ids)])])
        ]).encoded()
    }

    /// Deletes passages left over from a longer earlier version of each document (position >= its count now):
    /// one condition per distinct passage count, so a batch of similar documents stays a short filter.
    static func deleteStalePassages(_ documents: [(id: String, passages: Int)]) -> Data {
        let byCount = Dictionary(grouping: documents, by: \.passages).sorted { $0.key < $1.key }
        return JSONValue.object([
            "filter": .object([
                "should": .array(
                    byCount.map { count, documents in
                        .object([
                            "must": .array([
                                .object(["key": .string("position"), "range": .object(["gte": .number(Double(count))])]),
                                documentMatch(documents.map(\.id)),
                            ])
                        ])
                    })
            ])
        ]).encoded()
    }

    static func documentMatch(_ ids: [String]) -> JSONValue {
        ids.count == 1
            ? .object(["key": .string("document_id"), "match": .object(["value": .string(ids[0])])])
            : .object(["key": .string("document_id"), "match": .object(["any": .array(ids.map(JSONValue.string))])])
    }

    /// What a query searches with.
    enum Mode: String, Sendable, CaseIterable {
        case hybrid, dense, sparse
    }

    /// The Query API body: `hybrid` fuses a sparse and a dense prefetch by RRF, each fetching `candidates`
    /// (SparkDeck pages, groups and reranks itself, so Qdrant's own limit and each prefetch's are both `candidates`,
    /// which is at least limit + offset).
    static func query(mode: Mode, dense: [Float]?, sparse: SparseVector?, filter: JSONValue?, candidates: Int) -> Data {
        var json = JSONText()
        func denseQuery() {
            json.raw(#""query":"#)
            json.floats(dense ?? [])
            json.raw(#","using":"dense""#)
        }
        func sparseQuery() {
            let vector = sparse ?? SparseVector(indices: [], values: [])
            json.raw(#""query":{"indices":[\#(vector.indices.map(String.init).joined(separator: ","))],"values":"#)
            json.floats(vector.values)
            json.raw(#"},"using":"sparse""#)
        }
        json.raw("{")
        switch mode {
        case .hybrid:
            json.raw(#""prefetch":[{"#)
            sparseQuery()
            json.raw(#","limit":\#(candidates)},{"#)
            denseQuery()
            json.raw(#","limit":\#(candidates)}],"query":{"fusion":"rrf"}"#)
        case .dense: denseQuery()
        case .sparse: sparseQuery()
        }
        if let filter {
            json.raw(#","filter":"#)
            json.value(filter)
        }
        json.raw(#","limit":\#(candidates),"with_payload":true}"#)
        return Data(json.text.utf8)
    }
}
