import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SparkSim
import Testing

@testable import SparkDeck

/// `/v1/embeddings`, `/v1/embeddings/sparse`, `/v1/rerank` and `/v1/search/...` against SparkSim's embedder (with a
/// small batch limit, so splitting is exercised) and Qdrant, served in this process.
@Suite("Embeddings and search gateway")
struct SearchGatewayTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    static func withGateway(
        sim: SimEmbeddings.Settings = .init(maxBatch: 4), api: ServiceAPI = ServiceAPI(), store: SimQdrantStore = SimQdrantStore(),
        faults: SimQdrantFaults = SimQdrantFaults(), _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let options = SimOptions(port: 0, loadSeconds: 0)
        let embedder = Application(
            router: SimEmbeddings.router(options, settings: sim), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await embedder.test(.live) { embeddings in
            let qdrant = Application(
                router: SimQdrant.router(options, store: store, faults: faults),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await qdrant.test(.live) { qdrantClient in
                var inventory = TestSupport.inventory(services: [
                    ("embeddings", .embeddings, try #require(embeddings.port)), ("qdrant", .qdrant, try #require(qdrantClient.port)),
                ])
                var api = api
                api.maxBatch = sim.maxBatch
                inventory.services[0].api = api
                let dependencies = try AppDependencies(
                    configuration: ServerConfiguration(dataDirectory: try TestSupport.temporaryDirectory(), inventory: inventory),
                    logger: TestSupport.logger)
                TestSupport.keepAlive(dependencies)
                let now = Timestamp.now()
                for id in ["embeddings", "qdrant"] {
                    await dependencies.board.record(
                        .init(kind: .service, id: id), Observation(verdict: .ready, latencyMs: 1, sentAt: now, finishedAt: now))
                }
                try await Application(router: buildRouter(dependencies)).test(.router) { client in try await body(client) }
            }
        }
    }

    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any])
    }

    static func post(
        _ client: some TestClientProtocol, _ uri: String, _ body: Any, method: HTTPRequest.Method = .post
    ) async throws -> (status: HTTPResponse.Status, body: [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await client.execute(uri: uri, method: method, headers: json, body: ByteBuffer(bytes: data)) { response in
            (response.status, try object(response.body))
        }
    }

    @Test func denseEmbeddingsAreSplitRejoinedAndEncodedBothWays() async throws {
        let texts = (0..<10).map { "text number \($0) about invoices" }
        try await Self.withGateway { client in
            let floats = try await Self.post(client, "/v1/embeddings", ["input": texts, "model": "bge-m3"])
            #expect(floats.status == .ok)
            let data = try #require(floats.body["data"] as? [[String: Any]])
            #expect(data.map { $0["index"] as? Int } == Array(0..<10))
            for (item, text) in zip(data, texts) {
                let vector = try #require(item["embedding"] as? [Double]).map(Float.init)
                #expect(vector == SimTextFeatures.dense(text))
            }
            let encoded = try await Self.post(client, "/v1/embeddings", ["input": texts, "encoding_format": "base64"])
            let first = try #require((encoded.body["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: first))
            let decoded = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(decoded == SimTextFeatures.dense(texts[0]))
            let usage = try #require(floats.body["usage"] as? [String: Any])
            #expect((usage["prompt_tokens"] as? Int ?? 0) > 0)
        }
    }

    @Test func theModelListNamesTheEmbeddingModelWhileItsServiceServes() async throws {
        var api = ServiceAPI()
        api.model = "BAAI/bge-m3"
        try await Self.withGateway(api: api) { client in
            try await client.execute(uri: "/v1/models", method: .get) { response in
                let data = try Self.object(response.body)["data"] as? [[String: Any]] ?? []
                #expect(data.map { $0["id"] as? String } == ["BAAI/bge-m3"], "\(data)")
                #expect(data.first?["kind"] as? String == "embeddings")
            }
        }
    }

    @Test func anUpstreamRefusalIsPassedOnReadably() async throws {
        try await Self.withGateway { client in
            let answer = try await Self.post(client, "/v1/embeddings", ["input": ["a"], "dimensions": 256])
            #expect(answer.status == .badRequest)
            let message = try #require((answer.body["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("matryoshka"))
            let tokens = try await Self.post(client, "/v1/embeddings", ["input": [[1, 2, 3]]])
            #expect(tokens.status == .badRequest)
            #expect(((tokens.body["error"] as? [String: Any])?["param"] as? String) == "input")
        }
    }

    @Test(arguments: [SimEmbeddings.Settings.SparseFormat.tei, .lexicalWeights])
    func sparseVectorsComeSortedAndUnique(format: SimEmbeddings.Settings.SparseFormat) async throws {
        var api = ServiceAPI()
        api.sparse = format == .tei ? .tei : .lexicalWeights
        let texts = (0..<6).map { "zebra apple zebra mango number \($0) apple" }
        try await Self.withGateway(sim: .init(maxBatch: 4, sparseFormat: format), api: api) { client in
            let answer = try await Self.post(client, "/v1/embeddings/sparse", ["input": texts])
            #expect(answer.status == .ok)
            let data = try #require(answer.body["data"] as? [[String: Any]])
            #expect(data.count == 6)
            for (item, text) in zip(data, texts) {
                let indices = try #require(item["indices"] as? [Int])
                #expect(indices == indices.sorted() && Set(indices).count == indices.count)
                #expect(Set(indices) == Set(SimTextFeatures.sparse(text).map(\.index)))
                #expect((item["values"] as? [Double])?.count == indices.count)
            }
        }
    }

    @Test(arguments: [ServiceAPI.RerankShape.tei, .cohere])
    func rerankAnswersInCohereShapeWhateverTheUpstreamSpeaks(shape: ServiceAPI.RerankShape) async throws {
        var api = ServiceAPI()
        api.rerank = shape
        try await Self.withGateway(api: api) { client in
            let documents: [Any] = [
                "The weather was sunny.", ["text": "Your invoice payment is overdue."], "Invoices are sent monthly.", "Cats sleep a lot.",
                "Payment of the invoice is overdue by ten days.", "Nothing here.",
            ]
            let answer = try await Self.post(
                client, "/v1/rerank", ["query": "overdue invoice payment", "documents": documents, "top_n": 2, "return_documents": true])
            #expect(answer.status == .ok)
            let results = try #require(answer.body["results"] as? [[String: Any]])
            #expect(results.count == 2)
            #expect(Set(results.compactMap { $0["index"] as? Int }) == [1, 4])
            let scores = results.compactMap { $0["relevance_score"] as? Double }
            #expect(scores == scores.sorted(by: >))
            #expect(((results[0]["document"] as? [String: Any])?["text"] as? String)?.contains("overdue") == true)
        }
    }

    static func documents(_ count: Int) -> [[String: Any]] {
        (0..<count).map { n in
            [
                "id": "doc-\(n)",
                "text": "Record \(n) mentions keyword kw\(n)x and the usual words about customers and orders.",
                "metadata": ["group": n % 3, "year": 2000 + n % 20],
            ]
        }
    }

    @Test func searchFlowIndexesQueriesFiltersAndStaysIdempotent() async throws {
        try await Self.withGateway { client in
            let created = try await Self.post(client, "/v1/search/collections/crm", [String: Any](), method: .put)
            #expect(created.status == .created)
            #expect(created.body["dense_size"] as? Int == 1024)
            let again = try await Self.post(client, "/v1/search/collections/crm", [String: Any](), method: .put)
            #expect(again.status == .conflict)

            let indexed = try await Self.post(client, "/v1/search/collections/crm/documents", ["documents": Self.documents(300)])
            #expect(indexed.status == .ok)
            #expect(indexed.body["indexed"] as? Int == 300)

            for mode in ["sparse", "hybrid"] {
                let found = try await Self.post(client, "/v1/search/collections/crm/query", ["query": "kw123x", "mode": mode, "limit": 3])
                let results = try #require(found.body["results"] as? [[String: Any]])
                #expect(results.first?["id"] as? String == "doc-123", "mode \(mode)")
            }
            let filtered = try await Self.post(
                client, "/v1/search/collections/crm/query",
                ["query": "customers orders", "limit": 20, "filter": ["group": 1, "year": ["gte": 2010]]])
            let hits = try #require(filtered.body["results"] as? [[String: Any]])
            #expect(hits.count == 20)
            for hit in hits {
                let metadata = try #require(hit["metadata"] as? [String: Any])
                #expect(metadata["group"] as? Int == 1)
                #expect((metadata["year"] as? Int ?? 0) >= 2010)
            }

            // Indexing the same documents again replaces them.
            _ = try await Self.post(client, "/v1/search/collections/crm/documents", ["documents": Self.documents(300)])
            let list = try await client.execute(uri: "/v1/search/collections", method: .get) { try Self.object($0.body) }
            let crm = try #require((list["collections"] as? [[String: Any]])?.first { $0["name"] as? String == "crm" })
            #expect(crm["points"] as? Int == 300)

            let reranked = try await Self.post(
                client, "/v1/search/collections/crm/query", ["query": "kw7x customers", "rerank": true, "limit": 5])
            let top = try #require(reranked.body["results"] as? [[String: Any]])
            #expect(top.first?["id"] as? String == "doc-7")
            let rerankScores = top.compactMap { $0["rerank_score"] as? Double }
            #expect(rerankScores.count == top.count && rerankScores == rerankScores.sorted(by: >))
            #expect(top.allSatisfy { $0["score"] is Double })

            let deleted = try await Self.post(client, "/v1/search/collections/crm/documents", ["ids": ["doc-123"]], method: .delete)
            #expect(deleted.body["deleted_passages"] as? Int == 1)
            let gone = try await Self.post(client, "/v1/search/collections/crm/query", ["query": "kw123x", "mode": "sparse"])
            #expect((gone.body["results"] as? [[String: Any]])?.contains { $0["id"] as? String == "doc-123" } == false)
        }
    }

    @Test func aLongDocumentIsFoundByASentenceFromItsMiddle() async throws {
        let filler = (1...60).map { "Paragraph sentence \($0) repeats ordinary words about the quarterly meeting." }
        let sentences = filler[..<30] + ["The lighthouse keeper counted seventeen albatrosses at dawn."] + filler[30...]
        try await Self.withGateway { client in
            _ = try await Self.post(client, "/v1/search/collections/notes", [String: Any](), method: .put)
            let indexed = try await Self.post(
                client, "/v1/search/collections/notes/documents",
                ["documents": [["text": sentences.joined(separator: " ")]] + Self.documents(50)])
            #expect((indexed.body["passages"] as? Int ?? 0) > 51)
            let longID = try #require((indexed.body["ids"] as? [String])?.first)
            let found = try await Self.post(
                client, "/v1/search/collections/notes/query", ["query": "lighthouse keeper albatrosses", "limit": 3])
            let first = try #require((found.body["results"] as? [[String: Any]])?.first)
            #expect(first["id"] as? String == longID)
            #expect((first["passage"] as? Int ?? 0) > 0)
            #expect((first["text"] as? String)?.contains("seventeen albatrosses") == true)
            // The same text again gets the same id: no second copy.
            let again = try await Self.post(
                client, "/v1/search/collections/notes/documents", ["documents": [["text": sentences.joined(separator: " ")]]])
            #expect((again.body["ids"] as? [String])?.first == longID)
            let list = try await client.execute(uri: "/v1/search/collections", method: .get) { try Self.object($0.body) }
            let notes = try #require((list["collections"] as? [[String: Any]])?.first)
            #expect(notes["points"] as? Int == indexed.body["passages"] as? Int)
        }
    }

    @Test func unknownCollectionAndDimensionMismatchAreExplained() async throws {
        let store = SimQdrantStore()
        try store.create(
            "old",
            body: try JSONDecoder().decode(
                SimJSON.self,
                from: Data(#"{"vectors":{"dense":{"size":384,"distance":"Cosine"}},"sparse_vectors":{"sparse":{"modifier":"idf"}}}"#.utf8)))
        try await Self.withGateway(store: store) { client in
            let missing = try await Self.post(client, "/v1/search/collections/nothing/query", ["query": "x"])
            #expect(missing.status == .notFound)
            let error = try #require(missing.body["error"] as? [String: Any])
            #expect(error["code"] as? String == "collection_not_found")
            #expect((error["message"] as? String)?.contains("PUT /v1/search/collections/nothing") == true)

            let mismatch = try await Self.post(client, "/v1/search/collections/old/documents", ["documents": [["text": "hello"]]])
            #expect(mismatch.status == .badRequest)
            let explained = try #require(mismatch.body["error"] as? [String: Any])
            #expect(explained["code"] as? String == "dimension_mismatch")
            #expect((explained["message"] as? String)?.contains("384-d") == true)
            #expect((explained["message"] as? String)?.contains("1024-d") == true)
        }
    }

    @Test func denseSizeIsReadFromTheEmbedder() async throws {
        try await Self.withGateway(sim: .init(dimensions: 384, maxBatch: 8)) { client in
            let created = try await Self.post(client, "/v1/search/collections/small", [String: Any](), method: .put)
            #expect(created.body["dense_size"] as? Int == 384)
            _ = try await Self.post(client, "/v1/search/collections/small/documents", ["documents": Self.documents(20)])
            let found = try await Self.post(client, "/v1/search/collections/small/query", ["query": "kw5x", "mode": "dense", "limit": 1])
            #expect((found.body["results"] as? [[String: Any]])?.first?["id"] as? String == "doc-5")
        }
    }

    @Test func qdrantFailingMidUpsertNamesTheDocumentsAndARetryLeavesNoDuplicates() async throws {
        let faults = SimQdrantFaults()
        let store = SimQdrantStore()
        try await Self.withGateway(store: store, faults: faults) { client in
            _ = try await Self.post(client, "/v1/search/collections/flaky", [String: Any](), method: .put)
            // 200 one-passage documents go in batches of 64, in parallel: the one holding doc-64..doc-127 fails.
            faults.failUpserts(containing: "\"doc-64\"")
            let failed = try await Self.post(client, "/v1/search/collections/flaky/documents", ["documents": Self.documents(200)])
            #expect(failed.status == .badRequest || failed.status == .badGateway)
            let error = try #require(failed.body["error"] as? [String: Any])
            #expect(error["code"] as? String == "partially_indexed")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("64 of 200 documents were not indexed"), "\(message)")
            #expect(message.contains("`doc-64`") && !message.contains("`doc-0`"))
            #expect(message.contains("503"))
            #expect(try store.count("flaky", body: .object([:])) == 136)

            let retried = try await Self.post(client, "/v1/search/collections/flaky/documents", ["documents": Self.documents(200)])
            #expect(retried.status == .ok)
            #expect(try store.count("flaky", body: .object([:])) == 200)
        }
    }
}
