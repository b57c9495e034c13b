import Foundation

/// Qdrant's payload filter: `must` (all), `should` (at least one, when given), `must_not` (none), with field
/// conditions `match` (`value`, `any`, `except`), `range` (`gt`, `gte`, `lt`, `lte`), `has_id`, `is_empty`,
/// `is_null` and nested filters. A key names a nested field with dots (`meta.lang`); a condition on an array field
/// holds when one of its elements does, as in Qdrant.
public struct SimQdrantFilter: Sendable {
    indirect enum Condition: Sendable {
        case matchValue(key: String, value: SimJSON)
        case matchAny(key: String, values: [SimJSON])
        case matchExcept(key: String, values: [SimJSON])
        case range(key: String, gt: Double?, gte: Double?, lt: Double?, lte: Double?)
        case hasID([SimPointID])
        case isEmpty(key: String)
        case isNull(key: String)
        case nested(SimQdrantFilter)
    }

    var must: [Condition] = []
    var should: [Condition] = []
    var mustNot: [Condition] = []

    static func formatError(_ detail: String) -> SimQdrantError {
        SimQdrantError(status: 400, message: "Format error in JSON body: \(detail)")
    }

    /// Parses a filter object; a shape Qdrant would not accept is a 400 with its "Format error" wording.
    public static func parse(_ json: SimJSON) throws -> SimQdrantFilter {
        guard let members = json.object else { throw formatError("invalid type: expected a filter object") }
        var filter = SimQdrantFilter()
        for (key, value) in members {
            let conditions: [SimJSON]
            switch value {
            case .array(let items): conditions = items
            case .null: conditions = []
            default: conditions = [value]
            }
            let parsed = try conditions.map(condition)
            switch key {
            case "must": filter.must = parsed
            case "should": filter.should = parsed
            case "must_not": filter.mustNot = parsed
            default: throw formatError("unknown field `\(key)`, expected one of `should`, `min_should`, `must`, `must_not`")
            }
        }
        return filter
    }

    static func condition(_ json: SimJSON) throws -> Condition {
        guard let members = json.object else {
            throw formatError("data did not match any variant of untagged enum Condition")
        }
        if let ids = members["has_id"] {
            guard let items = ids.array else { throw formatError("has_id must be a list of point ids") }
            return .hasID(try items.map(SimPointID.init(json:)))
        }
        if let key = members["is_empty"]?["key"]?.string { return .isEmpty(key: key) }
        if let key = members["is_null"]?["key"]?.string { return .isNull(key: key) }
        if members["must"] != nil || members["should"] != nil || members["must_not"] != nil {
            return .nested(try parse(json))
        }
        guard let key = members["key"]?.string else {
            throw formatError("data did not match any variant of untagged enum Condition")
        }
        if let match = members["match"]?.object {
            if let value = match["value"] {
                guard value.isScalarKeyword else {
                    throw formatError("data did not match any variant of untagged enum MatchInterface at `\(key)`")
                }
                return .matchValue(key: key, value: value)
            }
            if let values = match["any"]?.array { return .matchAny(key: key, values: values) }
            if let values = match["except"]?.array { return .matchExcept(key: key, values: values) }
            throw formatError("data did not match any variant of untagged enum MatchInterface at `\(key)`")
        }
        if let range = members["range"]?.object {
            let bounds = ["gt", "gte", "lt", "lte"].map { range[$0]?.number }
            for (name, value) in range where !["gt", "gte", "lt", "lte"].contains(name) || value.number == nil {
                if value != .null { throw formatError("range `\(name)` at `\(key)`: expected a number for one of gt, gte, lt, lte") }
            }
            return .range(key: key, gt: bounds[0], gte: bounds[1], lt: bounds[2], lte: bounds[3])
        }
        throw formatError("data did not match any variant of untagged enum Condition")
    }

    /// Whether a point passes.
    func matches(id: SimPointID, payload: [String: SimJSON]) -> Bool {
        if !must.allSatisfy({ Self.holds($0, id: id, payload: payload) }) { return false }
        if !should.isEmpty, !should.contains(where: { Self.holds($0, id: id, payload: payload) }) { return false }
        return !mustNot.contains { Self.holds($0, id: id, payload: payload) }
    }

    static func values(at key: String, in payload: [String: SimJSON]) -> [SimJSON] {
        if !key.contains("."), !key.hasSuffix("[]") {
            guard let value = payload[key] else { return [] }
            if case .array(let items) = value { return items }
            return [value]
        }
        var current: [SimJSON] = [.object(payload)]
        for part in key.split(separator: ".") {
            let name = part.hasSuffix("[]") ? String(part.dropLast(2)) : String(part)
            current = current.flatMap { value -> [SimJSON] in
                guard let next = value[name] else { return [] }
                if case .array(let items) = next { return items }
                return [next]
            }
        }
        return current.flatMap { value -> [SimJSON] in
            if case .array(let items) = value { return items }
            return [value]
        }
    }

    static func holds(_ condition: Condition, id: SimPointID, payload: [String: SimJSON]) -> Bool {
        switch condition {
        case .matchValue(let key, let value):
            return values(at: key, in: payload).contains(value)
        case .matchAny(let key, let options):
            return values(at: key, in: payload).contains { options.contains($0) }
        case .matchExcept(let key, let options):
            let found = values(at: key, in: payload)
            return !found.isEmpty && found.contains { !options.contains($0) }
        case .range(let key, let gt, let gte, let lt, let lte):
            return values(at: key, in: payload).contains { value in
                guard let number = value.number else { return false }
                if let gt, !(number > gt) { return false }
                if let gte, !(number >= gte) { return false }
                if let lt, !(number < lt) { return false }
                if let lte, !(number <= lte) { return false }
                return true
            }
        case .hasID(let ids):
            return ids.contains(id)
        case .isEmpty(let key):
            return values(at: key, in: payload).allSatisfy { $0 == .null }
        case .isNull(let key):
            return values(at: key, in: payload) == [.null]
        case .nested(let filter):
            return filter.matches(id: id, payload: payload)
        }
    }
}

extension SimJSON {
    /// Values `match.value` accepts: keywords, integers and booleans.
    var isScalarKeyword: Bool {
        switch self {
        case .string, .bool: true
        case .number(let value): value.rounded() == value
        default: false
        }
    }
}
