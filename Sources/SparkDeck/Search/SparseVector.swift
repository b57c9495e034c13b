import Foundation

/// A sparse vector as SparkDeck hands it on: indices unique and ascending, one value each (Qdrant refuses
/// duplicate indices with a 422).
public struct SparseVector: Sendable, Equatable, Codable {
    public var indices: [Int]
    public var values: [Float]

    public init(indices: [Int], values: [Float]) {
        self.indices = indices
        self.values = values
    }

    /// From (token id, weight) pairs in any order: a token listed twice keeps its largest weight (as bge-m3
    /// keeps the max over a token's occurrences).
    public init(pairs: [(Int, Float)]) {
        var best: [Int: Float] = [:]
        for (index, value) in pairs { best[index] = max(best[index] ?? -.infinity, value) }
        let sorted = best.keys.sorted()
        self.init(indices: sorted, values: sorted.map { best[$0]! })
    }

    /// A token id from FlagEmbedding's string keys: decimal ids as they are; a token given as text (servers that
    /// convert ids to tokens) gets a stable id above the vocabulary, so the same token always meets itself.
    static func tokenID(_ key: String) -> Int {
        if let id = Int(key), id >= 0, id <= Int(UInt32.max) { return id }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(1 << 31 | hash % (1 << 31))
    }

    /// The vectors of an upstream's sparse answer, in input order; nil when the answer has another shape or
    /// another count.
    static func parse(_ data: Data, shape: ServiceAPI.SparseShape, count: Int) -> [SparseVector]? {
        guard let parsed = try? JSONSerialization.jsonObject(with: data) else { return nil }
        var vectors: [SparseVector] = []
        switch shape {
        case .tei:
            guard let list = parsed as? [[[String: Any]]] else { return nil }
            for entries in list {
                var pairs: [(Int, Float)] = []
                for entry in entries {
                    guard let index = (entry["index"] as? NSNumber)?.intValue, let value = (entry["value"] as? NSNumber)?.floatValue
                    else { return nil }
                    pairs.append((index, value))
                }
                vectors.append(SparseVector(pairs: pairs))
            }
        case .lexicalWeights:
            guard let list = (parsed as? [String: Any])?["lexical_weights"] as? [[String: Any]] else { return nil }
            for weights in list {
                var pairs: [(Int, Float)] = []
                for (key, value) in weights {
                    guard let weight = (value as? NSNumber)?.floatValue else { return nil }
                    pairs.append((tokenID(key), weight))
                }
                vectors.append(SparseVector(pairs: pairs))
            }
        case .none:
            return nil
        }
        return vectors.count == count ? vectors : nil
    }

    var json: JSONValue {
        .object(["indices": .array(indices.map { .number(Double($0)) }), "values": .array(values.map { .number(Double($0)) })])
    }
}
