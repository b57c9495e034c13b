import Foundation
import Testing

@testable import SparkDeck

/// The leak suite for people's names from many countries and for names no list holds (only their context says they
/// are names), in each leak mode: capitals, lowercase, possessive, a line break inside the name, initials,
/// homoglyphs, and a mention before the place the name is learned. Every part of every name must be gone, and
/// `/rehydrate` of the scrubbed text must give the original back byte for byte. Names written by hand for these
/// tests (no generator), each a plausible name of its origin.
@Suite("Name leak suite")
struct NameLeakSuiteTests {
    struct Name: Sendable, CustomStringConvertible {
        var origin: String
        var first: String
        var last: String
        var description: String { "\(origin) \(first) \(last)" }
    }

    static let listed: [Name] = [
        Name(origin: "Polish", first: "Piotr", last: "Dyja"),
        Name(origin: "Polish", first: "Agnieszka", last: "Wróblewska"),
        Name(origin: "German", first: "Jürgen", last: "Oberhäuser"),
        Name(origin: "Turkish", first: "Ayşe", last: "Yıldırımoğlu"),
        Name(origin: "Nordic", first: "Sigrún", last: "Haugland"),
        Name(origin: "Nordic", first: "Bjørn", last: "Lindqvist"),
        Name(origin: "French", first: "Virginie", last: "Brunel"),
        Name(origin: "Dutch", first: "Maarten", last: "Kuipers"),
        Name(origin: "Brazilian", first: "João", last: "Guimarães"),
        Name(origin: "Spanish", first: "Lucía", last: "Echeverría"),
        Name(origin: "Italian", first: "Matteo", last: "Brambilla"),
        Name(origin: "Indian", first: "Venkatesh", last: "Raghunathan"),
        Name(origin: "Indian", first: "Ananya", last: "Krishnamurthy"),
        Name(origin: "Arabic", first: "Youssef", last: "Benali"),
        Name(origin: "Chinese", first: "Xiaoming", last: "Liu"),
        Name(origin: "Japanese", first: "Haruto", last: "Takahashi"),
        Name(origin: "Korean", first: "Jiwoo", last: "Park"),
        Name(origin: "Nigerian", first: "Chukwuemeka", last: "Adeyemi"),
        Name(origin: "Ghanaian", first: "Kwame", last: "Mensah"),
        // Given names that are English words too (Lei, Fang, Bin): found before a listed surname.
        Name(origin: "Chinese", first: "Lei", last: "Zhang"),
        Name(origin: "Chinese", first: "Fang", last: "Huang"),
    ]

    /// Names of two words no list holds, in sentences whose wording is no cue: the two unknown capitalised words
    /// together say it is a name. Written by hand (Zulu, Xhosa, Yoruba, Igbo, Amharic, Malagasy).
    static let unknownPairs = [
        "The refund should go to Thembeka Ngcobo before Friday.",
        "Our Durban partner Siyabonga Mthembu (procurement) signed off.",
        "You can also reach Olamide Adebisi on the shared line.",
        "The form was countersigned, Chidiebube Nwankwo being the witness.",
        "Emergency contact, Tadesse Gebremariam, lives nearby.",
        "Funds were released for Hery Rakotondrabe yesterday.",
    ]

    /// Made-up names that no list holds and that are no English words: only their context says they are names.
    static let contextOnly: [Name] = [
        Name(origin: "context only", first: "Zorvath", last: "Quillane"),
        Name(origin: "context only", first: "Brixa", last: "Tomlev"),
        Name(origin: "context only", first: "Odrin", last: "Vask"),
        Name(origin: "context only", first: "Ilvane", last: "Corbequin"),
    ]

    struct Case: Sendable, CustomStringConvertible {
        var mode: String
        var name: Name
        var text: String
        var description: String { "\(mode): \(name)" }
    }

    /// Each leak mode as a short note; the first sentence says where a name stands, the rest mention it again.
    static func cases(for name: Name, contextOnly: Bool) -> [Case] {
        let (f, l) = (name.first, name.last)
        var cases = [
            Case(mode: "attendee list", name: name, text: "Attendees: \(f) \(l), Odile Marchetti\n\(f) opened the meeting."),
            Case(
                mode: "capitals", name: name,
                text: "Met with \(f) \(l) today.\nACTION: \(f.uppercased()) \(l.uppercased()) OWNS THE FOLLOW-UP."),
            Case(
                mode: "lowercase", name: name, text: "\(f) \(l) will review the draft; ping \(f.lowercased()) \(l.lowercased()) directly."),
            Case(
                mode: "possessive", name: name, text: "Thanks to \(f) \(l) for the slides. \(f)'s notes and \(l)’s comments are attached."),
            Case(mode: "line break", name: name, text: "Notes taken by \(f)\n\(l) during the call; \(l) said it went well."),
            Case(mode: "initials", name: name, text: "\(f) \(l) said yes.\nSigned: \(f.prefix(1)). \(l), for the board"),
            Case(
                mode: "earlier mention", name: name, text: "\(f) will send the deck, and \(l) confirmed the date.\n\nAttendees: \(f) \(l)"),
            Case(mode: "speaker turn", name: name, text: "\(f) \(l): we ship on Friday.\nOdile: fine by me. \(f), send the notes."),
            Case(mode: "sign-off", name: name, text: "Hi team,\nthe build is green again.\n\nBest,\n\(f) \(l)\n\nPS: ask \(f) for access."),
        ]
        if !contextOnly {
            // Cyrillic and Greek look-alikes inside the name: the detectors read them as the Latin letters.
            let disguised = f.replacingOccurrences(of: "o", with: "\u{043E}").replacingOccurrences(of: "a", with: "\u{0430}")
            cases.append(Case(mode: "homoglyphs", name: name, text: "Please loop in \(disguised) \(l) on this."))
        }
        return cases
    }

    static let all: [Case] =
        listed.flatMap { cases(for: $0, contextOnly: false) } + contextOnly.flatMap { cases(for: $0, contextOnly: true) }

    @Test(arguments: all)
    func noPartOfTheNameSurvivesAndTheTextComesBackExactly(_ leak: Case) {
        var session = ScrubSession(id: "names", expiresAt: .infinity)
        let scrubbed = RedactionTests.scrubber.scrub(leak.text, session: &session).text
        let folded = NormalizedText(scrubbed).text.lowercased()
        for part in [leak.name.first, leak.name.last] {
            let plain = NormalizedText(part).text.lowercased()
            #expect(!folded.contains(plain), "LEAK (\(leak)): '\(part)' in: \(scrubbed)")
        }
        let back = Rehydrator.rehydrate(scrubbed, session: session)
        #expect(back.text == leak.text, "round trip (\(leak)): \(scrubbed)")
        #expect(back.unresolved.isEmpty)
    }

    @Test(arguments: unknownPairs)
    func twoUnknownCapitalisedWordsAreAName(_ text: String) throws {
        var session = ScrubSession(id: "pairs", expiresAt: .infinity)
        let result = RedactionTests.scrubber.scrub(text, session: &session)
        #expect(result.entities.map(\.type) == [.person], "\(result.text)")
        #expect(result.text.contains("<PERSON_1>"), "one placeholder for the whole name: \(result.text)")
        #expect(Rehydrator.rehydrate(result.text, session: session).text == text)
    }

    @Test func englishWordsThatAreGivenNamesCountOnlyBeforeASurname() {
        var session = ScrubSession(id: "given", expiresAt: .infinity)
        let named = RedactionTests.scrubber.scrub("Please copy Fang Huang and Lei Zhang on the gang sheet.", session: &session)
        #expect(named.text == "Please copy <PERSON_1> and <PERSON_2> on the gang sheet.", "\(named.text)")
        session = ScrubSession(id: "words", expiresAt: .infinity)
        for text in ["The Gang Review is on Monday.", "Our Fang Test bench broke.", "The Bin Baker report is late."] {
            let plain = RedactionTests.scrubber.scrub(text, session: &session)
            #expect(plain.text == text, "no surname after the word: not a name: \(plain.text)")
        }
    }

    @Test func aFullNameInLowercaseIsOnePlaceholder() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let first = RedactionTests.scrubber.scrub("John Quinn joined.", session: &session)
        let second = RedactionTests.scrubber.scrub("ping john quinn directly", session: &session)
        #expect(first.text == "<PERSON_1> joined.")
        #expect(second.text == "ping <PERSON_1_2> directly")
        #expect(Rehydrator.rehydrate(second.text, session: session).text == "ping john quinn directly")
    }

    @Test func aNameLearnedLaterCoversTheMentionsBeforeIt() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let text = "Piotr asked for the logs. Dyja's laptop is ready.\nAttendees: Piotr Dyja, Virginie Brunel\nContact Piotr at noon."
        let result = RedactionTests.scrubber.scrub(text, session: &session)
        #expect(
            result.text
                == "<PERSON_1_FIRST> asked for the logs. <PERSON_1_LAST>'s laptop is ready.\nAttendees: <PERSON_1>, <PERSON_2>\nContact <PERSON_1_FIRST> at noon."
        )
        #expect(Rehydrator.rehydrate(result.text, session: session).text == text)
    }

    @Test func eachSpellingComesBackAsWrittenAndAModelsOwnPlaceholderAsTheOwnerExpects() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let text = "Attendees: Célina Denis\nCélina B. Denis Jr signed. Célina agreed, CÉLINA too; Denis's notes follow."
        let result = RedactionTests.scrubber.scrub(text, session: &session)
        #expect(Rehydrator.rehydrate(result.text, session: session).text == text, "\(result.text)")
        // What a model writes with the placeholders it was given, or with one it derived from them.
        let answer = Rehydrator.rehydrate("Ask <PERSON_1> and [person_1_first]; <PERSON_1_LAST> is in copy.", session: session)
        #expect(answer.text == "Ask Célina Denis and Célina; Denis is in copy.")
    }

    @Test func aSessionSavedBefore060StillRehydratesAndCarriesOn() throws {
        let stored =
            #"{"id":"old","values":{"<PERSON_1>":"Maria Gonzalez"},"keys":{"PERSON|maria gonzalez":"<PERSON_1>"},"counters":{"PERSON":1},"reserved":[],"knownNames":{"maria":"maria gonzalez","gonzalez":"maria gonzalez"},"expiresAt":100}"#
        var session = try JSONDecoder().decode(ScrubSession.self, from: Data(stored.utf8))
        #expect(Rehydrator.rehydrate("Hi <PERSON_1>", session: session).text == "Hi Maria Gonzalez")
        let later = RedactionTests.scrubber.scrub("Maria Gonzalez met Maria; gonzalez agreed.", session: &session)
        #expect(later.text == "<PERSON_1> met <PERSON_1_FIRST>; <PERSON_1_LAST> agreed.")
        #expect(Rehydrator.rehydrate(later.text, session: session).text == "Maria Gonzalez met Maria; gonzalez agreed.")
    }

    @Test func theStreamingRehydratorFillsPersonPartsSplitAcrossChunks() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        _ = RedactionTests.scrubber.scrub("Attendees: Piotr Dyja\nPiotr said so.", session: &session)
        var stream = StreamingRehydrator(session: session)
        let chunks = ["Ask <PERSON_1_", "FIRST> or PERSON", "_1 about it"]
        let text = chunks.map { stream.feed($0) }.joined() + stream.finish()
        #expect(text == "Ask Piotr or Piotr Dyja about it")
    }
}
