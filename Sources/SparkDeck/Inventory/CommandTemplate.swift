import Foundation

/// A shell command from the inventory with `{name}` parameters.
///
/// A parameter may stand only where the shell reads text unquoted (also inside `$( ... )`): there its value,
/// single-quoted when rendered, is one literal word, so no value can add a command, a redirection or a substitution.
/// A parameter inside single or double quotes, backquotes, `${ ... }`, `$(( ... ))`, a comment, a here-document or
/// after a backslash is refused when the template is read: in those places the shell (or the program the quoted text
/// goes to, as with `sh -c '...'`) would read the value's characters again. Values come from the recipe itself,
/// never from a request.
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
        /// `{name}` stands where the shell would read its value again (`place` is never `.plain`).
        case quotedParameter(name: String, place: ShellPlace)

        public var description: String {
            switch self {
            case .unclosedBrace(let offset): "a '{' at character \(offset + 1) is never closed"
            case .badName(let name):
                "'{\(name)}' is not a parameter name (letters, digits and '_' only, starting with a letter)"
            case .quotedParameter(let name, let place):
                "{\(name)} stands \(place.rawValue), where the shell would read its value as code; put it outside "
                    + "every quote, SparkDeck quotes it (--name=\"{\(name)}\" becomes --name={\(name)}), and give "
                    + "sh -c '...' the value as an argument (sh -c 'echo \"$1\"' sh {\(name)})"
            }
        }
    }

    public init(_ source: String) throws(ParseError) {
        let characters = Array(source)
        var parts: [Part] = []
        var names: [String] = []
        var ranges: [Range<Int>] = []
        var literal = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "{" else {
                literal.append(character)
                index += 1
                continue
            }
            // `{{ ... }}` is Go template syntax (docker --format): kept as it is.
            if index + 1 < characters.count, characters[index + 1] == "{",
                let end = (index + 2..<characters.count).first(where: {
                    characters[$0] == "}" && $0 + 1 < characters.count && characters[$0 + 1] == "}"
                })
            {
                literal.append(contentsOf: characters[index...(end + 1)])
                index = end + 2
                continue
            }
            guard let close = characters[index...].firstIndex(of: "}") else { throw .unclosedBrace(offset: index) }
            let name = String(characters[(index + 1)..<close])
            // `${VAR}` and `{}`-style shell syntax are left as they are: only `{identifier}` is a parameter.
            let followsDollar = index > 0 && characters[index - 1] == "$"
            if followsDollar || name.isEmpty || name.contains(where: \.isWhitespace) || name.contains(",") {
                literal.append(contentsOf: characters[index...close])
            } else if Self.isValidName(name) {
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.parameter(name))
                ranges.append(index..<(close + 1))
                if !names.contains(name) { names.append(name) }
            } else {
                throw .badName(name)
            }
            index = close + 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        let parameters = parts.compactMap { part -> String? in
            if case .parameter(let name) = part { return name }
            return nil
        }
        for (name, place) in zip(parameters, ShellPlace.places(in: characters, parameters: ranges)) where place != .plain {
            throw .quotedParameter(name: name, place: place)
        }
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
                // A NUL ends the C string the shell gets, and with it the closing quote.
                guard !value.unicodeScalars.contains("\u{0}") else { throw UnsafeValue(name: name) }
                output += ShellQuote.quote(value)
            }
        }
        return output
    }

    public struct MissingParameter: Error, Equatable, CustomStringConvertible {
        public let name: String
        public var description: String { "the command names {\(name)}, which has no value" }
    }

    public struct UnsafeValue: Error, Equatable, CustomStringConvertible {
        public let name: String
        public var description: String { "the value of {\(name)} holds a NUL character, which no shell word can hold" }
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
