import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SparkDeck

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run SparkDeck against a simulated two-node cluster (SparkSim) on this machine.")

    @Option(help: "Port for the dashboard and API.")
    var port = 9999

    @Option(help: "Address to listen on (loopback by default: the demo is for this machine).")
    var host = "127.0.0.1"

    @Option(help: "Folder for the demo's state, logs and generated inventory.")
    var data = (NSTemporaryDirectory() as NSString).appendingPathComponent("sparkdeck-demo")

    func run() async throws {
        let logger = Logging.makeLogger()
        let executable = Executable.path()
        let cluster = try DemoCluster.prepare(dataDirectory: data, executable: executable, logger: logger)
        let inventory: Inventory
        do {
            inventory = try InventoryLoader.load(path: cluster.inventoryPath)
        } catch {
            throw ValidationError("the generated demo inventory is invalid (a bug): \(error.description)")
        }
        let configuration = ServerConfiguration(
            host: host, port: port, dataDirectory: data, inventory: inventory, inventoryPath: cluster.inventoryPath, demo: true,
            allowedHosts: AllowedHosts.fromEnvironment())
        let dependencies = try AppDependencies(configuration: configuration, logger: logger)
        let launcher = DemoModelLauncher(
            inventory: inventory, orchestrator: dependencies.orchestrator,
            runner: LocalCommandRunner(scratchDirectory: try CommandScratch.folder(in: data)), logger: logger)
        let app = buildApplication(dependencies, logger: logger, services: [cluster, launcher]) {
            Console.say(
                """
                SparkDeck \(SparkDeckVersion.version) demo: a simulated two-node cluster (SparkSim) on loopback.
                Open the dashboard: http://\(host):\(port)
                Demo inventory: \(cluster.inventoryPath)
                Sim logs: \(cluster.demoDirectory)/logs   (Ctrl-C stops everything)
                """)
        }
        try await app.runService()
    }
}

enum Executable {
    /// This program's own path, so the demo can start SparkSim as `<self> sim ...`.
    static func path() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        let argument = CommandLine.arguments[0]
        if argument.hasPrefix("/") { return argument }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(argument)
    }
}
