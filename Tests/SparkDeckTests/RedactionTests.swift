import Foundation
import Testing

@testable import SparkDeck

/// Detectors, placeholders and rehydration (pure), and the vault.
@Suite("Redaction")
struct RedactionTests {
    static let scrubber = Scrubber(names: try! PersonNameDetector.bundled(), standingTerms: ["Project Nightjar"])

    func scrub(_ text: String, session: inout ScrubSession, custom: [String] = []) -> ScrubResult {
        Self.scrubber.scrub(text, session: &session, customTerms: custom)
    }

    func scrub(_ text: String) -> ScrubResult {
        var session = ScrubSession(id: "test-session", expiresAt: .infinity)
        return scrub(text, session: &session)
    }

    func types(_ text: String) -> [EntityType] { scrub(text).entities.map(\.type) }

    @Test(arguments: [
        ("mail maria.gonzalez@example.co.uk now", EntityType.email),
        ("call 630-596-1111 today", .phone),
        ("call630-596-1111", .phone),
        ("ring (312) 555-0188", .phone),
        ("+1 415 555 2671", .phone),
        ("+44 20 7946 0958", .phone),
        ("+49 (0)30 12345678", .phone),
        ("0049 30 12345678", .phone),
        ("card 4111 1111 1111 1111", .creditCard),
        ("card 5500-0000-0000-0004", .creditCard),
        ("SSN 078-05-1120", .ssn),
        ("ssn: 078051120", .ssn),
        ("IBAN GB82 WEST 1234 5698 7654 32", .iban),
        ("from 192.0.2.44.", .ipAddress),
        ("from 2001:db8::8a2e:370:7334", .ipAddress),
        ("see https://example.org/a?b=c, ok", .url),
        ("mac 00:1A:2B:3C:4D:5E", .macAddress),
        ("btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", .cryptoAddress),
        ("btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", .cryptoAddress),
        ("eth 0x52908400098527886E0F7030069857D2E4169EE7", .cryptoAddress),
        ("DOB: 03/14/1985", .dateOfBirth),
        ("she was born on March 14, 1985", .dateOfBirth),
        ("lives at 1600 Pennsylvania Avenue NW", .address),
        ("Springfield, IL 62704", .zipCode),
        ("works at Initech Solutions LLC", .organization),
        ("signed by Acme GmbH", .organization),
    ])
    func detectsEachStructuredType(text: String, type: EntityType) {
        #expect(types(text).contains(type), "\(text) -> \(scrub(text).text)")
    }

    @Test(arguments: [
        "card 4111 1111 1111 1112", // fails Luhn
        "SSN 000-12-3456", "SSN 666-12-3456", "SSN 912-12-3456", "SSN 123-00-4567", "SSN 123-45-0000",
        "IBAN GB82 WEST 1234 5698 7654 33", // fails mod-97
        "version 1.2.3.4.5", "the ratio 3:4:5",
        "btc 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", // bad checksum
        "Will you call me in May?",
        "Visit June 01, 2025; approved on January 9th. Reply by Wednesday.",
    ])
    func rejectsLookAlikes(text: String) {
        #expect(scrub(text).entities.isEmpty, "\(text) -> \(scrub(text).text)")
    }

    @Test func oneValueOnePlaceholderAcrossCallsAndSpellings() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let first = scrub("Maria Gonzalez wrote from maria@example.com; call (630) 596-1111.", session: &session)
        let second = scrub("MARIA replied. Maria's mail MARIA@EXAMPLE.COM, phone 630.596.1111.", session: &session)
        #expect(first.text == "<PERSON_1> wrote from <EMAIL_1>; call <PHONE_1>.")
        // One person, one number; each spelling its own placeholder, so the text comes back as written.
        #expect(second.text == "<PERSON_1_FIRST> replied. <PERSON_1_FIRST_2>'s mail <EMAIL_1_2>, phone <PHONE_1_2>.")
        #expect(
            Rehydrator.rehydrate(second.text, session: session).text == "MARIA replied. Maria's mail MARIA@EXAMPLE.COM, phone 630.596.1111."
        )
        #expect(session.values["<PERSON_1>"] == "Maria Gonzalez")
    }

    /// Sessions are stored as JSON in the vault: the stored shape stays `{"TYPE|identity": placeholder}` and
    /// `{"TYPE": last number}`, so sessions saved by an earlier SparkDeck still work.
    @Test func monthNamesAreNamesOutsideDates() {
        #expect(scrub("April Smith booked the room for June 3.").text == "<PERSON_1> booked the room for June 3.")
    }

    @Test func sessionsKeepTheirStoredShape() throws {
        var session = ScrubSession(id: "s", expiresAt: 100)
        _ = scrub("Maria Gonzalez, maria@example.com", session: &session)
        let object = try #require(JSONSerialization.jsonObject(with: try JSONEncoder().encode(session)) as? [String: Any])
        #expect((object["keys"] as? [String: String])?["PERSON|maria gonzalez"] == "<PERSON_1>")
        #expect((object["keys"] as? [String: String])?["EMAIL|maria@example.com"] == "<EMAIL_1>")
        #expect((object["counters"] as? [String: Int]) == ["PERSON": 1, "EMAIL": 1])

        let stored =
            #"{"id":"old","values":{"<PERSON_1>":"Maria Gonzalez"},"keys":{"PERSON|maria gonzalez":"<PERSON_1>"},"counters":{"PERSON":1},"reserved":[],"knownNames":{"maria":"maria gonzalez","gonzalez":"maria gonzalez"},"expiresAt":100}"#
        var restored = try JSONDecoder().decode(ScrubSession.self, from: Data(stored.utf8))
        let later = scrub("Maria Gonzalez met John Smith.", session: &restored)
        #expect(later.text == "<PERSON_1> met <PERSON_2>.", "the stored mapping and counter carry on")
        #expect(try JSONDecoder().decode(ScrubSession.self, from: try JSONEncoder().encode(restored)) == restored)
    }

    @Test func textThatLooksLikeAPlaceholderIsReserved() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let result = scrub("Template <PERSON_1> for John Smith", session: &session)
        #expect(result.text == "Template <PERSON_1> for <PERSON_2>")
        let (back, unresolved) = Rehydrator.rehydrate(result.text, session: session)
        #expect(back == "Template <PERSON_1> for John Smith", "the user's own <PERSON_1> is never filled with a value")
        #expect(unresolved == ["<PERSON_1>"])
    }

    @Test func rehydrationToleratesWhatModelsDoOnlyForKnownPlaceholders() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        _ = scrub("Ask Maria Gonzalez at maria@example.com", session: &session)
        let answer = "Dear [PERSON_1], I wrote to <email_1>. PERSON_1 agreed; <person_1 > too. ITEM_2 and <PHONE_9> stay."
        let (text, unresolved) = Rehydrator.rehydrate(answer, session: session)
        #expect(
            text
                == "Dear Maria Gonzalez, I wrote to maria@example.com. Maria Gonzalez agreed; Maria Gonzalez too. ITEM_2 and <PHONE_9> stay."
        )
        #expect(unresolved == ["<PHONE_9>"])
    }

    @Test func homoglyphsZeroWidthAndFullWidthAreSeenThrough() {
        let cyrillic = "write to j\u{043E}hn@ex\u{0430}mple.com"
        #expect(scrub(cyrillic).text == "write to <EMAIL_1>")
        #expect(scrub("mail jo\u{200B}hn@exam\u{200D}ple.com").text == "mail <EMAIL_1>")
        #expect(scrub("mail john\u{FF20}example.com").text == "mail <EMAIL_1>")
        #expect(scrub("call 630\u{2011}596\u{2011}1111").text == "call <PHONE_1>")
    }

    @Test func customAndStandingTerms() {
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let result = scrub("Project Nightjar ships with Bluefin for PROJECT NIGHTJAR.", session: &session, custom: ["Bluefin"])
        #expect(result.text == "<CUSTOM_1> ships with <CUSTOM_2> for <CUSTOM_1_2>.", "one term, two spellings")
    }

    @Test func aValueFoundInsideALongerOneIsNeverLeftHalfScrubbed() {
        let scrubber = Scrubber(names: Self.scrubber.names, standingTerms: ["Gonzalez"])
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let mail = scrubber.scrub("Write to maria.gonzalez@example.com today.", session: &session)
        #expect(mail.text == "Write to <EMAIL_1> today.")
        let link = scrubber.scrub("See https://example.com/contact?to=maria@example.com for details.", session: &session)
        #expect(link.text == "See <URL_1> for details.")
        #expect(
            Rehydrator.rehydrate(link.text, session: session).text == "See https://example.com/contact?to=maria@example.com for details.")
    }

    @Test func vaultEncryptsExpiresDeletesAndSurvivesARestart() async throws {
        let data = try TestSupport.temporaryDirectory()
        var session = ScrubSession(id: "vault-test-1", expiresAt: Timestamp.now() + 60)
        _ = scrub("Maria Gonzalez, maria@example.com", session: &session)
        let vault = try PlaceholderVault(store: try Store(dataDirectory: data), dataDirectory: data)
        try await vault.save(session)
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/vault.key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let onDisk =
            (FileManager.default.contents(atPath: data + "/sparkdeck.sqlite") ?? Data())
            + (FileManager.default.contents(atPath: data + "/sparkdeck.sqlite-wal") ?? Data())
        #expect(onDisk.range(of: Data("maria@example.com".utf8)) == nil, "no original is stored in the clear")
        #expect(onDisk.range(of: Data("Gonzalez".utf8)) == nil)

        let reopened = try PlaceholderVault(store: try Store(dataDirectory: data), dataDirectory: data)
        #expect(try await reopened.session("vault-test-1") == session, "a restart loses nothing")
        #expect(try await reopened.session("vault-test-1", now: Timestamp.now() + 120) == nil, "expired sessions are gone")

        var second = ScrubSession(id: "vault-test-2", expiresAt: Timestamp.now() + 60)
        _ = scrub("John Smith", session: &second)
        try await reopened.save(second)
        #expect(try await reopened.delete("vault-test-2"))
        #expect(try await reopened.session("vault-test-2") == nil)
        #expect(try await !reopened.delete("vault-test-2"))
    }
}

/// Overlap resolution is pure: it runs only inside groups of findings that overlap each other, and must give what
/// one priority pass over all findings gives.
@Suite("Overlap resolution")
struct OverlapResolutionTests {
    /// The rule written plainly: by priority, then length, then order found; keep what overlaps nothing kept. Where a
    /// finding that lost is not covered whole by those kept, its group (the findings joined to it by overlaps) becomes
    /// one span: the finding that spans the group, or else the winner widened over it.
    static func reference(_ findings: [Finding]) -> [Finding] {
        let order = findings.indices.filter { !findings[$0].range.isEmpty }.sorted { a, b in
            let (x, y) = (findings[a], findings[b])
            if x.type.priority != y.type.priority { return x.type.priority > y.type.priority }
            if x.range.count != y.range.count { return x.range.count > y.range.count }
            return a < b
        }
        var kept: [Int] = []
        for index in order where !kept.contains(where: { findings[$0].range.overlaps(findings[index].range) }) { kept.append(index) }
        var groups: [[Int]] = order.map { [$0] }
        var merged = true
        while merged {
            merged = false
            search: for a in groups.indices {
                for b in groups.indices where b > a {
                    if groups[a].contains(where: { x in groups[b].contains { findings[x].range.overlaps(findings[$0].range) } }) {
                        groups[a] += groups.remove(at: b)
                        merged = true
                        break search
                    }
                }
            }
        }
        var result: [Finding] = []
        for group in groups {
            let keptHere = group.filter(kept.contains)
            let coveredBytes = Set(keptHere.flatMap { findings[$0].range })
            if group.allSatisfy({ findings[$0].range.allSatisfy(coveredBytes.contains) }) {
                result += keptHere.map { findings[$0] }
                continue
            }
            let union = group.map { findings[$0].range.lowerBound }.min()!..<group.map { findings[$0].range.upperBound }.max()!
            let ranked = order.filter(group.contains)
            if let outer = ranked.first(where: { findings[$0].range == union }) {
                result.append(findings[outer])
            } else {
                result.append(Finding(type: findings[ranked[0]].type, range: union, isUnion: true))
            }
        }
        return result.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    @Test func aChainKeepsTheEndsWhenTheyCoverTheMiddle() {
        // email overlaps phone overlaps person; the email wins, the phone loses to it, the person stays and covers the rest.
        let findings = [Finding(type: .person, range: 10..<30), Finding(type: .phone, range: 8..<20), Finding(type: .email, range: 0..<10)]
        #expect(Scrubber.withoutOverlaps(findings).map(\.type) == [.email, .person])
    }

    @Test func aChainWithAnUncoveredMiddleBecomesOneSpan() {
        // The phone's bytes 10..<18 lie in neither winner: the three become one span.
        let findings = [Finding(type: .person, range: 18..<30), Finding(type: .phone, range: 8..<20), Finding(type: .email, range: 0..<10)]
        #expect(Scrubber.withoutOverlaps(findings) == [Finding(type: .email, range: 0..<30, isUnion: true)])
    }

    @Test func aLongerFindingKeepsItsTypeOverAShorterOneOfHigherPriority() {
        let findings = [Finding(type: .email, range: 5..<31), Finding(type: .custom, range: 11..<19)]
        #expect(Scrubber.withoutOverlaps(findings) == [Finding(type: .email, range: 5..<31)])
    }

    @Test func findingsThatShareOneOriginalCharacterBecomeOneSpan() {
        // `‥` is one character in the text and two full stops for the detectors: the two terms do not overlap there,
        // but both hold a byte of it. Each must be covered; none of `Vega` may stay behind.
        var session = ScrubSession(id: "s", expiresAt: .infinity)
        let text = "Note: Orion\u{2025}Vega."
        let result = RedactionTests.scrubber.scrub(text, session: &session, customTerms: ["Orion.", ".Vega"])
        #expect(result.text == "Note: <CUSTOM_1>.")
        #expect(Rehydrator.rehydrate(result.text, session: session).text == text)
    }

    @Test func matchesOnePassOverAllFindings() {
        var generator = SeededGenerator(seed: 7)
        let types = EntityType.allCases
        for _ in 0..<500 {
            let findings = (0..<Int.random(in: 0...12, using: &generator)).map { _ -> Finding in
                let start = Int.random(in: 0..<60, using: &generator)
                return Finding(
                    type: types.randomElement(using: &generator)!, range: start..<(start + Int.random(in: 0...12, using: &generator)))
            }
            #expect(Scrubber.withoutOverlaps(findings) == Self.reference(findings), "\(findings)")
        }
    }
}

/// SplitMix64: the same random findings on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
