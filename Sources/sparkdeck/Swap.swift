import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct Swap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load another model on the LLM node(s) of a running SparkDeck, and follow the swap to its end.")

    @Argument(help: "The model id (see `sparkdeck status` or GET /api/models).")
    var model: String

    @Flag(help: "Confirm the swap. Without it, SparkDeck only says what the swap would do.")
    var yes = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = APIClient(server: server)
        let (status, body) = try await client.send("POST", "/api/swaps", json: ["model": model, "confirm": yes])
        guard status == 202, let id = body["id"] as? String else {
            APIClient.explainRefusal(status: status, body: body, confirmed: yes)
            throw ExitCode.failure
        }
        Console.say("Swap \(id) to \(model) started.")
        var lastLine = ""
        while true {
            try await Task.sleep(for: .seconds(1))
            let (_, swap) = try await client.send("GET", "/api/swaps/\(id)")
            let state = swap["state"] as? String ?? "?"
            let progress = swap["progress"] as? [String: Any]
            let percent = (progress?["percent"] as? Int).map { " \($0)%" } ?? ""
            let eta = (swap["eta_seconds"] as? Int).map { ", about \($0) s left" } ?? ""
            let line = "  \(state)\(percent)\(eta)"
            if line != lastLine {
                Console.say(line)
                lastLine = line
            }
            if let result = swap["result"] as? String {
                if result == "ready" {
                    Console.say("Loaded \(model) in \(swap["load_seconds"] as? Double ?? 0) s.")
                    return
                }
                Console.say("Swap ended: \(result). \(swap["error"] as? String ?? "")")
                throw ExitCode.failure
            }
        }
    }
}
