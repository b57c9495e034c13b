import Foundation
import Hummingbird
import ServiceLifecycle
import Synchronization

/// `/api/logs/{service}`: a service's log, followed live as Server-Sent Events.
///
/// Each stream runs the service's `logs` command on its node and stops it when the client leaves (found within
/// `pingInterval` even while the log is quiet).
struct ServiceLogsController {
    let inventory: Inventory
    let runners: RunnerPool
    /// The recipe id of the loaded model (a `vllm` service without its own `logs` command follows the model's).
    let activeModel: @Sendable () async -> String?
    var pingInterval: Duration = .seconds(2)

    /// Each stream holds a process on a node (an SSH session for remote ones): their number is capped.
    static let maxStreams = 16
    fileprivate static let open = Atomic<Int>(0)
    static var openStreams: Int { open.load(ordering: .relaxed) }

    /// One of the `maxStreams` places: given back when the stream ends, or when the response goes without its body
    /// ever running (Hummingbird drops a response whose head it could not write without calling the body).
    final class StreamSlot: Sendable {
        private let held = Atomic<Bool>(true)

        /// A place, or nil when all are taken.
        static func take() -> StreamSlot? {
            guard ServiceLogsController.open.add(1, ordering: .relaxed).newValue <= ServiceLogsController.maxStreams else {
                ServiceLogsController.open.subtract(1, ordering: .relaxed)
                return nil
            }
            return StreamSlot()
        }

        private init() {}

        func release() {
            if held.exchange(false, ordering: .relaxed) { ServiceLogsController.open.subtract(1, ordering: .relaxed) }
        }

        deinit { release() }
    }

    /// What follows a service's log: the command and the node it runs on.
    struct Source {
        let node: String
        let command: String
    }

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/api/logs/:service") { _, context in
            let id = try context.parameters.require("service")
            return try await stream(try await source(for: id), service: id)
        }
    }

    func source(for id: String) async throws -> Source {
        guard let service = inventory.service(id) else {
            throw APIError.notFound(
                "No service '\(id)' in the inventory; known services: \(inventory.services.map(\.id).joined(separator: ", ")).")
        }
        if let logs = service.logs { return Source(node: service.node, command: try logs.render([:])) }
        guard service.kind == .vllm else {
            throw APIError.notFound(
                "Service '\(id)' has no `logs` command in the inventory; add one, e.g. `logs: docker logs -f --tail 200 <container>`.")
        }
        guard let modelID = await activeModel(), let model = inventory.model(modelID), model.service == id,
            let node = model.nodes.first
        else {
            throw APIError.notFound(
                "No model is loaded on '\(id)', so there is no log to follow; give the service its own `logs` command to follow it anyway.")
        }
        return Source(node: node, command: try model.commands.logs.render(model.templateValues))
    }

    func stream(_ source: Source, service: String) async throws -> Response {
        guard let runner = runners.runner(for: source.node) else {
            throw APIError.notFound("No runner for node '\(source.node)'.")
        }
        guard let slot = StreamSlot.take() else {
            var error = APIError(
                .serviceUnavailable, type: "overloaded", code: "too_many_log_streams",
                message: "\(Self.maxStreams) log streams are open already; close one and try again.")
            error.headers[.retryAfter] = "5"
            throw error
        }
        let interval = pingInterval
        let opening = ServerEvent.named(
            "open",
            .object([
                "service": .string(service), "node": .string(source.node), "command": .string(source.command),
            ]))
        return Response.eventStream { writer in
            let (events, continuation) = AsyncStream.makeStream(of: ServerEvent.self, bufferingPolicy: .bufferingNewest(1024))
            let follower = Task {
                do {
                    for try await line in runner.follow(source.command) {
                        continuation.yield(.named("log", .object(["line": .string(line)])))
                    }
                    continuation.yield(.named("end", .object(["error": .null])))
                } catch {
                    continuation.yield(.named("end", .object(["error": .string("\(error)")])))
                }
                continuation.finish()
            }
            let pinger = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    continuation.yield(.ping)
                }
            }
            // However the stream ends, the command on the node goes with it.
            defer {
                follower.cancel()
                pinger.cancel()
                slot.release()
            }
            try await writer.write(ByteBuffer(string: opening.wireFormat))
            // The server waits for open responses before it stops: a followed log must end at shutdown itself.
            for await event in events.cancelOnGracefulShutdown() {
                try await writer.write(ByteBuffer(string: event.wireFormat))
            }
            try await writer.finish(nil)
        }
    }
}
