import Foundation

/// The simulated bge-m3: deterministic dense vectors (feature hashing of words and character trigrams, so texts
/// that share words point the same way), sparse lexical weights (one token id a word) and a lexical-overlap
/// reranker. No randomness and no seeded hashing: the same text gives the same numbers in every process.
public enum SimTextFeatures {
    /// bge-m3's vocabulary size (XLM-RoBERTa): the sparse token ids stay below it, as real ones do.
    public static let vocabularySize: UInt64 = 250_002

    /// Lower-cased words (letters and digits), in order.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for scalar in text.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// FNV-1a, 64 bits: stable across processes (Swift's `Hasher` is seeded per process).
    public static func hash(_ text: String) -> UInt64 {
        hash(text.utf8)
    }

    static func hash(_ bytes: some Sequence<UInt8>, from seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var value = seed
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return value
    }

    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "in", "is", "it", "its", "of", "on",
        "or", "that", "the", "to", "was", "were", "will", "with", "what", "which", "who", "how", "do", "does",
    ]

    /// A unit vector of `dimensions`: each word adds a signed unit at its hashed position, its character trigrams
    /// a smaller one (so "invoice" and "invoices" are near); stop words count little.
    public static func dense(_ text: String, dimensions: Int = 1024) -> [Float] {
        var vector = [Float](repeating: 0, count: dimensions)
        func add(_ h: UInt64, _ weight: Float) {
            let sign: Float = (h >> 63) == 0 ? 1 : -1
            vector[Int(h % UInt64(dimensions))] += sign * weight
        }
        let wordSeed = hash("w:")
        let trigramSeed = hash("t:")
        let tokens = words(text)
        for word in tokens {
            let weight: Float = stopWords.contains(word) ? 0.15 : 1
            add(hash(word.utf8, from: wordSeed), weight)
            // Character trigrams of "#word#", hashed from their UTF-8 bytes without building strings.
            let scalars = [Unicode.Scalar("#")] + Array(word.unicodeScalars) + [Unicode.Scalar("#")]
            if scalars.count > 3 {
                for start in 0...(scalars.count - 3) {
                    var h = trigramSeed
                    for scalar in scalars[start..<start + 3] { h = hash(String(scalar).utf8, from: h) }
                    add(h, weight * 0.35)
                }
            }
        }
        if tokens.isEmpty { add(hash("empty"), 1) }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return vector.map { $0 / norm }
    }

    /// The token id a word gets (stable, below the vocabulary size, never the special ids 0–3).
    public static func tokenID(_ word: String) -> Int {
        Int(hash("s:" + word) % (vocabularySize - 4) + 4)
    }

    /// Lexical weights: one token a word, the largest weight where a word repeats (as bge-m3 keeps the max per
    /// token); longer words weigh more, stop words little. Listed in order of first appearance.
    public static func sparse(_ text: String) -> [(index: Int, value: Float)] {
        var order: [Int] = []
        var weights: [Int: Float] = [:]
        for word in words(text) {
            let id = tokenID(word)
            let base: Float = 0.05 + 0.3 * Float(min(word.count, 12)) / 12
            let weight = (stopWords.contains(word) ? base * 0.2 : base)
            let rounded = (weight * 10_000).rounded() / 10_000
            if let existing = weights[id] {
                weights[id] = max(existing, rounded)
            } else {
                order.append(id)
                weights[id] = rounded
            }
        }
        return order.map { ($0, weights[$0]!) }
    }

    /// Relevance of `document` to `query` in [0, 1]: the share of the query's content words the document holds,
    /// plus a little for each query word pair it holds in order.
    public static func relevance(query: String, document: String) -> Double {
        let queryWords = words(query).filter { !stopWords.contains($0) }
        guard !queryWords.isEmpty else { return 0 }
        let documentWords = words(document)
        let present = Set(documentWords)
        let unique = Set(queryWords)
        let shared = Double(unique.filter { present.contains($0) }.count) / Double(unique.count)
        let documentPairs = Set(zip(documentWords, documentWords.dropFirst()).map { $0 + " " + $1 })
        let queryPairs = Array(zip(queryWords, queryWords.dropFirst()).map { $0 + " " + $1 })
        let pairs = queryPairs.isEmpty ? 0 : Double(queryPairs.filter { documentPairs.contains($0) }.count) / Double(queryPairs.count)
        // Shorter documents holding the same words rank a little higher, as a cross-encoder's do.
        let brevity = 1 / (1 + Double(documentWords.count) / 400)
        return ((0.75 * shared + 0.2 * pairs + 0.05 * brevity) * 10_000).rounded() / 10_000
    }
}
