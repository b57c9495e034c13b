import Foundation
import Yams

/// Reads a composed YAML node tree by key path, collecting every problem instead of stopping at the first.
final class YAMLReader {
    private(set) var issues: [InventoryIssue] = []

    func report(_ path: String, _ node: Yams.Node?, _ message: String) {
        issues.append(InventoryIssue(path: path, line: node?.mark?.line, message: message))
    }

    /// `mapping` with YAML merge keys (`<<: *anchor`, or a list of them) applied: its own keys win.
    func merged(_ mapping: Yams.Node.Mapping, at path: String) -> Yams.Node.Mapping {
        guard let merge = mapping["<<"] else { return mapping }
        var sources: [Yams.Node.Mapping] = []
        switch merge {
        case .mapping(let source): sources = [source]
        case .sequence(let list): sources = list.compactMap { if case .mapping(let m) = $0 { m } else { nil } }
        default: report(join(path, "<<"), merge, "a merge key takes a mapping (`<<: *anchor`) or a list of them")
        }
        var pairs = mapping.filter { $0.key.string != "<<" }.map { ($0.key, $0.value) }
        for source in sources {
            for (key, value) in merged(source, at: path) where !pairs.contains(where: { $0.0.string == key.string }) {
                pairs.append((key, value))
            }
        }
        return Yams.Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark)
    }

    /// The mapping at `node`, or nil after reporting that something else stands there.
    /// A mapping whose keys must be among `allowedKeys` (any keys when nil, for tables of named entries).
    func mapping(_ node: Yams.Node, at path: String, allowedKeys: Set<String>?) -> Yams.Node.Mapping? {
        guard case .mapping(let raw) = node else {
            report(path, node, "must be a mapping of keys to values")
            return nil
        }
        let mapping = merged(raw, at: path)
        guard let allowedKeys else { return mapping }
        for key in mapping.keys {
            // `x-` keys are the owner's own (YAML anchors to reuse, notes): ignored.
            guard let name = key.string, allowedKeys.contains(name) || name.hasPrefix("x-") else {
                let known = allowedKeys.sorted().joined(separator: ", ")
                report(join(path, key.string ?? "?"), key, "unknown key; the keys here are: \(known)")
                continue
            }
        }
        return mapping
    }

    func sequence(_ mapping: Yams.Node.Mapping, _ key: String, at path: String, required: Bool) -> [Yams.Node] {
        guard let node = mapping[key] else {
            if required { report(join(path, key), nil, "is missing; list at least one entry") }
            return []
        }
        if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
            if required { report(join(path, key), node, "is empty; list at least one entry") }
            return []
        }
        guard case .sequence(let sequence) = node else {
            report(join(path, key), node, "must be a list (entries starting with '-')")
            return []
        }
        if required && sequence.isEmpty { report(join(path, key), node, "is empty; list at least one entry") }
        return Array(sequence)
    }

    func string(_ mapping: Yams.Node.Mapping, _ key: String, at path: String) -> String? {
        guard let node = mapping[key] else {
            report(join(path, key), nil, "is missing")
            return nil
        }
        return string(node, at: join(path, key))
    }

    func optionalString(_ mapping: Yams.Node.Mapping, _ key: String, at path: String) -> String? {
        guard let node = mapping[key] else { return nil }
        return string(node, at: join(path, key))
    }

    private func string(_ node: Yams.Node, at path: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(path, node, "must be a single value, not a list or mapping")
            return nil
        }
        guard !scalar.string.trimmingCharacters(in: .whitespaces).isEmpty else {
            report(path, node, "is empty")
            return nil
        }
        return scalar.string
    }

    /// A whole number in `range`, or `defaultValue` when the key is absent.
    func int(
        _ mapping: Yams.Node.Mapping, _ key: String, at path: String, in range: ClosedRange<Int>,
        default defaultValue: Int?, unit: String = ""
    ) -> Int? {
        guard let node = mapping[key] else {
            if defaultValue == nil { report(join(path, key), nil, "is missing") }
            return defaultValue
        }
        let text = node.string ?? ""
        guard case .scalar = node, let value = Int(text) else {
            report(join(path, key), node, "must be a whole number from \(range.lowerBound) to \(range.upperBound)\(unit), got \"\(text)\"")
            return defaultValue
        }
        guard range.contains(value) else {
            report(join(path, key), node, "must be from \(range.lowerBound) to \(range.upperBound)\(unit), got \(value)")
            return defaultValue
        }
        return value
    }

    /// `true` or `false`, or nil when the key is absent.
    func bool(_ mapping: Yams.Node.Mapping, _ key: String, at path: String) -> Bool? {
        guard let node = mapping[key] else { return nil }
        switch node.string?.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default:
            report(join(path, key), node, "must be true or false, got \"\(node.string ?? "")\"")
            return nil
        }
    }

    func positiveNumber(_ mapping: Yams.Node.Mapping, _ key: String, at path: String) -> Double? {
        guard let node = mapping[key] else { return nil }
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value > 0, value.isFinite else {
            report(join(path, key), node, "must be a number above 0, got \"\(node.string ?? "")\"")
            return nil
        }
        return value
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
