import Foundation
import Testing

@testable import SparkDeck

/// Custom terms in one pass (`TermMatcher`): the same matches as the term-by-term scan it replaced, and bounded
/// work and output on inputs made to blow up a term-by-term scan.
@Suite("Term matcher")
struct TermMatcherTests {
    func ranges(_ terms: [String], _ text: String) -> [Range<Int>] {
        TermMatcher(terms).findings(in: NormalizedText(text).bytes).map(\.range)
    }

    /// The term-by-term scan of 0.6.0 and before, kept as the reference: every whole-word match of each term.
    static func reference(_ terms: [String], in bytes: [UInt8]) -> [Finding] {
        let t = TextBytes(bytes)
        var findings: [Finding] = []
        var seen = Set<String>()
        for term in terms {
            let needle = NormalizedText(term).text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard needle.count >= 2, seen.insert(needle.lowercased()).inserted else { continue }
            let folded = Array(needle.lowercased().utf8)
            var index = 0
            while index + folded.count <= t.count {
                guard t[index].asciiLowercased == folded[0] || t[index] >= 0x80, !Scrubber.isLetterOrDigit(before: index, in: t),
                    let end = match(folded, in: t, at: index), !Scrubber.isLetterOrDigit(at: end, in: t)
                else {
                    index += 1
                    continue
                }
                findings.append(Finding(type: .custom, range: index..<end, canonical: needle.lowercased()))
                index = end
            }
        }
        return findings
    }

    static func match(_ needle: [UInt8], in t: TextBytes, at index: Int) -> Int? {
        var n = 0
        var p = index
        while n < needle.count {
            let byte = t[p]
            if byte < 0x80 {
                guard byte.asciiLowercased == needle[n] else { return nil }
                n += 1
                p += 1
                continue
            }
            guard let (scalar, length) = t.scalar(at: p) else { return nil }
            let lower = Array(String(scalar).lowercased().utf8)
            guard n + lower.count <= needle.count, needle[n..<(n + lower.count)].elementsEqual(lower) else { return nil }
            n += lower.count
            p += length
        }
        return p
    }

    static func key(_ finding: Finding) -> String { "\(finding.range.lowerBound)-\(finding.range.upperBound)-\(finding.canonical ?? "")" }

    @Test func wholeWordsCaseInsensitive() {
        #expect(ranges(["Bluefin"], "bluefin, BLUEFIN and Bluefins; xbluefin Bluefin") == [0..<7, 9..<16, 40..<47])
        #expect(ranges(["Project Nightjar"], "the project nightjar plan") == [4..<20])
        #expect(ranges(["Müller"], "Herr MÜLLER, Frau müller") == [5..<12, 19..<26])
        // Too short after trimming: no term at all.
        #expect(ranges(["x", "  y "], "x y") == [])
    }

    @Test func sameMatchesAsTheTermByTermScan() {
        var random = SeededGenerator(seed: 7)
        let alphabet = ["a", "b", "ab", "A", "B", " ", " ", "-", ".", "é", "É", "1", "ß"]
        for _ in 0..<400 {
            let text = (0..<Int.random(in: 0..<40, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            let terms = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                (0..<Int.random(in: 1...5, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
            }
            let bytes = NormalizedText(text).bytes
            let expected = Self.reference(terms, in: bytes).map(Self.key).sorted()
            let found = TermMatcher(terms).findings(in: bytes)
            // Overlapping matches stay apart (at most `groupLimit` of them here), so the two lists are the same.
            #expect(found.map(Self.key).sorted() == expected, "terms \(terms) text '\(text)'")
        }
    }

    @Test func twentyThousandTermsOverTwentyThousandWords() {
        var random = SeededGenerator(seed: 18)
        func word() -> String {
            String(
                (0..<Int.random(in: 4...9, using: &random)).map { _ in Character(UnicodeScalar(UInt8.random(in: 97...122, using: &random)))
                })
        }
        let terms = (0..<20_000).map { _ in word() }
        var words = (0..<20_000).map { _ in word() }
        for index in stride(from: 0, to: words.count, by: 100) { words[index] = terms[index] }
        let text = words.joined(separator: " ")
        let found = TermMatcher(terms).findings(in: Array(text.utf8))
        let bytes = Array(text.utf8)
        // Every planted term is found where it was put (and any random word that happens to equal a term too).
        let foundWords = Set(found.map { String(decoding: bytes[$0.range], as: UTF8.self) })
        for index in stride(from: 0, to: words.count, by: 100) { #expect(foundWords.contains(terms[index])) }
        #expect(found.allSatisfy { Set(terms).contains(String(decoding: bytes[$0.range], as: UTF8.self)) })
    }

    @Test func manyOverlappingTermsBecomeOneSpan() {
        // "a a", "a a a", ... over "a a a a ...": every term matches everywhere; a term-by-term scan would hand the
        // scrubber hundreds of thousands of overlapping findings.
        let terms = (2...60).map { Array(repeating: "a", count: $0).joined(separator: " ") }
        let text = Array(repeating: "a", count: 20_000).joined(separator: " ") + ". done"
        let found = TermMatcher(terms).findings(in: Array(text.utf8))
        #expect(found.count == 1)
        #expect(found.first?.range == 0..<39_999)
        #expect(found.first?.isUnion == true)
        var session = ScrubSession(id: "test-session", expiresAt: .infinity)
        let result = RedactionTests.scrubber.scrub(text, session: &session, customTerms: terms)
        #expect(result.text == "<CUSTOM_1>. done")
    }
}
