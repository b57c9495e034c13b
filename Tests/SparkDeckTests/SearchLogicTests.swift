import Foundation
import Testing

@testable import SparkDeck

/// The search API's pure parts: passage cutting, filter translation, sparse normalisation, batching, paging.
@Suite("Search logic")
struct SearchLogicTests {
    static let sentences = (1...40).map { "Sentence number \($0) talks about topic \($0 * 7) in some detail." }

    @Test func shortTextIsOnePassage() {
        let passages = PassagePlan(maxCharacters: 200, overlapCharacters: 40).passages(of: "  One short text. Two.  ")
        #expect(passages == [.init(position: 0, text: "One short text. Two.", start: 2, end: 22)])
    }

    @Test func longTextIsCutBetweenSentencesWithOverlap() {
        let text = Self.sentences.joined(separator: " ")
        let plan = PassagePlan(maxCharacters: 300, overlapCharacters: 80)
        let passages = plan.passages(of: text)
        #expect(passages.count > 5)
        for passage in passages {
            #expect(passage.text.count <= 300)
            #expect(passage.text.hasPrefix("Sentence number "))
            #expect(passage.text.hasSuffix("detail."))
        }
        // Each passage after the first begins with the last sentence of the one before.
        for (previous, next) in zip(passages, passages.dropFirst()) {
            #expect(next.start < previous.end)
            let firstSentence = String(next.text.prefix { $0 != "." }) + "."
            #expect(previous.text.contains(firstSentence))
        }
        // Every sentence lands whole in some passage.
        for sentence in Self.sentences { #expect(passages.contains { $0.text.contains(sentence) }) }
        #expect(passages.map(\.position) == Array(0..<passages.count))
    }

    @Test func aSentenceLongerThanAPassageIsCutBetweenWords() {
        let text = Array(repeating: "word", count: 200).joined(separator: " ")
        let passages = PassagePlan(maxCharacters: 100, overlapCharacters: 0).passages(of: text)
        #expect(passages.count >= 9)
        for passage in passages {
            #expect(passage.text.count <= 100)
            #expect(passage.text.split(separator: " ").allSatisfy { $0 == "word" })
        }
    }

    @Test func filterTranslatesEqualityRangesAndAnyOf() throws {
        let filter = try #require(
            try SearchFilter.qdrant([
                "lang": .string("de"), "year": .object(["gte": .number(2020), "lt": .number(2024)]),
                "tag": .object(["any": .array([.string("a"), .string("b")])]), "status": .object(["not": .string("draft")]),
            ]))
        #expect(
            String(decoding: filter.encoded(), as: UTF8.self)
                == #"{"must":[{"key":"metadata.lang","match":{"value":"de"}},{"key":"metadata.tag","match":{"any":["a","b"]}},{"key":"metadata.year","range":{"gte":2020,"lt":2024}}],"must_not":[{"key":"metadata.status","match":{"value":"draft"}}]}"#
        )
    }

    @Test(arguments: [
        (["year": JSONValue.object(["between": .number(1)])], "filter.year", "`between`"),
        (["tag": .object(["any": .array([])])], "filter.tag", "non-empty list"),
        (["a b": .string("x")], "filter.a b", "field names"),
        (["x": .array([.string("y")])], "filter.x", "must be a value"),
    ])
    func filterRefusalsNameTheField(filter: [String: JSONValue], param: String, says: String) {
        do {
            _ = try SearchFilter.qdrant(filter)
            Issue.record("accepted \(filter)")
        } catch let error as APIError {
            #expect(error.param == param)
            #expect(error.message.contains(says))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func sparseOutputsAreNormalisedInBothShapes() throws {
        let tei = #"[[{"index":30,"value":0.2},{"index":7,"value":0.5},{"index":30,"value":0.4}],[]]"#
        #expect(
            SparseVector.parse(Data(tei.utf8), shape: .tei, count: 2)
                == [SparseVector(indices: [7, 30], values: [0.5, 0.4]), SparseVector(indices: [], values: [])])
        let flag = #"{"lexical_weights":[{"1012":0.25,"5":0.5,"hello":0.1}]}"#
        let vector = try #require(SparseVector.parse(Data(flag.utf8), shape: .lexicalWeights, count: 1)?.first)
        #expect(vector.indices.prefix(2) == [5, 1012])
        #expect(vector.indices.count == 3 && vector.indices[2] == SparseVector.tokenID("hello") && vector.indices[2] >= 1 << 31)
        #expect(vector.values == [0.5, 0.25, 0.1])
        #expect(SparseVector.parse(Data(flag.utf8), shape: .lexicalWeights, count: 2) == nil)
        #expect(SparseVector.parse(Data(tei.utf8), shape: .lexicalWeights, count: 2) == nil)
    }

    @Test func rerankAnswersInBothShapes() {
        #expect(Reranker.parse(Data(#"[{"index":1,"score":0.9},{"index":0,"score":0.1}]"#.utf8), shape: .tei, count: 2) == [0.1, 0.9])
        #expect(
            Reranker.parse(
                Data(#"{"results":[{"index":0,"relevance_score":0.3},{"index":1,"relevance_score":0.6}]}"#.utf8), shape: .cohere, count: 2)
                == [0.3, 0.6])
        #expect(Reranker.parse(Data(#"[{"index":0,"score":0.1}]"#.utf8), shape: .tei, count: 2) == nil)
    }

    @Test func batchesKeepOrder() async throws {
        #expect(BatchPlan.ranges(count: 10, size: 4) == [0..<4, 4..<8, 8..<10])
        #expect(BatchPlan.ranges(count: 0, size: 4).isEmpty)
        let results = try await BatchPlan.run(BatchPlan.ranges(count: 50, size: 3), parallel: 4) { range in
            try await Task.sleep(for: .milliseconds(range.lowerBound % 7))
            return Array(range)
        }
        #expect(results.flatMap { $0 } == Array(0..<50))
    }

    @Test func idsAreStableAndValidUUIDs() {
        let a = QdrantBodies.documentID(forText: "Same text")
        #expect(a == QdrantBodies.documentID(forText: "Same text"))
        #expect(a != QdrantBodies.documentID(forText: "Other text"))
        #expect(UUID(uuidString: a) != nil)
        #expect(QdrantBodies.pointID(document: "doc", position: 0) != QdrantBodies.pointID(document: "doc", position: 1))
        #expect(UUID(uuidString: QdrantBodies.pointID(document: "7", position: 3)) != nil)
    }

    @Test func pagingGroupsPerDocumentAndRerankOrders() {
        let hits = [
            SearchHits.Hit(document: "a", position: 0, score: 0.9, text: "a0", rerankScore: 0.1),
            SearchHits.Hit(document: "a", position: 1, score: 0.8, text: "a1", rerankScore: 0.7),
            SearchHits.Hit(document: "b", position: 0, score: 0.7, text: "b0", rerankScore: 0.9),
            SearchHits.Hit(document: "c", position: 0, score: 0.6, text: "c0", rerankScore: 0.5),
        ]
        #expect(SearchHits.page(hits, limit: 10, offset: 0, group: true).map(\.text) == ["b0", "a1", "c0"])
        #expect(SearchHits.page(hits, limit: 1, offset: 1, group: true).map(\.text) == ["a1"])
        var plain = hits
        for index in plain.indices { plain[index].rerankScore = nil }
        #expect(SearchHits.page(plain, limit: 10, offset: 0, group: true).map(\.text) == ["a0", "b0", "c0"])
        #expect(SearchHits.page(plain, limit: 2, offset: 1, group: false).map(\.text) == ["a1", "b0"])
        #expect(SearchHits.candidates(limit: 10, offset: 5, group: false, rerankDepth: nil) == 15)
        #expect(SearchHits.candidates(limit: 10, offset: 5, group: true, rerankDepth: 100) == 100)
    }

    @Test func hybridQueryPrefetchesEnoughForThePage() throws {
        let body = QdrantBodies.query(
            mode: .hybrid, dense: [0.5, -0.25], sparse: SparseVector(indices: [3], values: [0.5]), filter: nil, candidates: 40)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let prefetch = try #require(object["prefetch"] as? [[String: Any]])
        #expect(prefetch.map { $0["using"] as? String } == ["sparse", "dense"])
        #expect(prefetch.allSatisfy { ($0["limit"] as? Int) == 40 })
        #expect((object["query"] as? [String: String]) == ["fusion": "rrf"])
        #expect(object["limit"] as? Int == 40)
    }
}
