import Foundation

/// Finds person names: first names and surnames from the 1990 US Census lists (public domain, shipped as resources),
/// honorifics, capitalisation and context cues; then every later mention of a name it found (`Maria`, `GONZALEZ`,
/// `Maria's`) gets the same identity as the full name.
public struct PersonNameDetector: Sendable {
    let firstNames: Set<String>
    let surnames: Set<String>

    /// Words that are never a name on their own, however they are written.
    static let functionWords: Set<String> = [
        "will", "may", "can", "an", "the", "so", "in", "by", "do", "to", "on", "or", "and", "as", "at", "be", "he", "me",
        "my", "no", "us", "we", "is", "it", "if", "of", "up", "go", "hi", "yes", "see", "man", "new", "one", "all", "per",
        "con", "lay", "ma", "pa", "la", "le", "de", "del", "van", "von", "du", "el", "thanks", "thank", "dear", "hello",
        "please", "call", "note", "god", "lord", "you", "for", "employee", "patient", "insurance", "customer", "client",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu",
        "fri", "sat", "sun", "emeritus", "contact", "name", "manager", "agent", "doctor", "nurse", "team", "support",
    ]

    /// First names that are also everyday words: lowercase, or capitalised at the start of a sentence, they are not
    /// taken for names ("Mark the box"); capitalised inside a sentence, they are ("ask Mark").
    static let everydayWords: Set<String> = [
        "will", "may", "june", "april", "august", "mark", "bill", "rose", "grace", "hope", "faith", "joy", "dawn", "art",
        "ray", "sue", "pat", "don", "jack", "frank", "gene", "carol", "guy", "major", "page", "lane", "chance", "summer",
        "autumn", "winter", "sky", "star", "king", "rich", "hunter", "long", "young", "white", "black", "brown", "green",
        "gray", "grey", "love", "precious", "christian", "sunny", "holly", "ivy", "iris", "lily", "daisy", "ruby", "pearl",
        "amber", "crystal", "jewel", "penny", "sandy", "misty", "honey", "candy", "ginger", "angel", "buck", "bud", "chip",
        "chuck", "cliff", "dale", "dean", "drew", "earl", "glen", "heath", "jay", "kit", "lou", "marshall", "mason",
        "miles", "nick", "norm", "price", "reed", "rod", "royal", "rusty", "sam", "skip", "stone", "ward", "wade", "an",
        "the", "so", "in", "by", "do", "to", "in", "on", "or", "and", "as", "at", "be", "he", "me", "my", "no", "us",
        "we", "is", "it", "if", "of", "up", "go", "hi", "yes", "see", "can", "man", "new", "one", "red", "sun", "sol",
        "ali", "dee", "else", "ever", "even", "all", "per", "con", "lay", "major", "sterling", "ma", "pa", "la", "le",
        "de", "del", "van", "von", "don", "du", "el", "thanks", "thank", "dear", "hello", "please", "call", "note",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
        "july", "september", "october", "november", "december", "god", "lord", "street", "avenue", "road", "center",
        "north", "south", "east", "west", "china", "paris", "london", "georgia", "virginia", "carolina", "dakota",
        "florida", "india", "asia", "america", "ireland", "jersey", "helen", "trinity", "unique", "destiny", "harmony",
        "liberty", "justice", "mercy", "patience", "prudence", "constance", "temperance", "charity", "verity", "bliss",
        "gay", "hardy", "merry", "noble", "sage", "cash", "gray", "olive", "violet", "hazel", "jade", "coral", "rosa",
        "fern", "heather", "forest", "river", "brook", "rain", "storm", "tempest", "august", "early", "wall", "worth",
        "house", "bell", "booker", "carter", "cooper", "fisher", "foster", "gardner", "porter", "taylor", "tucker",
        "walker", "weaver", "baker", "parker", "turner", "spencer", "chester", "denver", "houston", "austin", "dallas",
        "phoenix", "tyler", "jackson", "jordan", "madison", "lincoln", "washington", "kennedy", "reagan", "regan",
    ]

    static let honorifics: Set<String> = ["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mister", "doctor",
                                          "professor", "dame", "lady", "lord", "rev", "reverend", "fr", "father", "sister"]
    static let suffixes: Set<String> = ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"]
    /// Words after which a capitalised word is a name even when no list knows it.
    static let cues: [[String]] = [["my", "name", "is"], ["name", "is"], ["named"], ["called"], ["dear"], ["hi"], ["hello"],
                                   ["hey"], ["thanks"], ["regards"], ["sincerely"], ["signed"], ["cheers"], ["patient"],
                                   ["client"], ["customer"], ["contact"], ["spoke", "with"], ["talked", "to"], ["ask", "for"],
                                   ["i", "am"], ["i'm"], ["this", "is"], ["name"], ["from"], ["cc"], ["attn"], ["by"]]

    public init(firstNames: Set<String>, surnames: Set<String>) {
        self.firstNames = firstNames
        self.surnames = surnames
    }

    /// The detector with the shipped Census lists.
    public static func bundled() throws -> PersonNameDetector {
        func list(_ name: String) throws -> Set<String> {
            guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "NameLists") else {
                throw MissingList(name: name)
            }
            return Set(try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init))
        }
        return PersonNameDetector(firstNames: try list("first-names"), surnames: try list("surnames"))
    }

    struct MissingList: Error, CustomStringConvertible {
        var name: String
        var description: String { "the name list \(name).txt is missing from SparkDeck's resources; reinstall SparkDeck" }
    }

    struct Token {
        var range: NSRange
        var word: String
        var lower: String
        enum Shape { case title, caps, lower, other }
        var shape: Shape
        var isInitial: Bool { word.count == 1 && shape != .lower }
    }

    static let tokenPattern = try! NSRegularExpression(pattern: #"\p{L}[\p{L}\-]*(?:'\p{L}+)*"#)

    func tokens(_ text: String) -> [Token] {
        let ns = text as NSString
        return Self.tokenPattern.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { match in
            var range = match.range
            var word = ns.substring(with: range)
            // A possessive is not part of the name: "Maria's" is "Maria" + "'s".
            if word.lowercased().hasSuffix("'s") {
                word = String(word.dropLast(2))
                range.length -= 2
            }
            let letters = word.filter(\.isLetter)
            let shape: Token.Shape
            if letters.allSatisfy(\.isUppercase) { shape = letters.count > 1 ? .caps : .title }
            else if letters.first?.isUppercase == true { shape = .title }
            else if letters.allSatisfy(\.isLowercase) { shape = .lower }
            else { shape = .other }
            return Token(range: range, word: word, lower: word.lowercased(), shape: shape)
        }
    }

    /// Whether only spaces (and a full stop after an initial or honorific) stand between two tokens.
    func adjacent(_ a: Token, _ b: Token, in ns: NSString) -> Bool {
        let start = a.range.location + a.range.length
        guard b.range.location >= start else { return false }
        let gap = ns.substring(with: NSRange(location: start, length: b.range.location - start))
        // A full stop belongs to an initial or an honorific ("J. Smith", "Dr. Okafor"), not to a sentence's end.
        let abbreviation = a.isInitial || Self.honorifics.contains(a.lower) || Self.suffixes.contains(a.lower)
        let trimmed = gap.hasPrefix(".") && abbreviation ? String(gap.dropFirst()) : gap
        return !trimmed.isEmpty && trimmed.allSatisfy(\.isWhitespace) && trimmed.count <= 4
    }

    func isCapitalized(_ token: Token) -> Bool { token.shape == .title || token.shape == .caps }

    /// Whether a token starts a sentence or line (nothing but punctuation, bullets or spaces before it back to a
    /// `.`, `!`, `?`, a line break or the start).
    func startsSentence(_ token: Token, in ns: NSString) -> Bool {
        var index = token.range.location - 1
        while index >= 0 {
            let unit = ns.character(at: index)
            switch unit {
            case 10, 13, 46, 33, 63: return true           // \n \r . ! ?
            case 32, 9, 34, 39, 40, 45, 42, 8226: index -= 1  // space tab " ' ( - * •
            default: return false
            }
        }
        return true
    }

    public func find(in text: String) -> [Finding] {
        var known: [String: String] = [:]
        return find(in: text, known: &known)
    }

    /// Finds names; `known` maps name parts seen earlier in the session to their person, and gains this text's.
    public func find(in text: String, known: inout [String: String]) -> [Finding] {
        let ns = text as NSString
        let tokens = tokens(text)
        var findings: [Finding] = []
        var index = 0
        func add(_ from: Int, _ to: Int) {
            let range = NSRange(location: tokens[from].range.location,
                                length: tokens[to].range.location + tokens[to].range.length - tokens[from].range.location)
            findings.append(Finding(type: .person, range: range, value: ns.substring(with: range)))
        }
        /// Extends a name that ends at `end` over middle names, initials, a surname and a suffix.
        func extend(from start: Int, requireSurname: Bool) -> Int? {
            var end = start
            var hasSurname = false
            var next = start + 1
            while next < tokens.count, adjacent(tokens[next - 1], tokens[next], in: ns) {
                let token = tokens[next]
                let lowercaseRun = tokens[start].shape == .lower
                let shapeOK = lowercaseRun ? token.shape == .lower : isCapitalized(token)
                guard shapeOK else { break }
                if token.isInitial || (next - start <= 2 && firstNames.contains(token.lower) && next + 1 < tokens.count
                                       && adjacent(token, tokens[next + 1], in: ns) && isCapitalized(tokens[next + 1])) {
                    end = next
                    next += 1
                    continue
                }
                if Self.suffixes.contains(token.lower), hasSurname {
                    end = next
                    break
                }
                guard !Self.functionWords.contains(token.lower), !Self.honorifics.contains(token.lower) else { break }
                let knownSurname = surnames.contains(token.lower)
                let plausible = !lowercaseRun && !Self.everydayWords.contains(token.lower) && token.word.count > 1
                if knownSurname || plausible {
                    end = next
                    hasSurname = true
                    next += 1
                    // One surname (or a double-barrelled pair: "Garcia Lopez") is enough.
                    if next < tokens.count, adjacent(tokens[end], tokens[next], in: ns), isCapitalized(tokens[next]),
                       surnames.contains(tokens[next].lower) || Self.suffixes.contains(tokens[next].lower) {
                        continue
                    }
                    break
                }
                break
            }
            if requireSurname && !hasSurname { return nil }
            return end
        }

        while index < tokens.count {
            let token = tokens[index]
            // Honorific + capitalised words: "Dr. Okafor", "Mrs Jane Doe".
            if Self.honorifics.contains(token.lower), token.shape != .lower, index + 1 < tokens.count,
               adjacent(token, tokens[index + 1], in: ns), isCapitalized(tokens[index + 1]) {
                let start = index + 1
                let end = extend(from: start, requireSurname: false) ?? start
                add(start, end)
                index = end + 1
                continue
            }
            // A context cue before a capitalised word: "my name is Xochitl".
            if (token.shape == .title || (token.shape == .caps && (firstNames.contains(token.lower) || surnames.contains(token.lower)))),
               !Self.honorifics.contains(token.lower), !Self.functionWords.contains(token.lower),
               cueBefore(index, tokens: tokens, ns: ns) {
                let end = extend(from: index, requireSurname: false) ?? index
                add(index, end)
                index = end + 1
                continue
            }
            // "Dougherty, Michael": a known surname, a comma, a known first name.
            if isCapitalized(token), surnames.contains(token.lower), !Self.everydayWords.contains(token.lower),
               index + 1 < tokens.count, isCapitalized(tokens[index + 1]), firstNames.contains(tokens[index + 1].lower),
               !Self.functionWords.contains(tokens[index + 1].lower) {
                let start = token.range.location + token.range.length
                let gap = ns.substring(with: NSRange(location: start, length: tokens[index + 1].range.location - start))
                if gap == ", " {
                    add(index, index + 1)
                    index += 2
                    continue
                }
            }
            if firstNames.contains(token.lower), !Self.functionWords.contains(token.lower) {
                switch token.shape {
                case .title, .caps:
                    if let end = extend(from: index, requireSurname: true) {
                        add(index, end)
                        index = end + 1
                        continue
                    }
                    // A first name alone counts in title case ("Thanks, Jennifer"); alone in capitals it is more often
                    // an acronym ("MAC", "AL") and counts only once the full name was seen.
                    if token.shape == .title, token.word.count > 1, !Self.functionWords.contains(token.lower),
                       !Self.everydayWords.contains(token.lower) || !startsSentence(token, in: ns) {
                        add(index, index)
                    }
                case .lower:
                    // Lowercase only as a first name plus a known surname, neither an everyday word: "maria gonzalez".
                    if !Self.everydayWords.contains(token.lower), index + 1 < tokens.count, adjacent(token, tokens[index + 1], in: ns),
                       tokens[index + 1].shape == .lower, surnames.contains(tokens[index + 1].lower),
                       !Self.everydayWords.contains(tokens[index + 1].lower) {
                        add(index, index + 1)
                        index += 2
                        continue
                    }
                case .other:
                    break
                }
            }
            index += 1
        }
        return withLearnedMentions(findings, tokens: tokens, ns: ns, known: &known)
    }

    func cueBefore(_ index: Int, tokens: [Token], ns: NSString) -> Bool {
        for cue in Self.cues where index >= cue.count {
            let words = tokens[(index - cue.count)..<index].map(\.lower)
            if words == cue, adjacentRun(tokens, from: index - cue.count, to: index, ns: ns) { return true }
        }
        return false
    }

    func adjacentRun(_ tokens: [Token], from: Int, to: Int, ns: NSString) -> Bool {
        // Cue words and the name may be separated by spaces, a comma or a colon ("Regards,\nJohn").
        for i in from..<to {
            let start = tokens[i].range.location + tokens[i].range.length
            let gap = ns.substring(with: NSRange(location: start, length: tokens[i + 1].range.location - start))
            guard gap.count <= 4, gap.allSatisfy({ $0.isWhitespace || ",:".contains($0) }) else { return false }
        }
        return true
    }

    /// Every later mention of a part of a name already found, in any case, is the same person.
    func withLearnedMentions(_ findings: [Finding], tokens: [Token], ns: NSString, known learned: inout [String: String]) -> [Finding] {
        var result: [Finding] = []
        for var finding in findings {
            let parts = self.tokens(finding.value).filter { $0.word.count > 1 && !Self.suffixes.contains($0.lower) }
            let canonical = parts.map(\.lower).joined(separator: " ")
            finding.canonical = canonical
            result.append(finding)
            guard parts.count >= 2 else { continue }
            for part in parts where learned[part.lower] == nil && !Self.functionWords.contains(part.lower)
                && !Self.honorifics.contains(part.lower) {
                learned[part.lower] = canonical
            }
        }
        // Single-name findings that are part of a full name belong to that person.
        for index in result.indices where learned[result[index].canonical ?? ""] != nil {
            result[index].canonical = learned[result[index].canonical ?? ""]
        }
        guard !learned.isEmpty else { return result }
        var covered = IndexSet()
        for finding in result { covered.insert(integersIn: finding.range.location..<(finding.range.location + finding.range.length)) }
        for token in tokens {
            guard let canonical = learned[token.lower] else { continue }
            // "Mark" the person, not "mark" the verb.
            if Self.everydayWords.contains(token.lower), token.shape == .lower { continue }
            if covered.intersects(integersIn: token.range.location..<(token.range.location + token.range.length)) { continue }
            result.append(Finding(type: .person, range: token.range, value: ns.substring(with: token.range), canonical: canonical))
        }
        return result
    }
}
