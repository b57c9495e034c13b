import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

@Suite("Redaction API")
struct RedactionAPITests {
    static let json: HTTPFields = [.contentType: "application/json"]

    static func post(_ client: some TestClientProtocol, _ path: String, _ body: [String: Any]) async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        let data = try JSONSerialization.data(withJSONObject: body)
        return try await client.execute(uri: path, method: .post, headers: json, body: ByteBuffer(bytes: data)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
    }

    @Test func scrubRehydrateAndForget() async throws {
        let app = APITests.app(try APITests.dependencies())
        try await app.test(.router) { client in
            let (status, scrubbed) = try await Self.post(
                client, "/scrub",
                [
                    "text": "Maria Gonzalez (maria@example.com) asked about Bluefin.", "custom_terms": ["Bluefin"],
                ])
            #expect(status == .ok)
            let text = try #require(scrubbed["text"] as? String)
            #expect(text == "<PERSON_1> (<EMAIL_1>) asked about <CUSTOM_1>.")
            let session = try #require(scrubbed["session_id"] as? String)
            let entities = try #require(scrubbed["entities"] as? [[String: String]])
            #expect(
                entities == [
                    ["placeholder": "<PERSON_1>", "type": "PERSON"], ["placeholder": "<EMAIL_1>", "type": "EMAIL"],
                    ["placeholder": "<CUSTOM_1>", "type": "CUSTOM"],
                ])
            #expect(!String(describing: scrubbed).contains("maria@example.com"), "originals are never in the response")

            let (_, again) = try await Self.post(client, "/scrub", ["text": "Write to MARIA at maria@example.com", "session_id": session])
            #expect(again["text"] as? String == "Write to <PERSON_1_FIRST> at <EMAIL_1>", "same session, same person and address")

            let (_, back) = try await Self.post(
                client, "/rehydrate", ["text": "Dear [person_1], re <EMAIL_1> and <PHONE_3>.", "session_id": session])
            #expect(back["text"] as? String == "Dear Maria Gonzalez, re maria@example.com and <PHONE_3>.")
            #expect(back["unresolved"] as? [String] == ["<PHONE_3>"])

            try await client.execute(uri: "/scrub/sessions/\(session)", method: .delete) { #expect($0.status == .noContent) }
            let (gone, error) = try await Self.post(client, "/rehydrate", ["text": "<PERSON_1>", "session_id": session])
            #expect(gone == .notFound)
            #expect(((error["error"] as? [String: Any])?["message"] as? String)?.contains("expired or was deleted") == true)
        }
    }

    @Test func entityFilterTTLAndBadInput() async throws {
        let app = APITests.app(try APITests.dependencies())
        try await app.test(.router) { client in
            let (_, onlyEmail) = try await Self.post(client, "/scrub", ["text": "John Smith, john@example.com", "entities": ["EMAIL"]])
            #expect(onlyEmail["text"] as? String == "John Smith, <EMAIL_1>")

            let (_, short) = try await Self.post(client, "/scrub", ["text": "John Smith", "ttl_seconds": 1])
            let id = try #require(short["session_id"] as? String)
            try await Task.sleep(for: .milliseconds(1300))
            let (expired, _) = try await Self.post(client, "/rehydrate", ["text": "<PERSON_1>", "session_id": id])
            #expect(expired == .notFound, "the session expired after its TTL")

            for (body, param) in [
                (["entities": ["EMAIL"]] as [String: Any], "text"), (["text": "x", "entities": ["NAMES"]], "entities"),
                (["text": "x", "ttl_seconds": 0], "ttl_seconds"), (["text": "x", "session_id": "no"], "session_id"),
                (["text": "x", "custom_terms": "Bluefin"], "custom_terms"),
            ] {
                let (status, error) = try await Self.post(client, "/scrub", body)
                #expect(status == .badRequest)
                #expect((error["error"] as? [String: Any])?["param"] as? String == param)
            }
        }
    }
}
