import Foundation
import Testing

@testable import SparkDeck

/// Issue 18: a recording endpoint received the `model` string as sent (with an email and a phone), a card number
/// as `seed` and in `enum`/`default`/`examples`, and a `pattern` holding an email. Each is refused now, and nothing
/// is sent.
@Suite("Private chat fields")
struct PrivateChatFieldTests {
    static func tool(_ parameters: String) -> String {
        #""tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"p": "#
            + parameters + "}}}}]"
    }

    @Test(arguments: [
        (#""model": "gpt-4o maria@example.com""#, "model"),
        (#""model": "gpt-4o-630-596-1111""#, "model"),
        (#""model": "maria@example.com""#, "model"),
        (#""model": "m", "seed": 4111111111111111"#, "seed"),
        (
            #""model": "m", "# + PrivateChatFieldTests.tool(#"{"type": "integer", "enum": [1, 4111111111111111]}"#),
            "tools[0].function.parameters.properties.p.enum[1]"
        ),
        (
            #""model": "m", "# + PrivateChatFieldTests.tool(#"{"type": "integer", "default": 4111111111111111}"#),
            "tools[0].function.parameters.properties.p.default"
        ),
        (
            #""model": "m", "# + PrivateChatFieldTests.tool(#"{"type": "integer", "examples": [4111111111111111]}"#),
            "tools[0].function.parameters.properties.p.examples[0]"
        ),
        (
            #""model": "m", "# + PrivateChatFieldTests.tool(#"{"type": "string", "pattern": "^maria@example\\.com$"}"#),
            "tools[0].function.parameters.properties.p.pattern"
        ),
    ])
    func aFieldSentAsWrittenThatHoldsPersonalDataIsRefused(fields: String, param: String) throws {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        let json = #"{"messages": [{"role": "user", "content": "hi"}], "# + fields + "}"
        let body = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect {
            _ = try PrivateChatRequestTests.request.scrubbed(body, session: &session)
        } throws: { error in
            guard let error = error as? APIError else { return false }
            return error.param == param && error.status == .badRequest && error.message.contains("Nothing was sent")
        }
    }

    @Test func plainModelIdsAndNumbersStillGo() throws {
        var session = ScrubSession(id: "p", expiresAt: .infinity)
        let json =
            #"{"model": "org/model-7b:q4_k.m", "seed": 7, "temperature": 0.2, "messages": [{"role": "user", "content": "hi"}], "#
            + Self.tool(#"{"type": "integer", "enum": [1, 2, 3], "default": 2, "pattern": "^[a-z]+\\.txt$"}"#) + "}"
        let body = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let scrubbed = try PrivateChatRequestTests.request.scrubbed(body, session: &session)
        #expect(scrubbed["model"] as? String == "org/model-7b:q4_k.m")
        #expect((scrubbed["seed"] as? NSNumber)?.intValue == 7)
    }
}
