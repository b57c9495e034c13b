import Foundation
import Logging
import ServiceLifecycle

/// Loads the demo inventory's default model when the demo starts, as a swap the demo's owner asked for by starting
/// it (so it is in the history, and a second swap waits until it is done), and stops the LLM sim when the demo stops.
public struct DemoModelLauncher: Service {
    let inventory: Inventory
    let orchestrator: SwapOrchestrator
    let runner: any CommandRunner
    let logger: Logger

    public init(inventory: Inventory, orchestrator: SwapOrchestrator, runner: any CommandRunner, logger: Logger) {
        self.inventory = inventory
        self.orchestrator = orchestrator
        self.runner = runner
        self.logger = logger
    }

    public func run() async throws {
        guard let id = inventory.defaultModel, let model = inventory.model(id) else { return }
        do throws(SwapRequestError) {
            _ = try await orchestrator.request(modelID: id, confirm: true)
        } catch .conflict {
            // A swap left over from an earlier run is being settled first; load the default only if it leaves nothing.
            while orchestrator.current() != nil { try? await Task.sleep(for: .milliseconds(200)) }
            if await orchestrator.activeModelID() == nil { _ = try? await orchestrator.request(modelID: id, confirm: true) }
        } catch {
            logger.error("demo: cannot load \(id): \(error)")
        }
        try? await gracefulShutdown()
        // Every demo recipe shares one pid file: this stops whichever model runs.
        do {
            _ = try await runner.run(try model.commands.stop.render(model.templateValues), timeout: .seconds(30))
        } catch {
            logger.error("demo: stopping the LLM sim failed: \(error)")
        }
    }
}
