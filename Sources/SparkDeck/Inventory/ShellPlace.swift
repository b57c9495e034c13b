/// Where a spot in a command sits as a POSIX shell reads it, for the template parameters found there.
///
/// Only `.plain` (outside every quote, also inside `$( ... )`) is a place where a single-quoted value stays one
/// literal word. Everywhere else the shell, or the program the quoted text goes to (`sh -c '...'`), reads the
/// characters again: a value there could add a command.
public enum ShellPlace: String, Sendable, Equatable {
    case plain
    case singleQuoted = "inside single quotes"
    case doubleQuoted = "inside double quotes"
    case backquoted = "inside backquotes"
    case arithmetic = "inside $(( ... ))"
    case parameterExpansion = "inside ${ ... }"
    case escaped = "right after a backslash"
    case comment = "inside a # comment"
    case hereDocument = "after a here-document (<<)"
    case unclear = "after shell syntax SparkDeck does not follow (quotes in ${ ... } or $(( ... )), or `case` in $( ... ))"

    /// The place of each parameter, given as character offsets (`start..<end`) into `source` in increasing order.
    static func places(in source: [Character], parameters: [Range<Int>]) -> [ShellPlace] {
        var scanner = ShellScanner(text: source, parameters: parameters)
        scanner.run()
        return scanner.places
    }
}

/// A one-pass reader of the shell's quoting: a stack of open constructs. It never runs anything and gives up
/// (`.unclear` for every later parameter) where its reading could differ from the shell's.
private struct ShellScanner {
    enum Frame {
        /// Unquoted text: the whole command, or the inside of `$( ... )` with its open `(` count.
        case plain(inSubstitution: Bool, depth: Int)
        case double
        case backquote
        case arithmetic(depth: Int)
    }

    let text: [Character]
    let starts: [Int: Int]
    var places: [ShellPlace] = []
    var stack: [Frame] = [.plain(inSubstitution: false, depth: 0)]
    var hereDocumentPending = false
    var inHereDocument = false
    var unclear = false

    init(text: [Character], parameters: [Range<Int>]) {
        self.text = text
        var starts: [Int: Int] = [:]
        for range in parameters { starts[range.lowerBound] = range.upperBound }
        self.starts = starts
    }

    private func at(_ index: Int) -> Character? { index < text.count ? text[index] : nil }

    /// Records the parameter at `index` (if one starts there) in `place`; returns where it ends.
    private mutating func parameter(at index: Int, _ place: ShellPlace) -> Int? {
        guard let end = starts[index] else { return nil }
        places.append(unclear ? .unclear : inHereDocument ? .hereDocument : place)
        return end
    }

    /// Skips to the end of a quoted stretch that closes with `closer`, recording any parameter inside as `place`.
    private mutating func skip(from index: Int, to closer: Character, backslashEscapes: Bool, _ place: ShellPlace) -> Int {
        var index = index
        while index < text.count {
            if let end = parameter(at: index, place) {
                index = end
                continue
            }
            if backslashEscapes, text[index] == "\\" {
                index += 1
                if let end = parameter(at: index, place) { index = end } else { index += 1 }
                continue
            }
            if text[index] == closer { return index + 1 }
            index += 1
        }
        return index
    }

    private func atWordStart(_ index: Int) -> Bool {
        guard index > 0 else { return true }
        return " \t\n;&|()<>".contains(text[index - 1])
    }

    /// Handles `$` at `index` in plain or double-quoted text; returns the next index.
    private mutating func dollar(at index: Int, inPlain: Bool) -> Int {
        if at(index + 1) == "(", at(index + 2) == "(" {
            stack.append(.arithmetic(depth: 0))
            return index + 3
        }
        if at(index + 1) == "(" {
            stack.append(.plain(inSubstitution: true, depth: 0))
            return index + 2
        }
        if at(index + 1) == "{" {
            // `${NAME}`-style expansions are read to the first `}`; one holding quotes or nested expansions could
            // end elsewhere for the shell, so later parameters are refused.
            var end = index + 2
            while end < text.count, text[end] != "}" {
                if "'\"`\\${".contains(text[end]) { unclear = true }
                if let close = parameter(at: end, .parameterExpansion) {
                    end = close
                    continue
                }
                end += 1
            }
            if end >= text.count { unclear = true }
            return end + 1
        }
        if inPlain, at(index + 1) == "'" {
            return skip(from: index + 2, to: "'", backslashEscapes: true, .singleQuoted)
        }
        return index + 1
    }

    mutating func run() {
        var index = 0
        while index < text.count {
            guard let frame = stack.last else { break }
            switch frame {
            case .plain(let inSubstitution, let depth):
                if let end = parameter(at: index, .plain) {
                    index = end
                    continue
                }
                let character = text[index]
                switch character {
                case "\\":
                    index += 1
                    if let end = parameter(at: index, .escaped) { index = end } else { index += 1 }
                case "'": index = skip(from: index + 1, to: "'", backslashEscapes: false, .singleQuoted)
                case "\"":
                    stack.append(.double)
                    index += 1
                case "`":
                    stack.append(.backquote)
                    index += 1
                case "$": index = dollar(at: index, inPlain: true)
                case "#" where atWordStart(index):
                    index = skip(from: index + 1, to: "\n", backslashEscapes: false, .comment)
                    if hereDocumentPending, text[index - 1] == "\n" { inHereDocument = true }
                case "(":
                    if inSubstitution { stack[stack.count - 1] = .plain(inSubstitution: true, depth: depth + 1) }
                    index += 1
                case ")":
                    if inSubstitution {
                        if depth == 0 {
                            stack.removeLast()
                        } else {
                            stack[stack.count - 1] = .plain(inSubstitution: true, depth: depth - 1)
                        }
                    }
                    index += 1
                case "<":
                    if at(index + 1) == "<", at(index + 2) != "<" { hereDocumentPending = true }
                    index += at(index + 1) == "<" ? 2 : 1
                case "\n":
                    if hereDocumentPending { inHereDocument = true }
                    index += 1
                case "c" where inSubstitution && atWordStart(index):
                    // `case` patterns close with an unmatched `)`, which this reader would take for the end of
                    // the substitution.
                    if text[index...].starts(with: "case"), let after = at(index + 4), " \t\n".contains(after) { unclear = true }
                    index += 1
                default: index += 1
                }
            case .double:
                if let end = parameter(at: index, .doubleQuoted) {
                    index = end
                    continue
                }
                switch text[index] {
                case "\\":
                    index += 1
                    if let end = parameter(at: index, .doubleQuoted) { index = end } else { index += 1 }
                case "\"":
                    stack.removeLast()
                    index += 1
                case "`":
                    stack.append(.backquote)
                    index += 1
                case "$": index = dollar(at: index, inPlain: false)
                default: index += 1
                }
            case .backquote:
                index = skip(from: index, to: "`", backslashEscapes: true, .backquoted)
                stack.removeLast()
            case .arithmetic(let depth):
                if let end = parameter(at: index, .arithmetic) {
                    index = end
                    continue
                }
                switch text[index] {
                case "(":
                    stack[stack.count - 1] = .arithmetic(depth: depth + 1)
                    index += 1
                case ")":
                    if depth == 0 {
                        stack.removeLast()
                        if at(index + 1) != ")" { unclear = true }
                        index += 2
                    } else {
                        stack[stack.count - 1] = .arithmetic(depth: depth - 1)
                        index += 1
                    }
                case "'", "\"", "`", "\\":
                    unclear = true
                    index += 1
                case "$": index = dollar(at: index, inPlain: false)
                default: index += 1
                }
            }
        }
    }
}
