import Foundation

/// Finds person names: first names from many countries and surnames (the lists in `NameLists`, see its NOTICE),
/// honorifics, capitalisation, and context for names no list holds (attendee lists, speaker turns, verbs of speech,
/// prepositions, greetings and sign-offs, where the word is no English word); then every mention anywhere in the
/// text of a name it found (`Maria`, `GONZALEZ`, `Maria's`, before or after) gets the same identity as the full name.
/// Reads the normalized UTF-8 bytes; each word is looked up once, in one table that says which lists know it.
public struct PersonNameDetector: Sendable {
    /// Every listed word (lowercase) with the lists it is on.
    let wordKinds: WordTable
    /// Lowercase English words: a capitalised word found by its context is a name only if it is none of them. Each
    /// has the value `EnglishWord.plain`, or also `.givenName` when name lists of many countries hold it as a given
    /// name (`Lei`, `Fang`): then it is a name right before a listed surname (`Lei Kong`).
    let englishWords: WordTable

    enum EnglishWord {
        static let plain: UInt8 = 1
        static let givenName: UInt8 = 2
    }

    /// Which word lists a word is on.
    struct WordKind: OptionSet, Hashable {
        let rawValue: UInt8
        static let firstName = WordKind(rawValue: 1)
        static let surname = WordKind(rawValue: 2)
        static let function = WordKind(rawValue: 4)
        static let everyday = WordKind(rawValue: 8)
        static let honorific = WordKind(rawValue: 16)
        static let suffix = WordKind(rawValue: 32)
        /// The last word of a cue ("is" of "my name is"): only after one is a cue looked for.
        static let cueEnd = WordKind(rawValue: 64)
        static let month = WordKind(rawValue: 128)
    }

    /// Words that are never a name on their own, however they are written.
    static let functionWords: Set<String> = [
        "will", "may", "can", "an", "the", "so", "in", "by", "do", "to", "on", "or", "and", "as", "at", "be", "he", "me",
        "my", "no", "us", "we", "is", "it", "if", "of", "up", "go", "hi", "yes", "see", "man", "new", "one", "all", "per",
        "con", "lay", "ma", "pa", "la", "le", "de", "del", "van", "von", "du", "el", "thanks", "thank", "dear", "hello",
        "please", "call", "note", "god", "lord", "you", "for", "employee", "patient", "insurance", "customer", "client",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu",
        "fri", "sat", "sun", "emeritus", "contact", "name", "manager", "agent", "doctor", "nurse", "team", "support",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "iban", "bic", "re", "fwd", "fw",
        "ps", "fyi", "asap", "eta", "todo", "ok", "lol", "btw", "thx", "pls", "np", "dob", "ssn",
    ]

    /// Month names that are also first names: before a day or a year they are a date ("June 01, 2025").
    static let monthNames: Set<String> = [
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december",
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

    static let honorifics: Set<String> = [
        "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mister", "doctor",
        "professor", "dame", "lady", "lord", "rev", "reverend", "fr", "father", "sister",
        // German, French, Spanish, Portuguese, Italian, Dutch, Polish, Nordic, Turkish, Indian
        "frau", "herr", "hr", "mme", "mlle", "monsieur", "madame", "mademoiselle", "sra",
        "srta", "señor", "señora", "senhor", "senhora", "sig", "signor", "signora", "dott",
        "dhr", "mevr", "pan", "pani", "fru", "bay", "bayan", "sri", "shri", "smt",
    ]
    static let suffixes: Set<String> = ["jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"]
    /// Words after which a capitalised word is a name even when no list knows it.
    static let cues: [[String]] = [
        ["my", "name", "is"], ["name", "is"], ["named"], ["called"], ["dear"], ["hi"], ["hello"],
        ["hey"], ["thanks"], ["regards"], ["sincerely"], ["signed"], ["cheers"], ["patient"],
        ["client"], ["customer"], ["contact"], ["spoke", "with"], ["talked", "to"], ["ask", "for"],
        ["i", "am"], ["i'm"], ["this", "is"], ["name"], ["from"], ["cc"], ["attn"], ["by"],
        ["with"], ["thanks", "to"], ["thank", "you"], ["ask"], ["asked"], ["ping"], ["told"],
        ["meet"], ["met"], ["invite"], ["invited"], ["best"], ["thx"], ["ty"], ["bye"],
        ["according", "to"], ["assigned", "to"], ["reach", "out", "to"],
        ["love"], ["yours"], ["greetings"], ["welcome"], ["congratulations"], ["congrats"],
        ["sent", "to"], ["forwarded", "to"], ["escalated", "to"], ["reported", "to"],
        ["speak", "to"], ["talk", "to"], ["spoke", "to"], ["introduce"], ["introduced"],
        ["referred", "to"], ["behalf", "of"], ["loop", "in"], ["notify"], ["remind"],
    ]

    static let cueBytes: [[[UInt8]]] = cues.map { $0.map { Array($0.utf8) } }

    /// A detector with name lists given as newline-separated lowercase words (the Census lists' file format), and
    /// the English words that a name found only by its context must not be.
    public init(firstNames: [UInt8], surnames: [UInt8], englishWords: [UInt8] = [], givenNameWords: [UInt8] = []) {
        var english = WordTable(expected: englishWords.count(where: { $0 == 10 }) + givenNameWords.count(where: { $0 == 10 }) + 1)
        english.insertLines(englishWords, value: EnglishWord.plain)
        english.insertLines(givenNameWords, value: EnglishWord.plain | EnglishWord.givenName)
        self.englishWords = english
        let lines = firstNames.count(where: { $0 == 10 }) + surnames.count(where: { $0 == 10 })
        var table = WordTable(expected: lines + 800)
        table.insertLines(firstNames, value: WordKind.firstName.rawValue)
        table.insertLines(surnames, value: WordKind.surname.rawValue)
        for (words, kind) in [
            (Self.functionWords, WordKind.function), (Self.everydayWords, .everyday),
            (Self.honorifics, .honorific), (Self.suffixes, .suffix), (Self.monthNames, .month),
        ] {
            for word in words {
                let bytes = Array(word.utf8)
                table.insert(bytes, 0..<bytes.count, value: kind.rawValue)
            }
        }
        for cue in Self.cues {
            let bytes = Array(cue[cue.count - 1].utf8)
            table.insert(bytes, 0..<bytes.count, value: WordKind.cueEnd.rawValue)
        }
        wordKinds = table
    }

    /// The detector with the shipped lists.
    public static func bundled() throws -> PersonNameDetector { try shipped.get() }

    // The lists are read-only resources of 200,000 words: they are read and hashed once per process, however many
    // applications it builds (the tests build hundreds).
    private static let shipped = Result { () throws -> PersonNameDetector in
        func list(_ name: String) throws -> [UInt8] {
            guard let url = Bundle.module.url(forResource: name, withExtension: "txt", subdirectory: "NameLists") else {
                throw MissingList(name: name)
            }
            return [UInt8](try Data(contentsOf: url))
        }
        return PersonNameDetector(
            firstNames: try list("first-names"), surnames: try list("surnames"),
            englishWords: try list("english-words"), givenNameWords: try list("given-name-words"))
    }

    struct MissingList: Error, CustomStringConvertible {
        var name: String
        var description: String { "the name list \(name).txt is missing from SparkDeck's resources; reinstall SparkDeck" }
    }

    struct Token {
        var range: Range<Int>
        /// FNV-1a of the lowercase word (`WordTable.hash`).
        var hash: UInt64
        var kind: WordKind
        var letters: Int
        enum Shape {
            case title, caps, lower, other

            /// ALL CAPS (two letters or more), Title (first letter a capital; a lone capital too), lower, or mixed.
            init(upper: Int, lower: Int, letters: Int, firstUpper: Bool) {
                if upper == letters {
                    self = letters > 1 ? .caps : .title
                } else if firstUpper {
                    self = .title
                } else if lower == letters {
                    self = .lower
                } else {
                    self = .other
                }
            }
        }
        var shape: Shape
        var isInitial: Bool { letters == 1 && shape != .lower }
        var isCapitalized: Bool { shape == .title || shape == .caps }
        func `is`(_ kind: WordKind) -> Bool { self.kind.contains(kind) }
        func lower(_ t: TextBytes) -> String {
            guard t.bytes[range].allSatisfy({ $0 < 0x80 }) else { return t.string(range).lowercased() }
            return String(unsafeUninitializedCapacity: range.count) { buffer in
                for offset in 0..<range.count { buffer[offset] = t.bytes[range.lowerBound + offset].asciiLowercased }
                return range.count
            }
        }
        /// Whether the token is `word` (lowercase ASCII), ignoring case.
        func equals(_ word: [UInt8], _ t: TextBytes) -> Bool {
            guard range.count == word.count else { return false }
            for offset in 0..<word.count where t[range.lowerBound + offset].asciiLowercased != word[offset] { return false }
            return true
        }
    }

    /// The length of the letter at `index` (0 if none): ASCII letters, and non-ASCII scalars that are letters.
    @inline(__always) static func letterLength(_ t: TextBytes, _ index: Int) -> Int {
        let byte = t[index]
        if byte < 0x80 { return byte.isAlpha ? 1 : 0 }
        guard let (scalar, length) = t.scalar(at: index) else { return 0 }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return length
        default: return 0
        }
    }

    /// The length of a letter or a combining mark at `index` (0 if none): inside a word a mark is part of it, so a
    /// letter with a mark no precomposed character holds does not end the word.
    @inline(__always) static func wordPartLength(_ t: TextBytes, _ index: Int) -> Int {
        let byte = t[index]
        if byte < 0x80 { return byte.isAlpha ? 1 : 0 }
        return t.nonASCIILetterLength(at: index)
    }

    /// The word without its accents (`renée` is `renee`), for the lists, which are written without them.
    static func withoutMarks(_ word: String) -> String {
        // Latin letters with accents (most accented names) by table; other scripts through Unicode decomposition.
        let table = latinWithoutMarks
        var plain: [UInt8] = []
        plain.reserveCapacity(word.utf8.count)
        for scalar in word.unicodeScalars {
            if scalar.isASCII {
                plain.append(UInt8(scalar.value))
                continue
            }
            let offset = Int(scalar.value) - 0xC0
            guard offset >= 0, offset < table.count, let letters = table[offset] else { return decomposedWithoutMarks(word) }
            plain += letters
        }
        return String(decoding: plain, as: UTF8.self)
    }

    /// `withoutMarks` of each Latin-1 and Latin Extended-A/B letter (U+00C0 to U+024F) that it makes plain ASCII.
    static let latinWithoutMarks: [[UInt8]?] = (0xC0...0x24F).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return nil }
        let plain = decomposedWithoutMarks(String(scalar))
        return plain.unicodeScalars.allSatisfy(\.isASCII) ? Array(plain.utf8) : nil
    }

    static func decomposedWithoutMarks(_ word: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in word.decomposedStringWithCanonicalMapping.unicodeScalars {
            let category = scalar.properties.generalCategory
            guard category != .nonspacingMark, category != .spacingMark else { continue }
            if let plain = Self.plainLetters[scalar] { scalars.append(contentsOf: plain.unicodeScalars) } else { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// Letters that no decomposition takes back to Latin ones (`ł`, `ø`, `ı`, `ß`), as the lists write them.
    static let plainLetters: [Unicode.Scalar: String] = [
        "ł": "l", "ø": "o", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe",
        "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŀ": "l",
    ]

    /// Words: a letter, then letters, combining marks and hyphens, then `'letters` parts (`O'Brien`); a possessive
    /// `'s` is left off.
    func tokens(_ t: TextBytes, in range: Range<Int>) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(range.count / 5)
        var index = range.lowerBound
        let end = range.upperBound
        let bytes = t.bytes
        while index < end {
            // Plain ASCII words (most of them) are found with byte comparisons alone.
            if bytes[index].isAlpha, let wordEnd = Self.asciiWordEnd(bytes, from: index, to: end) {
                var stop = wordEnd
                if stop - index > 2, bytes[stop - 2] == 39, bytes[stop - 1] | 0x20 == 115 { stop -= 2 }
                tokens.append(asciiToken(bytes, index..<stop))
                index = wordEnd
                continue
            }
            let first = Self.letterLength(t, index)
            guard first > 0 else {
                index += t[index] < 0x80 ? 1 : max(1, t.scalar(at: index)?.length ?? 1)
                continue
            }
            let start = index
            index += first
            while index < end {
                if t[index] == 45 {
                    index += 1
                    continue
                }
                let length = Self.wordPartLength(t, index)
                guard length > 0 else { break }
                index += length
            }
            while index < end, t[index] == 39, Self.letterLength(t, index + 1) > 0 {
                index += 1
                while index < end {
                    let length = Self.wordPartLength(t, index)
                    guard length > 0 else { break }
                    index += length
                }
            }
            var stop = min(index, end)
            if stop - start > 2, t[stop - 2] == 39, t[stop - 1] | 0x20 == 115 { stop -= 2 }
            tokens.append(token(t, start..<stop))
        }
        return tokens
    }

    /// The end of an all-ASCII word starting at `start` (letters and hyphens, then `'letters` parts), or nil when a
    /// non-ASCII byte touches it (then the general path reads it).
    static func asciiWordEnd(_ bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        var index = start + 1
        while index < end, bytes[index].isAlpha || bytes[index] == 45 { index += 1 }
        while index + 1 < end, bytes[index] == 39, bytes[index + 1].isAlpha {
            index += 2
            while index < end, bytes[index].isAlpha { index += 1 }
        }
        if index < end, bytes[index] >= 0x80 || (bytes[index] == 39 && index + 1 < end && bytes[index + 1] >= 0x80) { return nil }
        return index
    }

    /// A token of ASCII bytes: shape, letters and hash in one pass.
    func asciiToken(_ bytes: [UInt8], _ range: Range<Int>) -> Token {
        var upper = 0
        var lower = 0
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for index in range {
            let byte = bytes[index]
            if byte.isUpper { upper += 1 } else if byte.isLower { lower += 1 }
            hash = (hash ^ UInt64(byte.asciiLowercased)) &* 0x100_0000_01b3
        }
        let letters = upper + lower
        let shape = Token.Shape(upper: upper, lower: lower, letters: letters, firstUpper: bytes[range.lowerBound].isUpper)
        let kind = WordKind(rawValue: wordKinds.value(bytes, range, hash: hash) ?? 0)
        return Token(range: range, hash: hash, kind: kind, letters: letters, shape: shape)
    }

    func token(_ t: TextBytes, _ range: Range<Int>) -> Token {
        var ascii = true
        var upper = 0
        var lower = 0
        var letters = 0
        var firstUpper = false
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = t[index]
            if byte < 0x80 {
                if byte.isAlpha {
                    if letters == 0 { firstUpper = byte.isUpper }
                    letters += 1
                    if byte.isUpper { upper += 1 } else { lower += 1 }
                }
                index += 1
                continue
            }
            ascii = false
            guard let (scalar, length) = t.scalar(at: index) else {
                index += 1
                continue
            }
            index += length
            guard Self.letterLength(t, index - length) > 0 else { continue }
            let isUpper = scalar.properties.isUppercase
            if letters == 0 { firstUpper = isUpper }
            letters += 1
            if isUpper { upper += 1 } else if scalar.properties.isLowercase { lower += 1 }
        }
        let shape = Token.Shape(upper: upper, lower: lower, letters: letters, firstUpper: firstUpper)
        let kind: WordKind
        let hash: UInt64
        if ascii {
            hash = WordTable.hash(t.bytes[range])
            kind = WordKind(rawValue: wordKinds.value(t.bytes, range, hash: hash) ?? 0)
        } else {
            let lowercase = t.string(range).lowercased()
            let lowered = Array(lowercase.utf8)
            hash = WordTable.hash(lowered[...])
            if let listed = wordKinds.value(lowered, 0..<lowered.count, hash: hash) {
                kind = WordKind(rawValue: listed)
            } else {
                let plain = Array(Self.withoutMarks(lowercase).utf8)
                kind = WordKind(rawValue: wordKinds.value(plain, 0..<plain.count, hash: WordTable.hash(plain[...])) ?? 0)
            }
        }
        return Token(range: range, hash: hash, kind: kind, letters: letters, shape: shape)
    }

    /// Whether only spaces (and a full stop after an initial or honorific) stand between two tokens.
    func adjacent(_ a: Token, _ b: Token, in t: TextBytes) -> Bool {
        var start = a.range.upperBound
        guard b.range.lowerBound >= start else { return false }
        // A full stop belongs to an initial or an honorific ("J. Smith", "Dr. Okafor"), not to a sentence's end.
        if t[start] == 46, a.isInitial || a.is(.honorific) || a.is(.suffix) { start += 1 }
        let gap = b.range.lowerBound - start
        guard gap > 0, gap <= 4 else { return false }
        return (start..<b.range.lowerBound).allSatisfy { t[$0].isSpace }
    }

    /// Whether a token starts a sentence or line (nothing but punctuation, bullets or spaces before it back to a
    /// `.`, `!`, `?`, a line break or the start).
    func startsSentence(_ token: Token, in t: TextBytes) -> Bool {
        var index = token.range.lowerBound - 1
        while index >= 0 {
            switch t[index] {
            case 10, 13, 46, 33, 63: return true // \n \r . ! ?
            case 32, 9, 34, 39, 40, 45, 42: index -= 1 // space tab " ' ( - *
            case 0xA2 where t[index - 1] == 0x80 && t[index - 2] == 0xE2: index -= 3 // •
            default: return false
            }
        }
        return true
    }

    /// Finds names; `known` maps name parts seen earlier in the session to their person, and gains this text's.
    public func find(in bytes: [UInt8], known: inout [String: String]) -> [Finding] {
        let t = TextBytes(bytes)
        let tokens = tokens(t, in: 0..<t.count)
        var findings: [Finding] = []
        var findingTokens: [ClosedRange<Int>] = []
        var index = 0
        func add(_ from: Int, _ to: Int) {
            let range = tokens[from].range.lowerBound..<tokens[to].range.upperBound
            findings.append(Finding(type: .person, range: range))
            findingTokens.append(from...to)
        }
        /// Extends a name that ends at `end` over middle names, initials, a surname and a suffix.
        func extend(from start: Int, requireSurname: Bool) -> Int? {
            var end = start
            var hasSurname = false
            var next = start + 1
            while next < tokens.count, adjacent(tokens[next - 1], tokens[next], in: t) {
                let token = tokens[next]
                let lowercaseRun = tokens[start].shape == .lower
                let shapeOK = lowercaseRun ? token.shape == .lower : token.isCapitalized
                // A word glued to digits (`GB82`) is a code, not a name.
                guard shapeOK, !t[token.range.upperBound].isDigit else { break }
                // A line break inside a name comes only right after its first word ("Michael\nOkonkwo"), before a
                // surname: a name on the next line is another mention.
                let lineBreak = t.bytes[tokens[next - 1].range.upperBound..<token.range.lowerBound].contains(.newline)
                if lineBreak && next - start > 1 { break }
                if !lineBreak,
                    token.isInitial
                        || (next - start <= 2 && token.is(.firstName) && next + 1 < tokens.count
                            && adjacent(token, tokens[next + 1], in: t) && tokens[next + 1].isCapitalized
                            // A middle name and the surname after it stand on one line: after a line break the
                            // next word starts something else ("Lei Zhang\n\nPS").
                            && !t.bytes[token.range.upperBound..<tokens[next + 1].range.lowerBound].contains(.newline))
                {
                    end = next
                    next += 1
                    continue
                }
                if token.is(.suffix), hasSurname {
                    end = next
                    break
                }
                guard !token.is(.function), !token.is(.honorific) else { break }
                let knownSurname = token.is(.surname)
                let plausible = !lowercaseRun && !token.is(.everyday) && token.letters > 1
                if knownSurname || plausible {
                    end = next
                    hasSurname = true
                    next += 1
                    // One surname (or a double-barrelled pair on one line: "Garcia Lopez") is enough.
                    if next < tokens.count, adjacent(tokens[end], tokens[next], in: t), tokens[next].isCapitalized,
                        tokens[next].is(.surname) || tokens[next].is(.suffix),
                        !t.bytes[tokens[end].range.upperBound..<tokens[next].range.lowerBound].contains(.newline)
                    {
                        continue
                    }
                    break
                }
                break
            }
            if requireSurname && !hasSurname { return nil }
            return end
        }

        var lines = LineContext()
        while index < tokens.count {
            let token = tokens[index]
            lines.advance(to: index, tokens: tokens, t: t, detector: self)
            // "June 01", "January 9th, 2025": a date, whatever the lists say about June.
            if token.is(.month), t[token.range.upperBound] == 32, t[token.range.upperBound + 1].isDigit {
                index += 1
                continue
            }
            // Honorific + capitalised words: "Dr. Okafor", "Mrs Jane Doe".
            if token.is(.honorific), token.shape != .lower, index + 1 < tokens.count,
                adjacent(token, tokens[index + 1], in: t), tokens[index + 1].isCapitalized
            {
                let start = index + 1
                let end = extend(from: start, requireSurname: false) ?? start
                add(start, end)
                index = end + 1
                continue
            }
            // A context cue before a capitalised word: "my name is Xochitl".
            if token.shape == .title || (token.shape == .caps && (token.is(.firstName) || token.is(.surname))),
                !token.is(.honorific), !token.is(.function), !Self.listHeadHashes.contains(token.hash), couldBeAName(token, t),
                cueBefore(index, tokens: tokens, t: t)
            {
                let end = extend(from: index, requireSurname: false) ?? index
                add(index, end)
                index = end + 1
                continue
            }
            // Where names stand: an attendee list, a speaker's turn, a verb of speech or action after it.
            if token.shape == .title || (token.shape == .caps && lines.inList(token)), token.letters > 1,
                !token.is(.honorific), !token.is(.function), !token.is(.month), !Self.listHeadHashes.contains(token.hash),
                couldBeAName(token, t)
            {
                let end = extend(from: index, requireSurname: false) ?? index
                if lines.inList(tokens[index]) || (lines.startsLine(index) && t[tokens[end].range.upperBound] == .colon)
                    || verbAfter(end, tokens: tokens, t: t) || unknownBeforeSurname(index, end, tokens: tokens, t: t)
                    || unknownPair(index, end, tokens: tokens, t: t)
                {
                    add(index, end)
                    index = end + 1
                    continue
                }
            }
            // An English word that is also a given name, right before a listed surname that is no English word:
            // "Lei Kong", "Fang Huang" (not "Ping Test").
            if token.isCapitalized, !token.is(.firstName), !token.is(.function), !token.is(.honorific),
                englishValue(token, t) & EnglishWord.givenName != 0, let end = extend(from: index, requireSurname: true),
                tokens[end].is(.surname), !tokens[end].is(.everyday), !isEnglish(tokens[end], t)
            {
                add(index, end)
                index = end + 1
                continue
            }
            // "Dougherty, Michael": a known surname, a comma, a known first name.
            if token.isCapitalized, token.is(.surname), !token.is(.everyday), index + 1 < tokens.count,
                tokens[index + 1].isCapitalized, tokens[index + 1].is(.firstName), !tokens[index + 1].is(.function),
                tokens[index + 1].range.lowerBound == token.range.upperBound + 2,
                t[token.range.upperBound] == 44, t[token.range.upperBound + 1] == 32
            {
                add(index, index + 1)
                index += 2
                continue
            }
            if token.is(.firstName), !token.is(.function) {
                switch token.shape {
                case .title, .caps:
                    if let end = extend(from: index, requireSurname: true) {
                        add(index, end)
                        index = end + 1
                        continue
                    }
                    // A first name alone counts in title case ("Thanks, Jennifer"); alone in capitals it is more often
                    // an acronym ("MAC", "AL") and counts only once the full name was seen.
                    if token.shape == .title, token.letters > 1, !token.is(.function),
                        !token.is(.everyday) || !startsSentence(token, in: t)
                    {
                        add(index, index)
                    }
                case .lower:
                    // Lowercase only as a first name plus a known surname, neither an everyday word: "maria gonzalez".
                    if !token.is(.everyday), !token.is(.cueEnd), index + 1 < tokens.count, adjacent(token, tokens[index + 1], in: t),
                        tokens[index + 1].shape == .lower, tokens[index + 1].is(.surname), !tokens[index + 1].is(.everyday),
                        !tokens[index + 1].is(.function)
                    {
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
        return withLearnedMentions(findings, parts: findingTokens, tokens: tokens, t: t, known: &known)
    }

    func cueBefore(_ index: Int, tokens: [Token], t: TextBytes) -> Bool {
        guard index > 0, tokens[index - 1].is(.cueEnd) else { return false }
        cues: for cue in Self.cueBytes where index >= cue.count {
            for (offset, word) in cue.enumerated() where !tokens[index - cue.count + offset].equals(word, t) { continue cues }
            if adjacentRun(tokens, from: index - cue.count, to: index, t: t) { return true }
        }
        return false
    }

    func adjacentRun(_ tokens: [Token], from: Int, to: Int, t: TextBytes) -> Bool {
        // Cue words and the name may be separated by spaces, a comma or a colon ("Regards,\nJohn").
        for i in from..<to {
            let gap = tokens[i].range.upperBound..<tokens[i + 1].range.lowerBound
            guard gap.count <= 4, gap.allSatisfy({ t[$0].isSpace || t[$0] == 44 || t[$0] == 58 }) else { return false }
        }
        return true
    }

}
