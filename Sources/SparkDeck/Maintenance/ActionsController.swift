import Foundation
import Hummingbird

/// `/api/actions`: the inventory's maintenance actions, run only after the owner confirms.
struct ActionsController {
    let actions: MaintenanceActions

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/actions") { _, _ in
            let entries = try await actions.list().map { action, run in
                JSONValue.object([
                    "id": .string(action.id), "name": .string(action.name), "node": .string(action.node),
                    "description": .string(action.description),
                    "timeout_seconds": .number(Double(action.timeoutSeconds)),
                    "running": .bool(run?.isRunning ?? false),
                    "last_run": run?.json() ?? .null,
                ])
            }
            return Response.json(.object(["actions": .array(entries)]))
        }
        router.post("/api/actions/:id") { request, context in
            let id = try context.parameters.require("id")
            let confirmed = try Confirmation.read(try await JSONBody.scan(request, context: context, limit: 64 * 1024).body)
            do throws(ActionRequestError) {
                let run = try await actions.run(id, confirm: confirmed)
                return Response.json(run.json())
            } catch {
                throw Self.apiError(error)
            }
        }
    }

    static func apiError(_ error: ActionRequestError) -> APIError {
        switch error {
        case .unknownAction(let id, let known):
            return .notFound(
                "No action '\(id)' in the inventory; "
                    + (known.isEmpty ? "it defines none (`actions:`)." : "known actions: \(known.joined(separator: ", "))."))
        case .notConfirmed(let action):
            return .invalidRequest(
                "\(action.name) runs on \(action.node): \(action.description) Send \"confirm\": true to go ahead.", param: "confirm")
        case .alreadyRunning(let runID):
            return APIError(
                .conflict, type: "conflict", code: "action_running",
                message: "This action is already running (run \(runID)); wait for it to end (GET /api/actions shows it).")
        }
    }
}
