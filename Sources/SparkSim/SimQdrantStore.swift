import Foundation
import Synchronization

/// A Qdrant error as the REST API answers it: `{"status":{"error": message}, "time": ...}` with its status code.
public struct SimQdrantError: Error, Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(status: Int, message: String) {
        self.status = status
        self.message = message
    }

    static func notFound(_ collection: String) -> SimQdrantError {
        SimQdrantError(status: 404, message: "Not found: Collection `\(collection)` doesn't exist!")
    }
    static func wrongInput(_ detail: String) -> SimQdrantError {
        SimQdrantError(status: 400, message: "Wrong input: \(detail)")
    }
    static func validation(_ detail: String) -> SimQdrantError {
        SimQdrantError(status: 422, message: "Validation error in JSON body: [\(detail)]")
    }
}

/// A point id: an unsigned integer or a UUID (kept in its lower-case hyphenated form, as Qdrant returns it).
public enum SimPointID: Hashable, Sendable, Comparable {
    case number(UInt64)
    case uuid(String)

    init(json: SimJSON) throws {
        switch json {
        case .number(let value) where value >= 0 && value.rounded() == value && value < 1.8e19:
            self = .number(UInt64(value))
        case .string(let text):
            guard let uuid = UUID(uuidString: text) else { throw Self.invalid(text) }
            self = .uuid(uuid.uuidString.lowercased())
        default:
            throw Self.invalid("\(json.any)")
        }
    }

    static func invalid(_ text: String) -> SimQdrantError {
        SimQdrantError(
            status: 400,
            message:
                "Format error in JSON body: value \(text) is not a valid point ID, valid values are either an unsigned integer or a UUID")
    }

    var json: Any {
        switch self {
        case .number(let value): value
        case .uuid(let text): text
        }
    }
}

/// Qdrant's collections and points in memory: named dense vectors (Cosine, Dot, Euclid, Manhattan) and sparse
/// vectors (dot product, optionally weighted by idf), exact search, the Query API's prefetch and RRF fusion, and
/// payload filters. Sparse idf counts the points held now: deleted points stop counting at once, as in
/// `qdrant-client`'s local mode (Qdrant's server and `qdrant-edge` keep counting them until segments are optimised).
public final class SimQdrantStore: Sendable {
    public enum Distance: String, Sendable, CaseIterable {
        case cosine = "Cosine"
        case dot = "Dot"
        case euclid = "Euclid"
        case manhattan = "Manhattan"
        /// Euclid and Manhattan are distances: smaller is nearer.
        var ascending: Bool { self == .euclid || self == .manhattan }
    }
    struct DenseConfig: Sendable {
        var size: Int
        var distance: Distance
    }
    struct SparseVector: Sendable {
        /// Sorted, unique.
        var indices: [UInt32]
        var values: [Float]
    }
    struct Point: Sendable {
        var id: SimPointID
        var dense: [String: [Float]]
        var sparse: [String: SparseVector]
        var payload: [String: SimJSON]
        var version: Int
    }
    struct Collection: Sendable {
        /// The unnamed vector is the name "" (created with `"vectors": {"size": ...}`).
        var dense: [String: DenseConfig]
        var unnamedDense: Bool
        var sparse: [String: Bool]
        var points: [SimPointID: Point] = [:]
        /// Points per sparse vector name and index, for idf.
        var documentFrequency: [String: [UInt32: Int]] = [:]
        var sparseCount: [String: Int] = [:]

        mutating func remove(_ id: SimPointID) {
            guard let old = points.removeValue(forKey: id) else { return }
            for (name, vector) in old.sparse {
                sparseCount[name, default: 0] -= 1
                for index in vector.indices { documentFrequency[name, default: [:]][index, default: 0] -= 1 }
            }
        }

        mutating func insert(_ point: Point) {
            remove(point.id)
            points[point.id] = point
            for (name, vector) in point.sparse {
                sparseCount[name, default: 0] += 1
                for index in vector.indices { documentFrequency[name, default: [:]][index, default: 0] += 1 }
            }
        }
    }

    private let collections = Mutex<[String: Collection]>([:])
    private let operations = Atomic<Int>(0)

    public init() {}

    // MARK: collections

    public func names() -> [String] { collections.withLock { $0.keys.sorted() } }

    public func create(_ name: String, body: SimJSON) throws {
        var dense: [String: DenseConfig] = [:]
        var unnamed = false
        func config(_ json: SimJSON, at path: String) throws -> DenseConfig {
            guard let size = json["size"]?.number, size.rounded() == size else {
                throw SimQdrantError(status: 400, message: "Format error in JSON body: missing field `size` at `\(path)`")
            }
            guard size >= 1, size <= 65_536 else {
                throw SimQdrantError.validation("\(path).size: value \(Int(size)) invalid, must be from 1 to 65536")
            }
            let text = json["distance"]?.string ?? ""
            guard let distance = Distance(rawValue: text) else {
                throw SimQdrantError(
                    status: 400,
                    message:
                        "Format error in JSON body: unknown variant `\(text)`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan` at `\(path).distance`"
                )
            }
            return DenseConfig(size: Int(size), distance: distance)
        }
        if let vectors = body["vectors"] {
            if vectors["size"] != nil {
                dense[""] = try config(vectors, at: "vectors")
                unnamed = true
            } else if let named = vectors.object {
                for (key, value) in named { dense[key] = try config(value, at: "vectors.\(key)") }
            }
        }
        var sparse: [String: Bool] = [:]
        if let named = body["sparse_vectors"]?.object {
            for (key, value) in named {
                let modifier = value["modifier"]?.string ?? "none"
                guard modifier == "idf" || modifier == "none" else {
                    throw SimQdrantError(
                        status: 400,
                        message:
                            "Format error in JSON body: unknown variant `\(modifier)`, expected `none` or `idf` at `sparse_vectors.\(key).modifier`"
                    )
                }
                sparse[key] = modifier == "idf"
            }
        }
        try collections.withLock { collections in
            guard collections[name] == nil else {
                throw SimQdrantError(status: 409, message: "Wrong input: Collection `\(name)` already exists!")
            }
            collections[name] = Collection(dense: dense, unnamedDense: unnamed, sparse: sparse)
        }
    }

    public func drop(_ name: String) -> Bool {
        collections.withLock { $0.removeValue(forKey: name) != nil }
    }

    /// `GET /collections/{name}`'s `result`.
    public func info(_ name: String) throws -> [String: Any] {
        let collection = try collections.withLock { collections in
            guard let collection = collections[name] else { throw SimQdrantError.notFound(name) }
            return collection
        }
        func describe(_ config: DenseConfig) -> [String: Any] { ["size": config.size, "distance": config.distance.rawValue] }
        let vectors: Any =
            collection.unnamedDense
            ? describe(collection.dense[""]!)
            : collection.dense.mapValues(describe)
        return [
            "status": "green", "optimizer_status": "ok", "points_count": collection.points.count,
            "indexed_vectors_count": 0, "segments_count": 1,
            "config": [
                "params": [
                    "vectors": vectors,
                    "sparse_vectors": collection.sparse.mapValues { $0 ? ["modifier": "idf"] : [:] },
                    "shard_number": 1, "replication_factor": 1, "on_disk_payload": true,
                ]
            ],
            "payload_schema": [String: Any](),
        ]
    }

    // MARK: points

    struct UpsertBody: Decodable {
        var points: [PointBody]
    }
    struct PointBody: Decodable {
        var id: SimJSON
        var vector: VectorsBody?
        var payload: [String: SimJSON]?
    }
    enum VectorsBody: Decodable {
        case unnamed([Float])
        case named([String: NamedVector])
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let values = try? container.decode([Float].self) {
                self = .unnamed(values)
            } else {
                self = .named(try container.decode([String: NamedVector].self))
            }
        }
    }
    enum NamedVector: Decodable {
        case dense([Float])
        case sparse(indices: [Int], values: [Float])
        private enum Keys: String, CodingKey { case indices, values }
        init(from decoder: any Decoder) throws {
            if let values = try? decoder.singleValueContainer().decode([Float].self) {
                self = .dense(values)
                return
            }
            let container = try decoder.container(keyedBy: Keys.self)
            self = .sparse(
                indices: try container.decode([Int].self, forKey: .indices), values: try container.decode([Float].self, forKey: .values))
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw SimQdrantError(status: 400, message: "Format error in JSON body: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "expected value" }
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field `\(key.stringValue)` at `\(path(context.codingPath))`"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "data did not match the expected type at `\(path(context.codingPath))`"
        @unknown default: return "expected value"
        }
    }

    /// Validates every point first, then writes them all (a refused batch writes nothing, as Qdrant's do).
    public func upsert(_ name: String, body: Data) throws -> Int {
        let batch = try Self.decode(UpsertBody.self, body)
        return try collections.withLock { collections in
            guard var collection = collections[name] else { throw SimQdrantError.notFound(name) }
            let version = operations.add(1, ordering: .relaxed).newValue
            var points: [Point] = []
            for (position, body) in batch.points.enumerated() {
                let id = try SimPointID(json: body.id)
                var point = Point(id: id, dense: [:], sparse: [:], payload: body.payload ?? [:], version: version)
                var named: [String: NamedVector] = [:]
                switch body.vector {
                case .none: break
                case .unnamed(let values): named[""] = .dense(values)
                case .named(let vectors): named = vectors
                }
                for (vectorName, vector) in named {
                    switch vector {
                    case .dense(let values):
                        guard let config = collection.dense[vectorName] else {
                            throw SimQdrantError.wrongInput("Not existing vector name error: \(vectorName)")
                        }
                        guard values.count == config.size else {
                            throw SimQdrantError.wrongInput("Vector dimension error: expected dim: \(config.size), got \(values.count)")
                        }
                        point.dense[vectorName] = config.distance == .cosine ? Self.normalized(values) : values
                    case .sparse(let indices, let values):
                        guard collection.sparse[vectorName] != nil else {
                            throw SimQdrantError.wrongInput("Not existing vector name error: \(vectorName)")
                        }
                        point.sparse[vectorName] = try Self.sparse(
                            indices: indices, values: values, at: "points[\(position)].vector.\(vectorName)")
                    }
                }
                points.append(point)
            }
            for point in points { collection.insert(point) }
            collections[name] = collection
            return version
        }
    }

    static func sparse(indices: [Int], values: [Float], at path: String) throws -> SparseVector {
        guard indices.count == values.count else {
            throw SimQdrantError.validation("\(path): must be the same length as indices")
        }
        guard Set(indices).count == indices.count else { throw SimQdrantError.validation("\(path).indices: must be unique") }
        guard indices.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }) else {
            throw SimQdrantError(
                status: 400, message: "Format error in JSON body: invalid value: integer, expected u32 at `\(path).indices`")
        }
        let order = indices.indices.sorted { indices[$0] < indices[$1] }
        return SparseVector(indices: order.map { UInt32(indices[$0]) }, values: order.map { values[$0] })
    }

    static func normalized(_ values: [Float]) -> [Float] {
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? values.map { $0 / norm } : values
    }

    /// `points/delete` by ids or by filter.
    public func delete(_ name: String, body: SimJSON) throws -> Int {
        let ids = try body["points"]?.array.map { try $0.map(SimPointID.init(json:)) }
        let filter = try body["filter"].map(SimQdrantFilter.parse)
        guard ids != nil || filter != nil else {
            throw SimQdrantError(
                status: 400, message: "Format error in JSON body: data did not match any variant of untagged enum PointsSelector")
        }
        return try collections.withLock { collections in
            guard var collection = collections[name] else { throw SimQdrantError.notFound(name) }
            let doomed = ids ?? collection.points.values.filter { filter!.matches(id: $0.id, payload: $0.payload) }.map(\.id)
            for id in doomed { collection.remove(id) }
            collections[name] = collection
            return operations.add(1, ordering: .relaxed).newValue
        }
    }

    public func count(_ name: String, body: SimJSON) throws -> Int {
        let filter = try body["filter"].flatMap { $0 == .null ? nil : try SimQdrantFilter.parse($0) }
        return try collections.withLock { collections in
            guard let collection = collections[name] else { throw SimQdrantError.notFound(name) }
            guard let filter else { return collection.points.count }
            return collection.points.values.filter { filter.matches(id: $0.id, payload: $0.payload) }.count
        }
    }

    func snapshot(_ name: String) throws -> Collection {
        try collections.withLock { collections in
            guard let collection = collections[name] else { throw SimQdrantError.notFound(name) }
            return collection
        }
    }
}
