import ArgumentParser
import Foundation

struct Action: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the maintenance actions of a running SparkDeck, or run one and print what it printed.")

    @Argument(help: "The action id; without it, the actions are listed.")
    var id: String?

    @Flag(help: "Confirm the action. Without it, SparkDeck only says what the action would do.")
    var yes = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = APIClient(server: server)
        guard let id else {
            let (_, body) = try await client.send("GET", "/api/actions")
            let actions = body["actions"] as? [[String: Any]] ?? []
            if actions.isEmpty { Console.say("No maintenance actions in the inventory (`actions:`).") }
            for action in actions {
                let last =
                    (action["last_run"] as? [String: Any]).map { run in
                        "last run \(run["state"] as? String ?? "?") at \(run["ended_at"] as? String ?? run["started_at"] as? String ?? "?")"
                    } ?? "never run"
                Console.say("\(action["id"] as? String ?? "")  on \(action["node"] as? String ?? "")  (\(last))")
                Console.say("    \(action["description"] as? String ?? "")")
            }
            return
        }
        // The server answers when the command has ended; allow for its own timeout.
        let (status, body) = try await client.send("POST", "/api/actions/\(id)", json: ["confirm": yes], timeout: 86_400)
        guard status == 200 else {
            APIClient.explainRefusal(status: status, body: body, confirmed: yes)
            throw ExitCode.failure
        }
        if let output = body["output"] as? String, !output.isEmpty { Console.say(output, terminator: "") }
        if body["state"] as? String == "succeeded" {
            Console.say("\(id) succeeded.")
            return
        }
        let why = body["error"] as? String ?? "exit status \(body["exit_code"].map { "\($0)" } ?? "?")"
        Console.say("\(id) failed: \(why)")
        throw ExitCode.failure
    }
}
