import Foundation
import Hummingbird

/// `/api/models` and `/api/swaps`: the model catalog and one-click swaps.
struct SwapsController {
    let inventory: Inventory
    let orchestrator: SwapOrchestrator
    let store: SwapStore

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/models") { _, _ in try await models() }
        router.post("/api/swaps") { request, context in try await start(request, context: context) }
        router.get("/api/swaps") { request, _ in try await history(request) }
        router.get("/api/swaps/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let record = await orchestrator.record(id) else { throw APIError.notFound("No swap \(id).") }
            return Response.json(record.json())
        }
        router.post("/api/swaps/:id/cancel") { request, context in
            let id = try context.parameters.require("id")
            let body = try await JSONBody.scan(request, context: context, limit: 1024 * 1024).body
            guard try Confirmation.read(body) else {
                throw APIError.invalidRequest(
                    "Cancelling stops the load and restores the previous model. Send \"confirm\": true to go ahead.", param: "confirm")
            }
            do throws(SwapRequestError) {
                return Response.json(try await orchestrator.cancel(id: id).json(), status: .accepted)
            } catch {
                throw Self.apiError(error)
            }
        }
    }

    func models() async throws -> Response {
        let active = await orchestrator.activeModelID()
        var entries: [JSONValue] = []
        for model in inventory.models {
            let last = try await store.loadSeconds(of: model.id, limit: 1).first
            entries.append(
                .object([
                    "id": .string(model.id), "name": .string(model.name), "served_name": .string(model.servedName),
                    "nodes": .array(model.nodes.map(JSONValue.string)), "memory_gib": .optional(model.memoryGiB),
                    "expected_load_seconds": .number(Double(model.expectedLoadSeconds)),
                    "last_load_seconds": .optional(last.map { ($0 * 10).rounded() / 10 }),
                    "eta_seconds": .number(await orchestrator.expectedSeconds(model).rounded()),
                    "active": .bool(model.id == active),
                ]))
        }
        return Response.json(.object(["active": .optional(active), "models": .array(entries)]))
    }

    func start(_ request: Request, context: some RequestContext) async throws -> Response {
        let body = try await JSONBody.scan(request, context: context, limit: 1024 * 1024).body
        guard let model = body.string("model"), !model.isEmpty else {
            throw APIError.invalidRequest(
                "Give the model to load: {\"model\": \"<id>\", \"confirm\": true}; ids are listed by GET /api/models.", param: "model")
        }
        let confirmed = try Confirmation.read(body)
        do throws(SwapRequestError) {
            let record = try await orchestrator.request(modelID: model, confirm: confirmed)
            var response = Response.json(record.json(), status: .accepted)
            response.headers[.location] = "/api/swaps/\(record.id)"
            return response
        } catch {
            throw Self.apiError(error)
        }
    }

    func history(_ request: Request) async throws -> Response {
        var limit = 50
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.invalidRequest("`limit` must be a whole number from 1 to 1000, got '\(text)'.", param: "limit")
            }
            limit = value
        }
        var records = try await store.history(limit: limit)
        // The running swap's newest state lives in memory until its next save.
        if let running = orchestrator.current(), let index = records.firstIndex(where: { $0.id == running.id }) {
            records[index] = running
        }
        return Response.json(.object(["swaps": .array(records.map { $0.json() })]))
    }

    static func apiError(_ error: SwapRequestError) -> APIError {
        switch error {
        case .unknownModel(let id, let known):
            return .notFound("No model '\(id)' in the inventory; known models: \(known.joined(separator: ", ")).")
        case .notConfirmed(let plan):
            return APIError.invalidRequest("\(plan) Send \"confirm\": true to go ahead.", param: "confirm")
        case .conflict(let running, let model):
            return APIError(
                .conflict, type: "conflict", code: "swap_running",
                message: "Swap \(running) to \(model) is still running; wait for it or cancel it (POST /api/swaps/\(running)/cancel).")
        case .unknownSwap(let id):
            return .notFound("No swap \(id).")
        case .alreadyEnded(let id):
            return APIError(.conflict, type: "conflict", code: "swap_ended", message: "Swap \(id) has already ended; nothing to cancel.")
        }
    }
}
