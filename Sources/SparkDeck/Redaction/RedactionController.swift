import Foundation
import Hummingbird

/// `/scrub`, `/rehydrate` and `DELETE /scrub/sessions/{id}`.
struct RedactionController {
    let scrubber: Scrubber
    let vault: PlaceholderVault
    let workers: RedactionWorkers
    /// Counts each call to its app, like the gateway's routes.
    let observer: GatewayObserver

    static let defaultTTL = 3600.0
    static let maxTTL = 7 * 24 * 3600.0
    static let bodyLimit = 4 * 1024 * 1024
    static let sessionIDPattern = try! NSRegularExpression(pattern: #"^[A-Za-z0-9_\-]{16,128}$"#)
    /// The most text one `/scrub` takes (UTF-8 bytes): 2 MiB.
    static let maxTextBytes = 2 * 1024 * 1024
    /// The most `custom_terms` one `/scrub` takes, and the longest one (characters).
    static let maxTerms = 10_000
    static let maxTermCharacters = 100

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/scrub") { request, context in
            try await observer.local(route: "scrub") { try await scrub(request, context: context) }
        }
        router.post("/rehydrate") { request, context in
            try await observer.local(route: "rehydrate") { try await rehydrate(request, context: context) }
        }
        router.delete("/scrub/sessions/:id") { request, context in
            let id = try context.parameters.require("id")
            let caller = RequestCaller.of(request, context: context)
            // Under the session's lock: a scrub that loaded it before the delete cannot save it back after.
            let deleted = try await vault.exclusively(id) {
                guard let session = try await vault.session(id), session.isUsable(by: caller) else { return false }
                return try await vault.delete(id)
            }
            guard deleted else {
                throw APIError.notFound("No scrub session \(id) (it may have expired).")
            }
            return Response(status: .noContent)
        }
    }

    /// `POST /scrub`.
    struct ScrubRequest: Decodable {
        var text: String
        var sessionID: String?
        var entities: [String]?
        var customTerms: [String]?
        var ttlSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case text, entities
            case sessionID = "session_id"
            case customTerms = "custom_terms"
            case ttlSeconds = "ttl_seconds"
        }
    }

    /// `POST /rehydrate`.
    struct RehydrateRequest: Decodable {
        var text: String
        var sessionID: String

        enum CodingKeys: String, CodingKey {
            case text
            case sessionID = "session_id"
        }
    }

    func scrub(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ScrubRequest.self, request, context: context, limit: Self.bodyLimit)
        let text = body.text
        var types: Set<EntityType>?
        if let names = body.entities {
            types = []
            for name in names {
                guard let type = EntityType(rawValue: name.uppercased()) else {
                    throw APIError.invalidRequest("Unknown entity type '\(name)'; types are \(Self.typeList).", param: "entities")
                }
                types?.insert(type)
            }
        }
        guard text.utf8.count <= Self.maxTextBytes else {
            throw APIError(
                .contentTooLarge, type: "invalid_request_error", code: "text_too_large",
                message:
                    "`text` is \(text.utf8.count) bytes; /scrub takes at most \(Self.maxTextBytes) bytes (2 MiB) per call. Split it into parts and scrub them with one `session_id`.",
                param: "text")
        }
        let terms = try Self.checkedTerms(body.customTerms ?? [])
        var ttl = Self.defaultTTL
        if let seconds = body.ttlSeconds {
            guard seconds >= 1, seconds <= Self.maxTTL else {
                throw APIError.invalidRequest("`ttl_seconds` must be a number from 1 to \(Int(Self.maxTTL)).", param: "ttl_seconds")
            }
            ttl = seconds
        }
        let id: String
        if let given = body.sessionID {
            guard Self.sessionIDPattern.firstMatch(in: given, range: NSRange(location: 0, length: (given as NSString).length)) != nil else {
                throw APIError.invalidRequest("`session_id` must be 16 to 128 letters, digits, '-' or '_'.", param: "session_id")
            }
            id = given
        } else {
            id = "scrub-" + UUID().uuidString.lowercased()
        }
        let caller = RequestCaller.of(request, context: context)
        let (result, session) = try await vault.exclusively(id) {
            let stored = try await vault.session(id)
            guard stored?.isUsable(by: caller) ?? true else { throw Self.taken(id) }
            var session = stored ?? ScrubSession(id: id, expiresAt: 0)
            // A new session is the caller's.
            if stored == nil { session.owner = caller }
            session.expiresAt = Timestamp.now() + ttl
            let scrubber = self.scrubber
            let loaded = session
            let only = types
            // The CPU-heavy part, off the threads that serve requests; given up if the client leaves.
            let (result, scrubbed) = try await workers.run { stop in
                var session = loaded
                let result = scrubber.scrub(text, session: &session, types: only, customTerms: terms, stop: stop)
                return (result, session)
            }
            session = scrubbed
            // Saved before answering: a placeholder the client holds can always be rehydrated while the session lives.
            try await vault.save(session)
            return (result, session)
        }
        return Response.json(
            .object([
                "text": .string(result.text),
                "session_id": .string(session.id),
                "expires_at": .string(Timestamp.iso(session.expiresAt)),
                "entities": .array(
                    result.entities.map { .object(["placeholder": .string($0.placeholder), "type": .string($0.type.rawValue)]) }),
            ]))
    }

    func rehydrate(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.decode(RehydrateRequest.self, request, context: context, limit: Self.bodyLimit)
        let text = body.text
        let id = body.sessionID
        guard let session = try await vault.session(id), session.isUsable(by: RequestCaller.of(request, context: context)) else {
            throw APIError.notFound("No scrub session \(id): it expired or was deleted, so its placeholders cannot be filled in.")
        }
        let (output, unresolved) = Rehydrator.rehydrate(text, session: session)
        return Response.json(.object(["text": .string(output), "unresolved": .array(unresolved.map(JSONValue.string))]))
    }

    /// A session id another caller's session has: 409, and nothing of it is read or changed.
    static func taken(_ id: String) -> APIError {
        APIError(
            .conflict, type: "invalid_request_error", code: "session_id_taken",
            message: "The session id \(id) belongs to another API key or client; choose another, or leave `session_id` out for a new one.",
            param: "session_id")
    }

    /// `custom_terms` within the limits, or a 422 that says which limit.
    static func checkedTerms(_ terms: [String]) throws -> [String] {
        guard terms.count <= maxTerms else {
            throw APIError(
                .unprocessableContent, type: "invalid_request_error", code: "too_many_terms",
                message: "`custom_terms` has \(terms.count) terms; at most \(maxTerms) per call.", param: "custom_terms")
        }
        if let index = terms.firstIndex(where: { $0.count > maxTermCharacters }) {
            throw APIError(
                .unprocessableContent, type: "invalid_request_error", code: "term_too_long",
                message: "`custom_terms[\(index)]` is \(terms[index].count) characters; a term may have at most \(maxTermCharacters).",
                param: "custom_terms[\(index)]")
        }
        return terms
    }

    static var typeList: String { EntityType.allCases.map(\.rawValue).joined(separator: ", ") }
}
