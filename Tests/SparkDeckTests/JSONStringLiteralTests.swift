import Testing

@testable import SparkDeck

/// The JSON string codec `sparkdeck scrub --jsonl` reads and writes lines with.
@Suite("JSON string literal")
struct JSONStringLiteralTests {
    @Test(arguments: ["plain", "quote \" and backslash \\", "line\nbreak\ttab\r", "é ü 日本 🚀", "\u{01}\u{1F}", ""])
    func roundTrips(text: String) throws {
        var bytes: [UInt8] = []
        JSONStringLiteral.encode(text, into: &bytes)
        #expect(try JSONStringLiteral.decode(bytes) == text)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONStringLiteral.decode(Array(#" "a\u00e9\ud83d\ude80\/b" "#.utf8)) == "aé🚀/b")
    }

    @Test(arguments: [#"abc"#, #""abc"#, #""a"b""#, #""\x""#, #""\u12""#])
    func rejectsWhatIsNotAString(line: String) {
        #expect(throws: JSONStringLiteral.Malformed.self) { try JSONStringLiteral.decode(Array(line.utf8)) }
    }
}
