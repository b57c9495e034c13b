import Foundation

/// A shell command from the inventory with `{name}` parameters.
///
/// Values are always single-quoted when rendered, so no value can add a command, a redirection or a substitution.
/// Values come from the recipe itself, never from a request.
public struct CommandTemplate: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    /// The parameter names in order of appearance.
    public let parameterNames: [String]
    private let parts: [Part]

    private enum Part: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unclosedBrace(offset: Int)
        case badName(String)

        public var description: String {
            switch self {
            case .unclosedBrace(let offset): "a '{' at character \(offset + 1) is never closed"
            case .badName(let name):
                "'{\(name)}' is not a parameter name (letters, digits and '_' only, starting with a letter)"
            }
        }
    }

    public init(_ source: String) throws(ParseError) {
        var parts: [Part] = []
        var names: [String] = []
        var literal = ""
        var index = source.startIndex
        while index < source.endIndex {
            let character = source[index]
            guard character == "{" else {
                literal.append(character)
                index = source.index(after: index)
                continue
            }
            // `{{ ... }}` is Go template syntax (docker --format): kept as it is.
            if source[index...].hasPrefix("{{"), let end = source[index...].range(of: "}}") {
                literal.append(contentsOf: source[index..<end.upperBound])
                index = end.upperBound
                continue
            }
            guard let close = source[index...].firstIndex(of: "}") else {
                throw .unclosedBrace(offset: source.distance(from: source.startIndex, to: index))
            }
            let name = String(source[source.index(after: index)..<close])
            // `${VAR}` and `{}`-style shell syntax are left as they are: only `{identifier}` is a parameter.
            let followsDollar = index > source.startIndex && source[source.index(before: index)] == "$"
            if followsDollar || name.isEmpty || name.contains(where: \.isWhitespace) || name.contains(",") {
                literal.append(contentsOf: source[index...close])
            } else if Self.isValidName(name) {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.parameter(name))
                if !names.contains(name) { names.append(name) }
            } else {
                throw .badName(name)
            }
            index = source.index(after: close)
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.source = source
        self.parts = parts
        self.parameterNames = names
    }

    public var description: String { source }

    /// The command with every parameter replaced by its shell-quoted value.
    /// - Throws: `MissingParameter` naming the first parameter without a value.
    public func render(_ values: [String: String]) throws -> String {
        var output = ""
        for part in parts {
            switch part {
            case .literal(let text): output += text
            case .parameter(let name):
                guard let value = values[name] else { throw MissingParameter(name: name) }
                output += ShellQuote.quote(value)
            }
        }
        return output
    }

    public struct MissingParameter: Error, Equatable, CustomStringConvertible {
        public let name: String
        public var description: String { "the command names {\(name)}, which has no value" }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}

/// POSIX shell quoting.
public enum ShellQuote {
    /// `value` as one single-quoted shell word; a `'` inside becomes `'\''`.
    public static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
