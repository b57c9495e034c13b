import Foundation
import Synchronization

/// Why an action was not started.
public enum ActionRequestError: Error, Equatable {
    case unknownAction(String, known: [String])
    /// Nothing runs without `confirm: true`; the message is what the action does.
    case notConfirmed(MaintenanceAction)
    case alreadyRunning(runID: String)
}

/// Runs the inventory's maintenance actions on their nodes: only when confirmed, one run of an action at a time,
/// each run recorded before it starts and when it ends, and announced as `action` events.
public final class MaintenanceActions: Sendable {
    let actions: [MaintenanceAction]
    let runners: RunnerPool
    let store: ActionStore
    let events: EventBroadcaster
    private let running = Mutex<[String: ActionRun]>([:])

    public init(inventory: Inventory, runners: RunnerPool, store: ActionStore, events: EventBroadcaster) throws {
        actions = inventory.actions
        self.runners = runners
        self.store = store
        self.events = events
        try store.endInterrupted()
    }

    /// Each action with its running or last run.
    public func list() async throws -> [(action: MaintenanceAction, run: ActionRun?)] {
        let last = try await store.lastRuns()
        let running = running.withLock { $0 }
        return actions.map { ($0, running[$0.id] ?? last[$0.id]) }
    }

    /// Runs action `id` to its end and returns the run. The run goes on if the caller goes away.
    public func run(_ id: String, confirm: Bool) async throws(ActionRequestError) -> ActionRun {
        guard let action = actions.first(where: { $0.id == id }) else {
            throw .unknownAction(id, known: actions.map(\.id))
        }
        guard confirm else { throw .notConfirmed(action) }
        let run = ActionRun(
            id: UUID().uuidString.lowercased(), action: action.id, node: action.node,
            startedAt: Timestamp.now(), output: "")
        if let other = running.withLock({ running -> ActionRun? in
            if let other = running[action.id] { return other }
            running[action.id] = run
            return nil
        }) {
            throw .alreadyRunning(runID: other.id)
        }
        let task = Task { await execute(action, run) }
        return await task.value
    }

    private func execute(_ action: MaintenanceAction, _ started: ActionRun) async -> ActionRun {
        var run = started
        do {
            try await store.save(run)
        } catch {
            // A run is recorded before it starts, or it does not start.
            run.error = "could not record the run, so nothing was run: \(error)"
            run.endedAt = Timestamp.now()
            running.withLock { _ = $0.removeValue(forKey: action.id) }
            return run
        }
        await events.publish(.named("action", run.publicJSON(), admin: run.json()))
        do {
            guard let runner = runners.runner(for: action.node) else {
                throw CommandRunnerError.couldNotStart("no runner for node \(action.node)")
            }
            let result = try await runner.run(try action.command.render([:]), timeout: .seconds(action.timeoutSeconds))
            run.exitCode = result.exitCode
            run.output = ActionRun.tail(of: result.output)
        } catch CommandRunnerError.timedOut(let after, _) {
            // Ending the local ssh does not end the command on the node (no terminal to hang up).
            run.error =
                "timed out after \(after): SparkDeck stopped waiting, but the command may still be running on \(action.node); check there before running it again"
        } catch {
            run.error = "\(error)"
        }
        run.endedAt = Timestamp.now()
        try? await store.save(run)
        running.withLock { _ = $0.removeValue(forKey: action.id) }
        await events.publish(.named("action", run.publicJSON(), admin: run.json()))
        return run
    }
}
