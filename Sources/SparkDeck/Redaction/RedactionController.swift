import Foundation
import Hummingbird

/// `/scrub`, `/rehydrate` and `DELETE /scrub/sessions/{id}`.
struct RedactionController {
    let scrubber: Scrubber
    let vault: PlaceholderVault

    static let defaultTTL = 3600.0
    static let maxTTL = 7 * 24 * 3600.0
    static let bodyLimit = 4 * 1024 * 1024
    static let sessionIDPattern = try! NSRegularExpression(pattern: #"^[A-Za-z0-9_\-]{8,128}$"#)

    func addRoutes(to router: Router<some RequestContext>) {
        router.post("/scrub") { request, context in try await scrub(request, context: context) }
        router.post("/rehydrate") { request, context in try await rehydrate(request, context: context) }
        router.delete("/scrub/sessions/:id") { _, context in
            let id = try context.parameters.require("id")
            // Under the session's lock: a scrub that loaded it before the delete cannot save it back after.
            guard try await vault.exclusively(id, { try await vault.delete(id) }) else {
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
        let terms = body.customTerms ?? []
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
                throw APIError.invalidRequest("`session_id` must be 8 to 128 letters, digits, '-' or '_'.", param: "session_id")
            }
            id = given
        } else {
            id = "scrub-" + UUID().uuidString.lowercased()
        }
        let (result, session) = try await vault.exclusively(id) {
            var session = try await vault.session(id) ?? ScrubSession(id: id, expiresAt: 0)
            session.expiresAt = Timestamp.now() + ttl
            let result = scrubber.scrub(text, session: &session, types: types, customTerms: terms)
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
        guard let session = try await vault.session(id) else {
            throw APIError.notFound("No scrub session \(id): it expired or was deleted, so its placeholders cannot be filled in.")
        }
        let (output, unresolved) = Rehydrator.rehydrate(text, session: session)
        return Response.json(.object(["text": .string(output), "unresolved": .array(unresolved.map(JSONValue.string))]))
    }

    static var typeList: String { EntityType.allCases.map(\.rawValue).joined(separator: ", ") }
}
