import Foundation
import SparkSim
import Testing

/// SparkSim's Qdrant engine on its own: Qdrant's validation errors, exact dense and sparse scoring, idf after
/// deletes, RRF over prefetches and payload filters.
@Suite("SparkSim Qdrant")
struct SimQdrantTests {
    static func json(_ text: String) throws -> SimJSON { try JSONDecoder().decode(SimJSON.self, from: Data(text.utf8)) }

    static func store() throws -> SimQdrantStore {
        let store = SimQdrantStore()
        try store.create(
            "docs",
            body: json(#"{"vectors":{"dense":{"size":3,"distance":"Cosine"}},"sparse_vectors":{"sparse":{"modifier":"idf"}}}"#))
        let points = """
            {"points":[
             {"id":1,"vector":{"dense":[1,0,0],"sparse":{"indices":[10,20],"values":[1,1]}},"payload":{"lang":"en","year":2020,"tags":["a","b"]}},
             {"id":2,"vector":{"dense":[0.9,0.1,0],"sparse":{"indices":[20],"values":[1]}},"payload":{"lang":"de","year":2022,"tags":["b"]}},
             {"id":"6f1c9a3e-8b2d-4c1a-9e0f-2a3b4c5d6e7f","vector":{"dense":[0,1,0],"sparse":{"indices":[30,10],"values":[2,0.5]}},"payload":{"lang":"en","year":2024}},
             {"id":4,"vector":{"dense":[0,0,1],"sparse":{"indices":[20],"values":[0.5]}},"payload":{"lang":"fr","year":2019}}
            ]}
            """
        _ = try store.upsert("docs", body: Data(points.utf8))
        return store
    }

    static func ids(_ store: SimQdrantStore, _ body: String) throws -> [SimPointID] {
        try store.hits("docs", body: json(body)).map(\.id)
    }

    @Test func refusesWhatQdrantRefuses() throws {
        let store = try Self.store()
        func error(_ work: () throws -> Void) -> SimQdrantError? {
            do {
                try work()
                return nil
            } catch let error as SimQdrantError {
                return error
            } catch {
                return nil
            }
        }
        #expect(
            error { _ = try store.upsert("docs", body: Data(#"{"points":[{"id":9,"vector":{"dense":[1,0]}}]}"#.utf8)) }
                == SimQdrantError(status: 400, message: "Wrong input: Vector dimension error: expected dim: 3, got 2"))
        #expect(
            error {
                _ = try store.upsert(
                    "docs", body: Data(#"{"points":[{"id":9,"vector":{"sparse":{"indices":[1,1],"values":[1,2]}}}]}"#.utf8))
            }?.status == 422)
        #expect(
            error { _ = try store.upsert("docs", body: Data(#"{"points":[{"id":"nope","vector":{"dense":[1,0,0]}}]}"#.utf8)) }?.status
                == 400)
        #expect(
            error { _ = try store.upsert("nothing", body: Data(#"{"points":[]}"#.utf8)) }
                == SimQdrantError(status: 404, message: "Not found: Collection `nothing` doesn't exist!"))
        #expect(error { try store.create("docs", body: Self.json(#"{"vectors":{"size":3,"distance":"Cosine"}}"#)) }?.status == 409)
        #expect(error { try store.create("x", body: Self.json(#"{"vectors":{"size":3,"distance":"cosine"}}"#)) }?.status == 400)
        // A refused batch writes nothing: the good point before the bad one is not there either.
        #expect(
            error {
                _ = try store.upsert(
                    "docs", body: Data(#"{"points":[{"id":8,"vector":{"dense":[1,1,1]}},{"id":9,"vector":{"dense":[1]}}]}"#.utf8))
            } != nil)
        #expect(try store.count("docs", body: .object([:])) == 4)
    }

    @Test func denseCosineRanksByAngle() throws {
        let store = try Self.store()
        #expect(
            try Self.ids(store, #"{"query":[1,0.05,0],"using":"dense","limit":3}"#) == [
                .number(1), .number(2), .uuid("6f1c9a3e-8b2d-4c1a-9e0f-2a3b4c5d6e7f"),
            ])
        let hits = try store.hits("docs", body: Self.json(#"{"query":[2,0,0],"using":"dense","limit":1}"#))
        #expect(abs(hits[0].score - 1) < 1e-6)
    }

    @Test func sparseUsesIdfOfThePointsHeldNow() throws {
        let store = try Self.store()
        // Index 20 is in three of four points, 10 in two: the rarer token weighs more.
        let before = try store.hits("docs", body: Self.json(#"{"query":{"indices":[10,20],"values":[1,1]},"using":"sparse","limit":10}"#))
        #expect(before.map(\.id) == [.number(1), .number(2), .uuid("6f1c9a3e-8b2d-4c1a-9e0f-2a3b4c5d6e7f"), .number(4)])
        let idf = { (n: Double, total: Double) in Float(log((total - n + 0.5) / (n + 0.5) + 1)) }
        #expect(abs(before[0].score - (idf(2, 4) + idf(3, 4))) < 1e-5)
        // After a delete the idf counts only the points left (qdrant-client's local mode; edge counts deleted ones).
        _ = try store.delete("docs", body: Self.json(#"{"points":[2,4]}"#))
        let after = try store.hits("docs", body: Self.json(#"{"query":{"indices":[20],"values":[1]},"using":"sparse","limit":10}"#))
        #expect(after.map(\.id) == [.number(1)])
        #expect(abs(after[0].score - idf(1, 2)) < 1e-5)
    }

    @Test func rrfFusesPrefetchesAndFiltersApplyToThem() throws {
        let store = try Self.store()
        let fused = try store.hits(
            "docs",
            body: Self.json(
                #"{"prefetch":[{"query":{"indices":[30],"values":[1]},"using":"sparse","limit":5},{"query":[0,1,0],"using":"dense","limit":5}],"query":{"fusion":"rrf"},"limit":2}"#
            ))
        #expect(fused.first?.id == .uuid("6f1c9a3e-8b2d-4c1a-9e0f-2a3b4c5d6e7f"))
        #expect(abs(fused[0].score - 1) < 1e-6) // first in both: 1/2 + 1/2
        let filtered = try Self.ids(
            store,
            #"{"prefetch":[{"query":[1,0,0],"using":"dense","limit":5}],"query":{"fusion":"rrf"},"filter":{"must":[{"key":"lang","match":{"value":"en"}}]},"limit":5}"#
        )
        #expect(filtered == [.number(1), .uuid("6f1c9a3e-8b2d-4c1a-9e0f-2a3b4c5d6e7f")])
        // limit + offset pages the fused list.
        let page = try Self.ids(
            store,
            #"{"prefetch":[{"query":[1,0,0],"using":"dense","limit":5}],"query":{"fusion":"rrf"},"limit":1,"offset":1}"#)
        #expect(page == [.number(2)])
    }

    @Test(arguments: [
        (#"{"must":[{"key":"year","range":{"gte":2020,"lt":2024}}]}"#, [SimPointID.number(1), .number(2)]),
        (#"{"must":[{"key":"lang","match":{"any":["de","fr"]}}]}"#, [.number(2), .number(4)]),
        (#"{"must_not":[{"key":"lang","match":{"value":"en"}}]}"#, [.number(2), .number(4)]),
        (#"{"should":[{"key":"tags","match":{"value":"a"}},{"key":"year","range":{"lt":2020}}]}"#, [.number(1), .number(4)]),
        (#"{"must":[{"key":"tags","match":{"value":"b"}}],"must_not":[{"has_id":[1]}]}"#, [.number(2)]),
    ])
    func filtersRestrict(filter: String, expected: [SimPointID]) throws {
        let store = try Self.store()
        let ids = try Self.ids(store, #"{"query":[0,0,1],"using":"dense","limit":10,"filter":\#(filter)}"#)
        #expect(Set(ids) == Set(expected))
        #expect(try store.count("docs", body: Self.json(#"{"filter":\#(filter)}"#)) == expected.count)
    }

    @Test func deleteByFilterAndReupsertKeepCountsRight() throws {
        let store = try Self.store()
        _ = try store.delete("docs", body: Self.json(#"{"filter":{"must":[{"key":"lang","match":{"value":"en"}}]}}"#))
        #expect(try store.count("docs", body: .object([:])) == 2)
        _ = try store.upsert("docs", body: Data(#"{"points":[{"id":2,"vector":{"dense":[1,1,1]},"payload":{"lang":"it"}}]}"#.utf8))
        #expect(try store.count("docs", body: .object([:])) == 2)
        #expect(try store.count("docs", body: Self.json(#"{"filter":{"must":[{"key":"lang","match":{"value":"it"}}]}}"#)) == 1)
    }
}
