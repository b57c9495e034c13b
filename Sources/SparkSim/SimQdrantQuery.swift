import Foundation

/// Qdrant's Query API (`POST /collections/{c}/points/query`): a nearest query on a dense or sparse vector, or RRF
/// fusion over prefetches (nested as deep as sent), a filter (the top-level one applies to every prefetch too),
/// `limit`, `offset`, `score_threshold` and `with_payload`. Search is exact.
public struct SimQdrantQuery: Sendable {
    enum Target: Sendable {
        case dense([Float])
        case sparse(SimQdrantStore.SparseVector)
        /// RRF: each source's hit at position p (from 0) adds 1 / (p + k); Qdrant's default k is 2.
        case rrf(k: Double)
    }
    struct Stage: Sendable {
        var prefetch: [Stage]
        var target: Target?
        var using: String
        var filter: SimQdrantFilter?
        var limit: Int
        var scoreThreshold: Float?
    }
    enum PayloadSelection: Sendable {
        case none, all
        case include([String])
    }

    var root: Stage
    var offset: Int
    var payload: PayloadSelection

    public struct Hit: Sendable {
        public var id: SimPointID
        public var score: Float
    }

    public static func parse(_ json: SimJSON) throws -> SimQdrantQuery {
        guard json.object != nil else { throw SimQdrantFilter.formatError("expected a query object") }
        let offset = try count(json["offset"], "offset", default: 0)
        var selection = PayloadSelection.none
        switch json["with_payload"] {
        case .bool(true): selection = .all
        case .array(let keys): selection = .include(keys.compactMap(\.string))
        case .object(let members): selection = members["include"]?.array.map { .include($0.compactMap(\.string)) } ?? .all
        default: break
        }
        return SimQdrantQuery(root: try stage(json, top: true), offset: offset, payload: selection)
    }

    static func count(_ json: SimJSON?, _ name: String, default value: Int) throws -> Int {
        guard let json, json != .null else { return value }
        guard let number = json.number, number >= 0, number.rounded() == number else {
            throw SimQdrantFilter.formatError("invalid value for `\(name)`, expected a non-negative integer")
        }
        return Int(number)
    }

    static func stage(_ json: SimJSON, top: Bool) throws -> Stage {
        var prefetch: [Stage] = []
        switch json["prefetch"] {
        case .array(let items): prefetch = try items.map { try stage($0, top: false) }
        case .object: prefetch = [try stage(json["prefetch"]!, top: false)]
        default: break
        }
        let filter = try json["filter"].flatMap { $0 == .null ? nil : try SimQdrantFilter.parse($0) }
        let threshold = json["score_threshold"]?.number.map(Float.init)
        return Stage(
            prefetch: prefetch, target: try target(json["query"]), using: json["using"]?.string ?? "", filter: filter,
            limit: try count(json["limit"], "limit", default: 10), scoreThreshold: threshold)
    }

    static func target(_ json: SimJSON?) throws -> Target? {
        guard let json, json != .null else { return nil }
        switch json {
        case .array(let items):
            let values = items.compactMap(\.number)
            guard values.count == items.count else { throw SimQdrantFilter.formatError("query vector must hold numbers") }
            return .dense(values.map(Float.init))
        case .object(let members):
            if let nearest = members["nearest"] { return try target(nearest) }
            if let fusion = members["fusion"]?.string {
                guard fusion == "rrf" else {
                    throw SimQdrantError(status: 400, message: "Wrong input: SparkSim implements only `rrf` fusion, not `\(fusion)`")
                }
                return .rrf(k: 2)
            }
            if let rrf = members["rrf"] { return .rrf(k: rrf["k"]?.number ?? 2) }
            if let indices = members["indices"]?.array, let values = members["values"]?.array {
                let i = indices.compactMap(\.number).map(Int.init)
                let v = values.compactMap(\.number).map(Float.init)
                return .sparse(try SimQdrantStore.sparse(indices: i, values: v, at: "query"))
            }
            throw SimQdrantFilter.formatError("data did not match any variant of untagged enum QueryInterface")
        default:
            throw SimQdrantFilter.formatError("data did not match any variant of untagged enum QueryInterface")
        }
    }

    /// The hits after `offset`, at most the top stage's `limit`.
    func run(on collection: SimQdrantStore.Collection) throws -> [Hit] {
        let hits = try run(root, on: collection, inherited: nil, limit: root.limit + offset)
        return Array(hits.dropFirst(offset))
    }

    func run(_ stage: Stage, on collection: SimQdrantStore.Collection, inherited: SimQdrantFilter?, limit: Int) throws -> [Hit] {
        let filters = [inherited, stage.filter].compactMap { $0 }
        let passes = { (point: SimQdrantStore.Point) in filters.allSatisfy { $0.matches(id: point.id, payload: point.payload) } }
        var hits: [Hit]
        if stage.prefetch.isEmpty {
            guard let target = stage.target else {
                // No query: points in id order, as a scroll.
                return Array(
                    collection.points.values.filter(passes).map { Hit(id: $0.id, score: 0) }.sorted { $0.id < $1.id }.prefix(limit))
            }
            if case .rrf = target { throw SimQdrantError.wrongInput("Fusion queries need prefetches to fuse") }
            hits = try score(target, using: stage.using, points: collection.points.values.filter(passes), collection: collection)
        } else {
            let combined = SimQdrantFilter.all(filters)
            let sources = try stage.prefetch.map { try run($0, on: collection, inherited: combined, limit: $0.limit) }
            switch stage.target {
            case .some(.rrf(let k)):
                var fused: [SimPointID: Double] = [:]
                var firstSeen: [SimPointID: Int] = [:]
                for source in sources {
                    for (position, hit) in source.enumerated() {
                        fused[hit.id, default: 0] += 1 / (Double(position) + k)
                        if firstSeen[hit.id] == nil { firstSeen[hit.id] = firstSeen.count }
                    }
                }
                hits = fused.map { Hit(id: $0.key, score: Float($0.value)) }
                hits.sort { $0.score != $1.score ? $0.score > $1.score : firstSeen[$0.id]! < firstSeen[$1.id]! }
            case .some(let target):
                var seen = Set<SimPointID>()
                let candidates = sources.joined().filter { seen.insert($0.id).inserted }.compactMap { collection.points[$0.id] }
                hits = try score(target, using: stage.using, points: candidates, collection: collection)
            case .none:
                var seen = Set<SimPointID>()
                hits = sources.joined().filter { seen.insert($0.id).inserted }
            }
        }
        if let threshold = stage.scoreThreshold { hits = hits.filter { $0.score >= threshold } }
        return Array(hits.prefix(limit))
    }

    func score(_ target: Target, using name: String, points: [SimQdrantStore.Point], collection: SimQdrantStore.Collection) throws -> [Hit]
    {
        let label = name.isEmpty ? "" : name
        switch target {
        case .dense(let query):
            guard let config = collection.dense[name] else {
                throw SimQdrantError.wrongInput("Not existing vector name error: \(label)")
            }
            guard query.count == config.size else {
                throw SimQdrantError.wrongInput("Vector dimension error: expected dim: \(config.size), got \(query.count)")
            }
            let q = config.distance == .cosine ? SimQdrantStore.normalized(query) : query
            var hits: [Hit] = []
            hits.reserveCapacity(points.count)
            for point in points {
                guard let vector = point.dense[name] else { continue }
                var total: Float = 0
                switch config.distance {
                case .cosine, .dot:
                    for i in 0..<q.count { total += q[i] * vector[i] }
                case .euclid:
                    for i in 0..<q.count { total += (q[i] - vector[i]) * (q[i] - vector[i]) }
                    total = total.squareRoot()
                case .manhattan:
                    for i in 0..<q.count { total += abs(q[i] - vector[i]) }
                }
                hits.append(Hit(id: point.id, score: total))
            }
            return Self.ranked(hits, ascending: config.distance.ascending)
        case .sparse(let query):
            guard let idf = collection.sparse[name] else {
                throw SimQdrantError.wrongInput("Not existing vector name error: \(label)")
            }
            var weights = query.values
            if idf {
                let total = Double(collection.sparseCount[name] ?? 0)
                let frequency = collection.documentFrequency[name] ?? [:]
                for (position, index) in query.indices.enumerated() {
                    let n = Double(frequency[index] ?? 0)
                    weights[position] *= Float(log((total - n + 0.5) / (n + 0.5) + 1))
                }
            }
            var hits: [Hit] = []
            for point in points {
                guard let vector = point.sparse[name] else { continue }
                var (i, j, total, overlap) = (0, 0, Float(0), false)
                while i < query.indices.count, j < vector.indices.count {
                    if query.indices[i] == vector.indices[j] {
                        total += weights[i] * vector.values[j]
                        overlap = true
                        i += 1
                        j += 1
                    } else if query.indices[i] < vector.indices[j] {
                        i += 1
                    } else {
                        j += 1
                    }
                }
                // Sparse search returns only points sharing at least one index with the query.
                if overlap { hits.append(Hit(id: point.id, score: total)) }
            }
            return Self.ranked(hits, ascending: false)
        case .rrf:
            throw SimQdrantError.wrongInput("Fusion can only combine prefetches")
        }
    }

    /// Best first; equal scores by id, so the order never depends on hashing.
    static func ranked(_ hits: [Hit], ascending: Bool) -> [Hit] {
        hits.sorted { a, b in
            if a.score != b.score { return ascending ? a.score < b.score : a.score > b.score }
            return a.id < b.id
        }
    }

    /// The answer's `points`.
    func render(_ hits: [Hit], collection: SimQdrantStore.Collection) -> [[String: Any]] {
        hits.map { hit in
            var point: [String: Any] = ["id": hit.id.json, "score": Double(hit.score), "version": collection.points[hit.id]?.version ?? 0]
            let payload = collection.points[hit.id]?.payload ?? [:]
            switch self.payload {
            case .none: break
            case .all: point["payload"] = payload.mapValues(\.any)
            case .include(let keys): point["payload"] = payload.filter { keys.contains($0.key) }.mapValues(\.any)
            }
            return point
        }
    }
}

extension SimQdrantFilter {
    /// One filter that holds where all of `filters` do.
    static func all(_ filters: [SimQdrantFilter]) -> SimQdrantFilter? {
        if filters.isEmpty { return nil }
        if filters.count == 1 { return filters[0] }
        return SimQdrantFilter(must: filters.map { .nested($0) })
    }
}

extension SimQdrantStore {
    /// Runs a Query API body against a collection; the answer's `result`.
    public func query(_ name: String, body: SimJSON) throws -> [String: Any] {
        let query = try SimQdrantQuery.parse(body)
        let collection = try snapshot(name)
        return ["points": query.render(try query.run(on: collection), collection: collection)]
    }

    /// The ranked hits of a Query API body (for tests).
    public func hits(_ name: String, body: SimJSON) throws -> [SimQdrantQuery.Hit] {
        try SimQdrantQuery.parse(body).run(on: try snapshot(name))
    }
}
