import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SparkDeck

@Suite("API keys")
struct APIKeyTests {
    @Test func openWithoutKeysThenScopedOnceAKeyExists() async throws {
        let dependencies = try APITests.dependencies()
        let app = APITests.app(dependencies)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .ok, "open while no keys exist") }

            let (chatKey, chatRecord) = try await dependencies.keys.create(name: "app", scopes: [.chat])
            let (adminKey, _) = try await dependencies.keys.create(name: "owner", scopes: [.admin])
            #expect(chatKey.hasPrefix("sdk_") && chatKey.count == 44)
            #expect(await dependencies.keys.isOpen() == false)

            try await client.execute(uri: "/v1/models", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("missing_api_key"))
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer sdk_wrong"]) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("invalid_api_key"))
            }
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer \(chatKey)"]) {
                #expect($0.status == .ok)
            }
            let swap = ByteBuffer(string: #"{"model":"x"}"#)
            try await client.execute(uri: "/api/swaps", method: .post,
                                     headers: [.authorization: "Bearer \(chatKey)", .contentType: "application/json"], body: swap) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("lacks the `admin` scope"))
            }
            try await client.execute(uri: "/api/swaps", method: .post,
                                     headers: [.authorization: "Bearer \(adminKey)", .contentType: "application/json"], body: swap) { response in
                #expect(response.status == .notFound, "admin passes; the model is unknown")
            }
            // Reading the cluster's state stays open.
            try await client.execute(uri: "/api/status", method: .get) { #expect($0.status == .ok) }

            #expect(try await dependencies.keys.revoke(id: chatRecord.id))
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer \(chatKey)"]) {
                #expect($0.status == .unauthorized, "a revoked key stops working at once in this process")
            }
            let stored = try await dependencies.keys.list()
            #expect(stored.count == 2)
            #expect(stored.first { $0.id == chatRecord.id }?.revokedAt != nil)
        }
    }

    @Test func theStoreHoldsOnlyHashes() async throws {
        let data = try TestSupport.temporaryDirectory()
        let keys = APIKeyStore(store: try Store(dataDirectory: data))
        let (key, _) = try await keys.create(name: "x", scopes: [.chat])
        let file = try Data(contentsOf: URL(fileURLWithPath: data + "/sparkdeck.sqlite"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: data + "/sparkdeck.sqlite-wal"))) ?? Data())
        #expect(file.range(of: Data(key.utf8)) == nil, "the key itself is never written")
        #expect(file.range(of: Data(APIKeyStore.hash(key).utf8)) != nil)
    }

    @Test func scopesPerRoute() {
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/v1/chat/completions") == .chat)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/v1/audio/transcriptions") == .audio)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/v1/embeddings/sparse") == .embeddings)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/scrub") == .redaction)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/api/swaps/s/cancel") == .admin)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .get, path: "/api/swaps") == nil)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, path: "/api/actions/restart-asr") == .admin)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .get, path: "/api/actions") == nil)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .get, path: "/api/logs/asr") == .admin,
                "a log can hold prompts and transcripts")
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .get, path: "/openapi.json") == nil)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .get, path: "/metrics") == nil)
    }
}
