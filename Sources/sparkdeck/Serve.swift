import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SparkDeck

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run SparkDeck against the cluster an inventory describes.")

    @Option(help: "The inventory file (YAML): nodes, services, model recipes, actions.")
    var inventory: String

    @Option(help: "Folder for SparkDeck's state (SQLite store, SSH known_hosts).")
    var data: String

    @Option(help: "Address to listen on.")
    var host = "0.0.0.0"

    @Option(help: "Port to listen on.")
    var port = 9999

    @Option(
        name: .customLong("allowed-host"),
        help: ArgumentHelp(
            "A DNS name clients may reach SparkDeck by (repeatable; `.example.lan` admits every name under it; also $SPARKDECK_ALLOWED_HOSTS, comma-separated). IP addresses and local names (localhost, .local, .lan, names without a dot) need none."
        ))
    var allowedHosts: [String] = []

    func run() async throws {
        let logger = Logging.makeLogger()
        let loaded: Inventory
        do {
            loaded = try InventoryLoader.load(path: inventory)
        } catch {
            // Refuse to start on an invalid inventory, saying exactly what to fix.
            throw ValidationError(error.description)
        }
        let configuration = ServerConfiguration(
            host: host, port: port, dataDirectory: data, inventory: loaded, inventoryPath: inventory,
            allowedHosts: allowedHosts + AllowedHosts.fromEnvironment())
        let app = try buildApplication(configuration, logger: logger) {
            Console.say(
                "SparkDeck \(SparkDeckVersion.version) listening on http://\(host):\(port) (\(loaded.nodes.count) nodes, \(loaded.services.count) services)"
            )
        }
        try await app.runService()
    }
}

enum AllowedHosts {
    /// `SPARKDECK_ALLOWED_HOSTS`: comma-separated names.
    static func fromEnvironment() -> [String] {
        (ProcessInfo.processInfo.environment["SPARKDECK_ALLOWED_HOSTS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

enum Logging {
    static func makeLogger(label: String = "sparkdeck") -> Logger {
        var logger = Logger(label: label)
        if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        }
        return logger
    }
}
