import ArgumentParser
import Foundation
import SparkDeck

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Create, list and revoke API keys (stored hashed in SparkDeck's data folder; a running server picks changes up within seconds).",
        subcommands: [Create.self, List.self, Revoke.self])

    struct DataOption: ParsableArguments {
        @Option(help: "SparkDeck's data folder (the one `serve --data` uses).")
        var data: String

        func store() throws -> APIKeyStore {
            guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("no data folder at \(data)") }
            return APIKeyStore(store: try Store(dataDirectory: data))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; it is printed once and never again.")
        @Option(help: "What the key is for (an app's name).")
        var name: String
        @Option(help: "Comma-separated scopes: \(APIScope.allCases.map(\.rawValue).joined(separator: ", ")).")
        var scopes: String
        @OptionGroup var data: DataOption

        func validate() throws {
            for scope in scopes.split(separator: ",") where APIScope(rawValue: scope.trimmingCharacters(in: .whitespaces)) == nil {
                throw ValidationError("unknown scope '\(scope)'; scopes are \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            let set = Set(scopes.split(separator: ",").compactMap { APIScope(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
            let (key, record) = try await data.store().create(name: name, scopes: set)
            Console.say("Created \(record.id) (\(name)) with scopes \(set.map(\.rawValue).sorted().joined(separator: ", ")).")
            Console.say("Key (shown only now): \(key)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var data: DataOption

        func run() async throws {
            let keys = try await data.store().list()
            if keys.isEmpty { Console.say("No API keys: the API is open to the LAN.") }
            for key in keys {
                let state = key.revokedAt == nil ? "active" : "revoked"
                Console.say(
                    "\(key.id)  \(key.prefix)…  \(state)  \(key.name)  [\(key.scopes.map(\.rawValue).sorted().joined(separator: ","))]")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id.")
        @Argument(help: "The key id (see `keys list`).")
        var id: String
        @OptionGroup var data: DataOption

        func run() async throws {
            guard try await data.store().revoke(id: id) else {
                Console.say("No active key \(id).")
                throw ExitCode.failure
            }
            Console.say("Revoked \(id).")
        }
    }
}
