import ArgumentParser
import Foundation
import SparkDeck

struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Work with inventory files without starting SparkDeck.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate an inventory file the way `serve` does; list every problem and exit 1 when there is one.")

        @Argument(help: "The inventory file (YAML).")
        var file: String

        @Flag(help: "Print the result as one JSON object (valid, problems, and the nodes and actions of a valid file).")
        var json = false

        func run() async throws {
            let inventory: Inventory
            do throws(InventoryError) {
                inventory = try InventoryLoader.load(path: file)
            } catch {
                if json {
                    try Self.print(
                        CheckResult(
                            valid: false, file: file, problems: error.issues.map(\.description),
                            message: error.description, nodes: [], actions: []))
                } else {
                    Console.say(error.description)
                }
                throw ExitCode.failure
            }
            if json {
                try Self.print(
                    CheckResult(
                        valid: true, file: file, problems: [], message: nil,
                        nodes: inventory.nodes.map { .init(id: $0.id, host: $0.host) },
                        actions: inventory.actions.map {
                            .init(id: $0.id, name: $0.name, node: $0.node, description: $0.description)
                        }))
            } else {
                Console.say(
                    "inventory \(file) is valid: \(Self.count(inventory.nodes.count, "node")), "
                        + "\(Self.count(inventory.services.count, "service")), \(Self.count(inventory.models.count, "model")), "
                        + "\(Self.count(inventory.actions.count, "action")).")
            }
        }

        static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

        static func print(_ result: CheckResult) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            Console.say(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
    }

    /// `inventory check --json`: what a wrapper (the StartOS package's actions) reads instead of parsing prose.
    struct CheckResult: Encodable {
        struct NodeSummary: Encodable { var id, host: String }
        struct ActionSummary: Encodable { var id, name, node, description: String }
        var valid: Bool
        var file: String
        /// Each problem as `serve` prints it: `LINE: key.path: what to fix`.
        var problems: [String]
        /// The whole refusal, as `serve` prints it; nil for a valid file.
        var message: String?
        var nodes: [NodeSummary]
        var actions: [ActionSummary]
    }
}
