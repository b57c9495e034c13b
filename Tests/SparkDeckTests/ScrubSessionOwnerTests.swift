import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SparkDeck

/// Issue 18: key A's scrub session was readable, re-timed and deletable by key B.
@Suite("Scrub session owners")
struct ScrubSessionOwnerTests {
    static func post(_ client: some TestClientProtocol, _ path: String, _ body: [String: Any], key: String) async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        let data = try JSONSerialization.data(withJSONObject: body)
        let headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(key)"]
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: data)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:])
        }
    }

    @Test func aSessionBelongsToTheKeyThatMadeIt() async throws {
        let dependencies = try APITests.dependencies()
        let (keyA, _) = try await dependencies.keys.create(name: "a", scopes: [.redaction])
        let (keyB, _) = try await dependencies.keys.create(name: "b", scopes: [.redaction])
        try await APITests.app(dependencies).test(.router) { client in
            let id = "support-chat-0001"
            let (made, scrubbed) = try await Self.post(
                client, "/scrub", ["text": "Maria Gonzalez, maria@example.com", "session_id": id], key: keyA)
            #expect(made == .ok)
            let text = try #require(scrubbed["text"] as? String)

            let (read, _) = try await Self.post(client, "/rehydrate", ["text": text, "session_id": id], key: keyB)
            #expect(read == .notFound, "key B cannot read key A's session")
            let (retimed, error) = try await Self.post(client, "/scrub", ["text": "x", "session_id": id, "ttl_seconds": 1], key: keyB)
            #expect(retimed == .conflict, "nor scrub into it (which would set its TTL)")
            #expect((error["error"] as? [String: Any])?["code"] as? String == "session_id_taken")
            try await client.execute(
                uri: "/scrub/sessions/\(id)", method: .delete, headers: [.authorization: "Bearer \(keyB)"]
            ) { #expect($0.status == .notFound, "nor delete it") }

            let (back, original) = try await Self.post(client, "/rehydrate", ["text": text, "session_id": id], key: keyA)
            #expect(back == .ok)
            #expect(original["text"] as? String == "Maria Gonzalez, maria@example.com")
            try await client.execute(
                uri: "/scrub/sessions/\(id)", method: .delete, headers: [.authorization: "Bearer \(keyA)"]
            ) { #expect($0.status == .noContent) }
        }
    }

    @Test func clientChosenIdsHaveAtLeastSixteenCharacters() async throws {
        let app = APITests.app(try APITests.dependencies())
        try await app.test(.router) { client in
            let (short, error) = try await RedactionAPITests.post(client, "/scrub", ["text": "x", "session_id": "support-chat-01"])
            #expect(short == .badRequest)
            #expect((error["error"] as? [String: Any])?["param"] as? String == "session_id")
            let (ok, _) = try await RedactionAPITests.post(client, "/scrub", ["text": "x", "session_id": "support-chat-0001"])
            #expect(ok == .ok)
        }
    }
}
