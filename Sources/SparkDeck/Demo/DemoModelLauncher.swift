import Foundation
import Logging
import ServiceLifecycle

/// Loads the demo inventory's default model when the demo starts and stops it when the demo stops, through the
/// model's own recipe (the LLM sim is started and stopped only by recipes).
public struct DemoModelLauncher: Service {
    let inventory: Inventory
    let runner: any CommandRunner
    let logger: Logger

    public init(inventory: Inventory, runner: any CommandRunner, logger: Logger) {
        self.inventory = inventory
        self.runner = runner
        self.logger = logger
    }

    public func run() async throws {
        guard let id = inventory.defaultModel, let model = inventory.model(id) else { return }
        logger.info("demo: loading \(model.id) through its launch recipe")
        await execute(model.commands.launch, of: model, what: "launch")
        logger.info("demo: launched")
        try? await gracefulShutdown()
        logger.info("demo: stopping \(model.id) through its stop recipe")
        await execute(model.commands.stop, of: model, what: "stop")
    }

    private func execute(_ template: CommandTemplate, of model: ModelRecipe, what: String) async {
        do {
            let result = try await runner.run(try template.render(model.templateValues), timeout: .seconds(30))
            if !result.succeeded {
                logger.error("demo: \(what) of \(model.id) exited with \(result.exitCode): \(result.output)")
            }
        } catch {
            logger.error("demo: \(what) of \(model.id) failed: \(error)")
        }
    }
}
