import Foundation
import Hummingbird

/// `/api/capacity/sweeps`: start a capacity sweep (confirmed), follow it, cancel it, and apply what it proposes
/// (confirmed again).
struct CapacityController {
    let sweeps: CapacitySweeps

    /// The body of `POST /api/capacity/sweeps`.
    struct StartRequest: Decodable {
        var services: [String]?
        var maxConcurrency: Int?
        var requestsPerClient: Int?
        var confirm: Bool?

        enum CodingKeys: String, CodingKey {
            case services, confirm
            case maxConcurrency = "max_concurrency"
            case requestsPerClient = "requests_per_client"
        }
    }

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/capacity/sweeps") { request, _ in
            let limit = try ActivityController.integer(
                request.uri.queryParameters["limit"].map(String.init), name: "limit", in: 1...SweepStore.kept, default: 10)
            return SweepList(sweeps: try await sweeps.recent(limit: limit))
        }
        router.post("/api/capacity/sweeps") { request, context in
            let (bytes, scan) = try await JSONBody.scan(request, context: context, limit: 64 * 1024)
            let confirmed = try Confirmation.read(scan)
            let body = try JSONBody.decode(StartRequest.self, from: bytes)
            do throws(SweepRequestError) {
                let sweep = try await sweeps.start(
                    serviceIDs: body.services, maxConcurrency: body.maxConcurrency, requestsPerClient: body.requestsPerClient,
                    confirm: confirmed)
                return EditedResponse(status: .accepted, headers: [.location: "/api/capacity/sweeps/\(sweep.id)"], response: sweep)
            } catch {
                throw Self.apiError(error)
            }
        }
        router.get("/api/capacity/sweeps/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let sweep = try await sweeps.sweep(id) else { throw Self.apiError(.notFound(id)) }
            var previous: CapacitySweep?
            if let previousID = sweep.previousID { previous = try await sweeps.sweep(previousID) }
            return SweepAnswer(sweep: sweep, previous: previous)
        }
        router.delete("/api/capacity/sweeps/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let sweep = try await sweeps.sweep(id) else { throw Self.apiError(.notFound(id)) }
            guard await sweeps.cancel(id) else {
                throw APIError(
                    .conflict, type: "conflict", code: "sweep_not_running", message: "Sweep \(id) is \(sweep.state.rawValue), not running.")
            }
            return EditedResponse(status: .accepted, response: sweep)
        }
        router.post("/api/capacity/sweeps/:id/apply") { request, context in
            let id = try context.parameters.require("id")
            let confirmed = try Confirmation.read(try await JSONBody.scan(request, context: context, limit: 64 * 1024).body)
            do throws(SweepRequestError) {
                return try await sweeps.apply(id, confirm: confirmed)
            } catch {
                throw Self.apiError(error)
            }
        }
    }

    static func apiError(_ error: SweepRequestError) -> APIError {
        switch error {
        case .notConfirmed(let plan):
            return .invalidRequest("\(plan) Send \"confirm\": true to go ahead.", param: "confirm")
        case .swapRunning(let message):
            return APIError(.conflict, type: "conflict", code: "swap_running", message: message)
        case .sweepRunning(let message):
            return APIError(.conflict, type: "conflict", code: "sweep_running", message: message)
        case .unknownService(let id, let known):
            return .invalidRequest(
                "No service '\(id)' a sweep can measure; these can: \(known.joined(separator: ", ")).", param: "services")
        case .invalid(let message, let param):
            return .invalidRequest(message, param: param)
        case .notFound(let id):
            return .notFound("No capacity sweep '\(id)'; GET /api/capacity/sweeps lists them.")
        case .cannotApply(let message):
            return APIError(.conflict, type: "conflict", code: "sweep_not_applicable", message: message)
        }
    }
}

extension CapacitySweep: ResponseEncodable {}
extension CapacitySweeps.Application: ResponseEncodable {}

/// The answer of `GET /api/capacity/sweeps`.
struct SweepList: ResponseEncodable {
    var sweeps: [CapacitySweep]
}

/// The answer of `GET /api/capacity/sweeps/{id}`: the sweep, and the one before it to compare with.
struct SweepAnswer: ResponseEncodable {
    var sweep: CapacitySweep
    var previous: CapacitySweep?
}
