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
            try await client.execute(
                uri: "/api/swaps", method: .post,
                headers: [.authorization: "Bearer \(chatKey)", .contentType: "application/json"], body: swap
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("lacks the `admin` scope"))
            }
            try await client.execute(
                uri: "/api/swaps", method: .post,
                headers: [.authorization: "Bearer \(adminKey)", .contentType: "application/json"], body: swap
            ) { response in
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
        let file =
            try Data(contentsOf: URL(fileURLWithPath: data + "/sparkdeck.sqlite"))
            + ((try? Data(contentsOf: URL(fileURLWithPath: data + "/sparkdeck.sqlite-wal"))) ?? Data())
        #expect(file.range(of: Data(key.utf8)) == nil, "the key itself is never written")
        #expect(file.range(of: Data(APIKeyStore.hash(key).utf8)) != nil)
    }

    @Test func everyRouteHasTheScopeItShouldNeed() throws {
        // Every route SparkDeck serves, decided here one by one: a new route fails this test until someone decides.
        let expected: [String: APIScope?] = [
            "GET /healthz": nil, "GET /readyz": nil, "GET /metrics": nil, "GET /openapi.json": nil, "GET /api/version": nil,
            "GET /api/status": nil, "GET /api/events": nil, "GET /api/models": nil, "GET /api/connectivity": nil,
            "GET /api/activity": nil, "GET /api/activity/log": nil, // counts and a log of routes and statuses, no bodies
            "GET /api/guidance": nil,
            // A sweep's levels and proposals: timings and limits, no request bodies. Starting, cancelling and
            // applying one loads the GPUs or changes the gates: admin.
            "GET /api/capacity/sweeps": nil, "GET /api/capacity/sweeps/{id}": nil,
            "POST /api/capacity/sweeps": .admin, "DELETE /api/capacity/sweeps/{id}": .admin,
            "POST /api/capacity/sweeps/{id}/apply": .admin,
            "GET /api/swaps": nil, "GET /api/swaps/{id}": nil,
            "GET /api/actions": .admin, // an action's output can hold anything its command printed
            "POST /api/swaps": .admin, "POST /api/swaps/{id}/cancel": .admin, "POST /api/actions/{id}": .admin,
            "GET /api/logs/{service}": .admin, // a log can hold prompts and transcripts
            "GET /v1/models": .chat, "POST /v1/chat/completions": .chat, "POST /v1/completions": .chat,
            "POST /scrub": .redaction, "POST /rehydrate": .redaction, "DELETE /scrub/sessions/{id}": .redaction,
            "POST /v1/private/chat/completions": .redaction,
            "GET /v1/audio/voices": .audio, "POST /v1/audio/speech": .audio, "POST /v1/audio/transcriptions": .audio,
            "POST /v1/audio/diarizations": .audio, "GET /v1/audio/jobs/{id}": .audio, "DELETE /v1/audio/jobs/{id}": .audio,
            "POST /v1/embeddings": .embeddings, "POST /v1/embeddings/sparse": .embeddings, "POST /v1/rerank": .embeddings,
            "GET /v1/search/collections": .search, "PUT /v1/search/collections/{name}": .search,
            "DELETE /v1/search/collections/{name}": .search, "POST /v1/search/collections/{name}/documents": .search,
            "DELETE /v1/search/collections/{name}/documents": .search, "POST /v1/search/collections/{name}/query": .search,
        ]
        let routes = buildRouter(try APITests.dependencies()).routes
        var seen = Set<String>()
        for route in routes {
            let key = "\(route.method) \(route.path)"
            let scope = APIKeyMiddleware<BasicRequestContext>.requiredScope(method: route.method, route: route.path.description)
            if route.method == .get, key == "GET /" || [".js", ".css", ".html", ".svg", ".png"].contains(where: key.hasSuffix) {
                #expect(scope == nil, "the dashboard's files are open: \(key)")
                continue
            }
            seen.insert(key)
            guard let want = expected[key] else {
                Issue.record("no scope decided for \(key): add it to this test")
                continue
            }
            #expect(scope == want, "\(key)")
        }
        #expect(seen == Set(expected.keys), "routes in this test that are not served: \(Set(expected.keys).subtracting(seen))")
        // Routes the contract names that are not built yet get their scope from their prefix.
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, route: "/v1/audio/transcriptions") == .audio)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, route: "/v1/embeddings/sparse") == .embeddings)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, route: "/v1/rerank") == .embeddings)
        #expect(APIKeyMiddleware<BasicRequestContext>.requiredScope(method: .post, route: "/v1/search/collections/{name}/query") == .search)
    }

    @Test func aPathWrittenDifferentlyNeedsTheSameKey() async throws {
        let dependencies = try APITests.dependencies()
        let (chatKey, _) = try await dependencies.keys.create(name: "app", scopes: [.chat])
        try await APITests.app(dependencies).test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            let swap = ByteBuffer(string: #"{"model":"x","confirm":true}"#)
            // The router reads empty segments and a trailing slash as absent; the key check must read them the same.
            for uri in ["//api/swaps", "/api//swaps", "/api/swaps/", "//api//swaps//"] {
                try await client.execute(uri: uri, method: .post, headers: json, body: swap) { response in
                    #expect(response.status == .unauthorized, "\(uri)")
                }
            }
            for uri in ["//v1/models", "/v1//models", "/v1/models/"] {
                try await client.execute(uri: uri, method: .get) { #expect($0.status == .unauthorized, "\(uri)") }
            }
            try await client.execute(uri: "/api//logs/asr", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(
                uri: "/rehydrate/", method: .post, headers: json,
                body: ByteBuffer(string: #"{"text":"x","session_id":"s"}"#)
            ) {
                #expect($0.status == .unauthorized)
            }
            // A chat key does not reach the private endpoint by a doubled slash in the middle.
            try await client.execute(
                uri: "/v1//private/chat/completions", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(chatKey)"],
                body: ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("`redaction` scope"))
            }
            try await client.execute(uri: "//v1/models", method: .get, headers: [.authorization: "Bearer \(chatKey)"]) {
                #expect($0.status == .ok, "the same route with its key")
            }
        }
    }

    @Test func keysThatCannotBeReadNeverOpenTheAPI() async throws {
        let dependencies = try APITests.dependencies()
        let (chatKey, _) = try await dependencies.keys.create(name: "app", scopes: [.chat])
        #expect(await dependencies.keys.lookup(chatKey) != nil)
        // The store becomes unreadable after a good read: the last good view stays.
        try await dependencies.store.database.write { db in try db.execute(sql: "ALTER TABLE api_key RENAME TO api_key_gone") }
        await dependencies.keys.invalidate()
        #expect(await dependencies.keys.isOpen() == false)
        #expect(await dependencies.keys.lookup(chatKey) != nil)

        // Never read successfully: every request that needs a key gets a 503 that says why; open routes stay open.
        let broken = try APITests.dependencies()
        try await broken.store.database.write { db in try db.execute(sql: "ALTER TABLE api_key RENAME TO api_key_gone") }
        #expect(await broken.keys.activeKeys() == nil)
        #expect(await broken.keys.isOpen() == false)
        let app = APITests.app(broken)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer \(chatKey)"]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "2")
                #expect(String(buffer: response.body).contains("api_keys_unreadable"))
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }
}
