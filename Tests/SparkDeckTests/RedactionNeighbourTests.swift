import Foundation
import Testing

@testable import SparkDeck

/// Personal data written next to other text (digits, a label, accents, combining marks) that once slipped past the
/// detectors, and placeholders that once came back as the wrong value.
@Suite("Redaction next to other text")
struct RedactionNeighbourTests {
    func scrub(_ text: String, session: inout ScrubSession, custom: [String] = []) -> ScrubResult {
        RedactionTests.scrubber.scrub(text, session: &session, customTerms: custom)
    }

    func scrub(_ text: String, custom: [String] = []) -> ScrubResult {
        var session = ScrubSession(id: "test-session", expiresAt: .infinity)
        return scrub(text, session: &session, custom: custom)
    }

    @Test(arguments: [
        ("card 4111 1111 1111 1111 123", "card <CREDIT_CARD_1> 123"),
        ("Qty 2 4111 1111 1111 1111", "Qty 2 <CREDIT_CARD_1>"),
        ("Qty 2 4111111111111111", "Qty 2 <CREDIT_CARD_1>"),
        ("card 4111-1111-1111-1111-123, ok", "card <CREDIT_CARD_1>-123, ok"),
    ])
    func aCardNextToOtherDigitsIsFound(text: String, scrubbed: String) {
        #expect(scrub(text).text == scrubbed)
    }

    @Test(arguments: [
        "order 94111111111111111", // a card's digits inside one longer number
        "lotto 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 9", // small numbers, a Luhn-valid stretch among them
    ])
    func digitsThatOnlyContainACardOutOfLineAreNoCard(text: String) {
        #expect(scrub(text).entities.isEmpty, "\(text) -> \(scrub(text).text)")
    }

    @Test(arguments: [
        ("IP:2001:db8::1", "IP:<IP_ADDRESS_1>"),
        ("ipv6:2001:0db8:85a3:0000:0000:8a2e:0370:7334 is up", "ipv6:<IP_ADDRESS_1> is up"),
        ("addr:fe80::1%eth0.", "addr:<IP_ADDRESS_1>."),
    ])
    func anIPv6AddressRightAfterALabelIsFound(text: String, scrubbed: String) {
        #expect(scrub(text).text == scrubbed)
    }

    @Test(arguments: [
        ("mail josé@example.com", "mail <EMAIL_1>"),
        ("write to info@müller.de today", "write to <EMAIL_1> today"),
        ("müller@firma.de", "<EMAIL_1>"),
        ("an François.Dupré@société.fr.", "an <EMAIL_1>."),
    ])
    func anEmailWithAccentedLettersIsFoundWhole(text: String, scrubbed: String) {
        #expect(scrub(text).text == scrubbed)
    }

    @Test func decomposedAccentsAreReadAsTheLettersTheyMake() {
        #expect(scrub("Rene\u{301}e Smith called.").text == "<PERSON_1> called.")
        #expect(scrub("Maria Gonza\u{331}lez called.").text == "<PERSON_1> called.", "a mark with no precomposed letter")
        #expect(scrub("Herr Mu\u{308}ller kommt.", custom: ["Müller"]).text == "Herr <CUSTOM_1> kommt.")
        #expect(scrub("Herr Müller kommt.", custom: ["Mu\u{308}ller"]).text == "Herr <CUSTOM_1> kommt.")
    }

    @Test func spansAroundEmojiAndCJKMapBackExactly() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let text = "👨‍👩‍👧 Rene\u{301}e Smith 👍🏽 请联系 josé@example.com\r\n谢谢"
        let result = scrub(text, session: &session)
        #expect(result.text == "👨‍👩‍👧 <PERSON_1> 👍🏽 请联系 <EMAIL_1>\r\n谢谢")
        #expect(Rehydrator.rehydrate(result.text, session: session).text == text)
    }

    @Test func phonesThatShareTheirLastTenDigitsAreDifferentNumbers() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        #expect(scrub("UK +44 20 7946 0958", session: &session).text == "UK <PHONE_1>")
        #expect(scrub("US (207) 946-0958", session: &session).text == "US <PHONE_2>")
        #expect(
            scrub("+1 415 555 2671 or (415) 555-2671", session: &session).text == "<PHONE_3> or <PHONE_3_2>",
            "one number, written two ways")
        #expect(Rehydrator.rehydrate("<PHONE_1>, <PHONE_2>", session: session).text == "+44 20 7946 0958, (207) 946-0958")
    }

    @Test func aPersonComesBackAsTheFullNameWhenASurnameCameFirst() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let result = scrub("Gonzalez wrote back. Maria Gonzalez agreed.", session: &session)
        #expect(result.text == "<PERSON_1_LAST> wrote back. <PERSON_1> agreed.")
        #expect(session.values["<PERSON_1>"] == "Maria Gonzalez")
        _ = scrub("GONZALEZ again.", session: &session)
        #expect(Rehydrator.rehydrate("Ask <PERSON_1>.", session: session).text == "Ask Maria Gonzalez.")
    }
}
