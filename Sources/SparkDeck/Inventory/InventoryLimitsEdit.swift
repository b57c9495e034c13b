import Foundation
import Yams

/// Writes new admission limits into an inventory's text, touching only the `limits:` of one service (or one
/// admission group's entry): every other line, comment and key stays as the owner wrote it. Pure: text in, text out.
public enum InventoryLimitsEdit {
    /// Whose limits to write.
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        case service(String)
        case group(String)

        public var description: String {
            switch self {
            case .service(let id): "service \(id)"
            case .group(let name): "admission group \(name)"
            }
        }
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `text` with `max_in_flight` and `queue` of `target` set; the limits' other keys (`group`,
    /// `queue_timeout_ms`, ...) are kept. A `limits:` written as a block becomes one flow mapping on its key's line.
    public static func apply(maxInFlight: Int, queue: Int, to target: Target, in text: String) throws(Failure) -> String {
        let root: Yams.Node?
        do { root = try Yams.compose(yaml: text) } catch { throw Failure(description: "the inventory is not valid YAML: \(error)") }
        guard case .mapping(let top)? = root else { throw Failure(description: "the inventory is not a mapping of keys") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let set = [("max_in_flight", "\(maxInFlight)"), ("queue", "\(queue)")]
        switch target {
        case .service(let id):
            guard case .sequence(let services)? = top["services"],
                case .mapping(let service)? = services.first(where: { node in
                    if case .mapping(let m) = node { return m["id"]?.string == id }
                    return false
                })
            else { throw Failure(description: "the inventory has no service '\(id)'") }
            if let (key, value) = service.first(where: { $0.key.string == "limits" }) {
                try replace(value, key: key, with: set, in: &lines)
            } else {
                // In block style only spaces and the list's `-` stand before the id's key on its line; in
                // `- { id: x, ... }` a `{` or `,` does.
                guard let idKey = service.keys.first(where: { $0.string == "id" }), let mark = idKey.mark,
                    lines[mark.line - 1].unicodeScalars.prefix(mark.column - 1).allSatisfy({ $0 == " " || $0 == "-" })
                else {
                    throw Failure(description: "service '\(id)' is written as a flow mapping; add its `limits:` by hand")
                }
                let indent = String(repeating: " ", count: mark.column - 1)
                lines.insert(indent + "limits: " + flow(set), at: mark.line)
            }
        case .group(let name):
            guard case .mapping(let groups)? = top["admission_groups"],
                let (key, value) = groups.first(where: { $0.key.string == name })
            else { throw Failure(description: "the inventory has no admission group '\(name)'") }
            try replace(value, key: key, with: set, in: &lines)
        }
        return lines.joined(separator: "\n")
    }

    /// Replaces the limits mapping `value` (of `key`) with a flow mapping of its keys, `set` overriding.
    static func replace(_ value: Yams.Node, key: Yams.Node, with set: [(String, String)], in lines: inout [String]) throws(Failure) {
        guard case .mapping(let mapping) = value, let keyMark = key.mark, let valueMark = value.mark else {
            throw Failure(description: "`limits` at line \(key.mark?.line ?? 0) is not a plain mapping; change it by hand")
        }
        var pairs: [(String, String)] = []
        for (k, v) in mapping {
            guard let name = k.string, case .scalar(let scalar) = v, name != "<<" else {
                throw Failure(description: "`limits` at line \(keyMark.line) holds more than plain values; change it by hand")
            }
            pairs.append((name, scalar.style == .plain ? scalar.string : quoted(scalar.string)))
        }
        for (name, number) in set {
            if let index = pairs.firstIndex(where: { $0.0 == name }) { pairs[index].1 = number } else { pairs.append((name, number)) }
        }
        let replacement = flow(pairs)
        let row = valueMark.line - 1
        let scalars = Array(lines[row].unicodeScalars)
        let start = valueMark.column - 1
        // Flow style is told by the text: the mark of a flow mapping stands on its `{`.
        if start < scalars.count, scalars[start] == "{" {
            guard let end = closingBrace(scalars, from: start) else {
                throw Failure(description: "`limits` at line \(keyMark.line) spans lines; write it on one line or change it by hand")
            }
            lines[row] =
                String(String.UnicodeScalarView(scalars[..<start])) + replacement
                + String(String.UnicodeScalarView(scalars[(end + 1)...]))
            return
        }
        // A block mapping: its lines are those indented past the key, up to the next line that is not.
        let keyRow = keyMark.line - 1
        var last = valueMark.line - 1
        while last + 1 < lines.count {
            let next = lines[last + 1]
            let indent = next.prefix { $0 == " " }.count
            if next.trimmingCharacters(in: .whitespaces).isEmpty || indent < keyMark.column { break }
            last += 1
        }
        let keyScalars = Array(lines[keyRow].unicodeScalars)
        lines[keyRow] = String(String.UnicodeScalarView(keyScalars[..<(keyMark.column - 1)])) + "limits: " + replacement
        if last > keyRow { lines.removeSubrange((keyRow + 1)...last) }
    }

    static func flow(_ pairs: [(String, String)]) -> String {
        "{ " + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + " }"
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The index of the `}` that closes the `{` at `start`, skipping quoted text.
    static func closingBrace(_ scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start < scalars.count, scalars[start] == "{" else { return nil }
        var depth = 0
        var quote: Unicode.Scalar?
        var index = start
        while index < scalars.count {
            let c = scalars[index]
            if let open = quote {
                if c == "\\" && open == "\"" { index += 1 } else if c == open { quote = nil }
            } else if c == "\"" || c == "'" {
                quote = c
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 { return index }
            }
            index += 1
        }
        return nil
    }
}
