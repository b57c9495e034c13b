import ArgumentParser

@main
struct SparkDeckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparkdeck",
        abstract: "Controller for a private cluster of NVIDIA DGX Spark boxes.",
        subcommands: [
            Serve.self, Demo.self, Sim.self, Swap.self, Status.self, Action.self, Logs.self, Keys.self, Scrub.self,
            InventoryCommand.self, BackupCommand.self, RestoreCommand.self,
        ]
    )
}
