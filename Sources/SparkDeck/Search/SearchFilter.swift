/// The search API's metadata filter, translated to Qdrant's: `{"field": value}` is equality, `{"field": {"any":
/// [...]}}` any-of, `{"field": {"gte": 1, "lt": 5}}` a range, `{"field": {"not": value}}` and `{"field": {"none":
/// [...]}}` exclusions. Every field must hold (Qdrant `must`); fields name keys of the document's `metadata`
/// (dots reach into nested objects). Pure: refusals are 400s naming the field.
enum SearchFilter {
    static let operators: Set<String> = ["any", "none", "not", "gt", "gte", "lt", "lte"]

    static func qdrant(_ filter: [String: JSONValue]) throws -> JSONValue? {
        var must: [JSONValue] = []
        var mustNot: [JSONValue] = []
        for (field, condition) in filter.sorted(by: { $0.key < $1.key }) {
            let param = "filter.\(field)"
            guard !field.isEmpty, field.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
                throw APIError.invalidRequest(
                    "`\(param)`: field names are letters, digits, `_`, `-` and `.` (for nested fields).", param: param)
            }
            let key = JSONValue.string("metadata.\(field)")
            switch condition {
            case .string, .bool:
                must.append(.object(["key": key, "match": .object(["value": condition])]))
            case .number(let value):
                // Qdrant matches whole numbers exactly; a fraction is compared as a one-point range.
                if value.rounded() == value {
                    must.append(.object(["key": key, "match": .object(["value": condition])]))
                } else {
                    must.append(.object(["key": key, "range": .object(["gte": condition, "lte": condition])]))
                }
            case .object(let members):
                let unknown = Set(members.keys).subtracting(operators)
                guard unknown.isEmpty, !members.isEmpty else {
                    throw APIError.invalidRequest(
                        "`\(param)` has \(unknown.isEmpty ? "no operator" : "`\(unknown.sorted().joined(separator: "`, `"))`"); use a value for equality or one of any, none, not, gt, gte, lt, lte.",
                        param: param)
                }
                var range: [String: JSONValue] = [:]
                for (name, operand) in members {
                    switch name {
                    case "any", "none":
                        guard case .array(let items) = operand, !items.isEmpty, try items.allSatisfy({ try keyword($0, param) }) else {
                            throw APIError.invalidRequest(
                                "`\(param).\(name)` must be a non-empty list of strings or whole numbers.", param: param)
                        }
                        let match = JSONValue.object(["key": key, "match": .object(["any": operand])])
                        if name == "any" { must.append(match) } else { mustNot.append(match) }
                    case "not":
                        guard try keyword(operand, param) else {
                            throw APIError.invalidRequest("`\(param).not` must be a string, a whole number or true/false.", param: param)
                        }
                        mustNot.append(.object(["key": key, "match": .object(["value": operand])]))
                    default:
                        guard case .number = operand else {
                            throw APIError.invalidRequest("`\(param).\(name)` must be a number.", param: param)
                        }
                        range[name] = operand
                    }
                }
                if !range.isEmpty { must.append(.object(["key": key, "range": .object(range)])) }
            default:
                throw APIError.invalidRequest(
                    "`\(param)` must be a value (string, number, true/false) or an object of operators (any, none, not, gt, gte, lt, lte).",
                    param: param)
            }
        }
        var qdrant: [String: JSONValue] = [:]
        if !must.isEmpty { qdrant["must"] = .array(must) }
        if !mustNot.isEmpty { qdrant["must_not"] = .array(mustNot) }
        return qdrant.isEmpty ? nil : .object(qdrant)
    }

    static func keyword(_ value: JSONValue, _ param: String) throws -> Bool {
        switch value {
        case .string, .bool: true
        case .number(let number): number.rounded() == number
        default: false
        }
    }
}
