import Foundation

/// How a long document is cut into passages: at most `maxCharacters` each, cut between sentences where possible
/// (a sentence longer than a passage is cut between words), and each passage after the first starts with the
/// last sentences of the one before, up to `overlapCharacters`, so a sentence near a cut is whole in one of them.
/// Pure: offsets are in `Character`s of the original text.
public struct PassagePlan: Sendable, Equatable {
    /// One passage: its text and where it lies in the document.
    public struct Passage: Sendable, Equatable {
        public var position: Int
        public var text: String
        public var start: Int
        public var end: Int
    }

    public var maxCharacters: Int
    public var overlapCharacters: Int

    public init(maxCharacters: Int = 1200, overlapCharacters: Int = 200) {
        self.maxCharacters = max(20, maxCharacters)
        self.overlapCharacters = min(max(0, overlapCharacters), self.maxCharacters / 2)
    }

    /// The passages of `text`: one (the whole text, trimmed) when it fits.
    public func passages(of text: String) -> [Passage] {
        let characters = Array(text)
        let units = Self.units(characters, limit: maxCharacters)
        guard !units.isEmpty else { return [] }
        var passages: [Passage] = []
        var first = 0
        while first < units.count {
            var last = first
            while last + 1 < units.count, units[last + 1].end - units[first].start <= maxCharacters { last += 1 }
            var start = units[first].start
            var end = units[last].end
            while start < end, characters[start].isWhitespace { start += 1 }
            while end > start, characters[end - 1].isWhitespace { end -= 1 }
            passages.append(Passage(position: passages.count, text: String(characters[start..<end]), start: start, end: end))
            if last == units.count - 1 { break }
            // The next passage starts with the trailing units of this one that fit in the overlap, but always
            // moves forward by at least one unit.
            var next = last + 1
            while next - 1 > first, units[last].end - units[next - 1].start <= overlapCharacters { next -= 1 }
            first = next
        }
        return passages
    }

    /// Sentences (ending at `.`, `!`, `?` or `…` before whitespace, or at a blank line), each with its trailing
    /// whitespace; a sentence over `limit` is cut between words (or, with no space, at `limit`).
    static func units(_ characters: [Character], limit: Int) -> [(start: Int, end: Int)] {
        var sentences: [(start: Int, end: Int)] = []
        var start = 0
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let terminal = ".!?…".contains(character) || character == "\n" && index + 1 < characters.count && characters[index + 1] == "\n"
            if terminal {
                var end = index + 1
                while end < characters.count, ".!?…\"')]".contains(characters[end]) { end += 1 }
                if end == characters.count || characters[end].isWhitespace {
                    while end < characters.count, characters[end].isWhitespace { end += 1 }
                    sentences.append((start, end))
                    start = end
                    index = end
                    continue
                }
            }
            index += 1
        }
        if start < characters.count { sentences.append((start, characters.count)) }
        // Whitespace-only pieces carry nothing.
        sentences = sentences.filter { characters[$0.start..<$0.end].contains { !$0.isWhitespace } }
        return sentences.flatMap { sentence -> [(start: Int, end: Int)] in
            guard sentence.end - sentence.start > limit else { return [sentence] }
            var pieces: [(start: Int, end: Int)] = []
            var from = sentence.start
            while sentence.end - from > limit {
                var cut = from + limit
                while cut > from + limit / 2, !characters[cut - 1].isWhitespace { cut -= 1 }
                if cut == from + limit / 2 { cut = from + limit }
                pieces.append((from, cut))
                from = cut
            }
            pieces.append((from, sentence.end))
            return pieces
        }
    }
}
