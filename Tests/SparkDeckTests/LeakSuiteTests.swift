import Foundation
import Testing

@testable import SparkDeck

/// The leak suite: texts built around the ways personal data slips past redaction. Every listed secret must be gone
/// from the scrubbed text, whatever its case. Any leak fails CI.
@Suite("Leak suite")
struct LeakSuiteTests {
    struct Case: CustomStringConvertible, Sendable {
        var mode: String
        var text: String
        var secrets: [String]
        var description: String { mode }
    }

    static let cases: [Case] = [
        Case(mode: "all caps name", text: "PATIENT: MARIA GONZALEZ, ROOM 4", secrets: ["MARIA", "GONZALEZ"]),
        Case(mode: "lowercase name", text: "forwarded by maria gonzalez yesterday", secrets: ["maria", "gonzalez"]),
        Case(
            mode: "middle initial and Jr.", text: "Signed: Robert J. Thompson Jr. on behalf of the board",
            secrets: ["Robert", "Thompson"]),
        Case(mode: "possessive", text: "That is Jennifer Walsh's laptop, and Jennifer's charger.", secrets: ["Jennifer", "Walsh"]),
        Case(
            mode: "name split across a line break", text: "Notes taken by Michael\nOkonkwo during the call",
            secrets: ["Michael", "Okonkwo"]),
        Case(
            mode: "bullets and punctuation", text: "Attendees:\n- David Chen,\n- (Sarah O'Neil)\n• \"Thomas Müller\"",
            secrets: ["David", "Chen", "Sarah", "O'Neil", "Thomas", "Müller"]),
        Case(
            mode: "adjacent entities", text: "Contact: Linda Park linda.park@example.com 312-555-0147 4111111111111111",
            secrets: ["Linda", "Park", "linda.park@example.com", "312-555-0147", "4111111111111111"]),
        Case(mode: "phone glued to text", text: "pls call630-596-1111or text+14155552671asap", secrets: ["630-596-1111", "4155552671"]),
        Case(
            mode: "foreign phone formats", text: "UK +44 20 7946 0958, DE +49 (0)30 12345678, FR 0033 1 42 68 53 00",
            secrets: ["7946 0958", "12345678", "42 68 53 00"]),
        Case(mode: "full-width at sign", text: "write to kevin.nguyen＠example.com", secrets: ["kevin.nguyen", "example.com"]),
        Case(
            mode: "zero-width characters", text: "email: ja\u{200B}mes.wil\u{200C}son@exa\u{200D}mple.org",
            secrets: ["mes.wil", "mple.org", "ja\u{200B}mes"]),
        Case(mode: "homoglyphs", text: "reach \u{0410}nna at \u{0430}nna.k\u{043E}wal@example.com", secrets: ["nna.k", "wal@example.com"]),
        Case(
            mode: "name inside an email address", text: "from: patricia.hernandez@clinic.example",
            secrets: ["patricia", "hernandez"]),
        Case(
            mode: "same person, several spellings",
            text: "Dr. Amara Okafor called. Okafor said AMARA would follow up; amara's notes attached. Ms. Okafor agreed.",
            secrets: ["Amara", "Okafor"]),
        Case(mode: "honorific with a surname only", text: "Please ask Mr. Delacroix about it.", secrets: ["Delacroix"]),
        Case(mode: "name by context cue", text: "Hi, my name is Xochitl and I need help.", secrets: ["Xochitl"]),
        Case(mode: "sign-off", text: "Thanks for everything.\n\nRegards,\nHeather Lindqvist", secrets: ["Heather", "Lindqvist"]),
        Case(
            mode: "structured data mix",
            text: "SSN 078-05-1120, card 5500 0000 0000 0004, IBAN DE89 3704 0044 0532 0130 00, IP 192.0.2.10, MAC 00-1A-2B-3C-4D-5E",
            secrets: ["078-05-1120", "5500 0000 0000 0004", "DE89", "192.0.2.10", "00-1A-2B-3C-4D-5E"]),
        Case(
            mode: "date of birth and address", text: "DOB 1985-03-14; home 221 Baker Street, Springfield, IL 62704",
            secrets: ["1985-03-14", "221 Baker Street", "62704"]),
        Case(
            mode: "organisation", text: "Invoice from Globex Corporation and Umbrella Holdings Ltd.",
            secrets: ["Globex", "Umbrella Holdings"]),
    ]

    @Test(arguments: cases)
    func noSecretSurvives(_ leak: Case) {
        var session = ScrubSession(id: "leak", expiresAt: .infinity)
        let scrubbed = RedactionTests.scrubber.scrub(leak.text, session: &session).text
        for secret in leak.secrets {
            #expect(!scrubbed.lowercased().contains(secret.lowercased()), "LEAK (\(leak.mode)): '\(secret)' in: \(scrubbed)")
        }
        // Whatever was scrubbed comes back exactly, every spelling of a person as it was written.
        let back = Rehydrator.rehydrate(scrubbed, session: session)
        #expect(back.unresolved.isEmpty)
        #expect(back.text == leak.text, "\(scrubbed)")
    }
}
