import Testing

@testable import SparkDeck

@Suite("Streaming rehydration")
struct StreamingRehydratorTests {
    static func session() -> ScrubSession {
        var session = ScrubSession(id: "stream", expiresAt: .infinity)
        _ = RedactionTests.scrubber.scrub("Maria Gonzalez, maria@example.com, 630-596-1111", session: &session)
        return session
    }

    static let answer = "Hi <PERSON_1>! I wrote to [EMAIL_1] and PERSON_1 will call <PHONE_1>. Unknown <PHONE_7> stays; <cat> too."

    @Test func placeholdersSplitAtEveryBoundaryComeOutWhole() {
        let session = Self.session()
        let expected = Rehydrator.rehydrate(Self.answer, session: session).text
        #expect(
            expected
                == "Hi Maria Gonzalez! I wrote to maria@example.com and Maria Gonzalez will call 630-596-1111. Unknown <PHONE_7> stays; <cat> too."
        )
        let characters = Array(Self.answer)
        for first in 0...characters.count {
            for second in stride(from: first, through: characters.count, by: 7) {
                var stream = StreamingRehydrator(session: session)
                var output = ""
                for piece in [characters[..<first], characters[first..<second], characters[second...]] {
                    let sent = stream.feed(String(piece))
                    #expect(!sent.contains("<PERSON_1") && !sent.contains("EMAIL_1"), "a placeholder went out unfilled: \(sent)")
                    output += sent
                }
                output += stream.finish()
                #expect(output == expected, "split at \(first), \(second)")
            }
        }
    }

    @Test func tokenByTokenWithNothingHeldLongerThanNeeded() {
        var stream = StreamingRehydrator(session: Self.session())
        var output = ""
        for token in ["Hello", " there", ", ", "<", "PER", "SON", "_1", ">", " and", " bye"] {
            output += stream.feed(token)
        }
        #expect(output == "Hello there, Maria Gonzalez and ", "only the last word may wait")
        output += stream.feed(".")
        #expect(output == "Hello there, Maria Gonzalez and bye.")
        #expect(stream.finish() == "")
    }
}
