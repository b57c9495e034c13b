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
            let message = APIClient.errorMessage(body) ?? "HTTP \(status)"
            if status == 400, !yes {
                Console.say(message.replacingOccurrences(of: " Send \"confirm\": true to go ahead.", with: ""))
                Console.say("Run again with --yes to go ahead.")
            } else {
                Console.say("Refused: \(message)")
            }
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
            if line != lastLine { Console.say(line); lastLine = line }
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

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show nodes, services, the loaded model and any running swap.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = APIClient(server: server)
        let (_, status) = try await client.send("GET", "/api/status")
        let (_, catalog) = try await client.send("GET", "/api/models")
        Console.say("\(((status["cluster"] as? [String: Any])?["name"] as? String) ?? "SparkDeck") — SparkDeck \(status["version"] as? String ?? "?")")
        for node in status["nodes"] as? [[String: Any]] ?? [] {
            Console.say("  node     \(pad(node["id"], 12)) \(pad(node["state"], 9)) \(node["host"] as? String ?? "")")
        }
        for service in status["services"] as? [[String: Any]] ?? [] {
            let latency = (service["latency_ms"] as? Double).map { String(format: "%.1f ms", $0) } ?? ""
            let error = service["last_error"] as? String ?? ""
            Console.say("  service  \(pad(service["id"], 12)) \(pad(service["state"], 9)) \(pad(latency, 10)) \(error)")
        }
        for model in catalog["models"] as? [[String: Any]] ?? [] {
            let marker = model["active"] as? Bool == true ? "*" : " "
            Console.say("  model  \(marker) \(model["id"] as? String ?? "")  (\(model["name"] as? String ?? ""))")
        }
        if let swap = status["swap"] as? [String: Any] {
            Console.say("  swap     \(swap["id"] as? String ?? "") to \(swap["model"] as? String ?? ""): \(swap["state"] as? String ?? "")")
        }
    }
}

private func pad(_ value: Any?, _ width: Int) -> String {
    let text = value as? String ?? ""
    return text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

struct ServerOptions: ParsableArguments {
    @Option(help: "SparkDeck's address.")
    var server = "http://127.0.0.1:9999"

    @Option(help: "An API key with the admin scope, when the server has keys (default: $SPARKDECK_API_KEY).")
    var apiKey = ProcessInfo.processInfo.environment["SPARKDECK_API_KEY"]
}

/// A small JSON client for the CLI commands that talk to a running SparkDeck.
struct APIClient {
    let server: ServerOptions

    func send(_ method: String, _ path: String, json: [String: Any]? = nil,
              timeout: TimeInterval = 30) async throws -> (Int, [String: Any]) {
        guard let url = URL(string: server.server + path) else { throw ValidationError("--server is not a URL: \(server.server)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let key = server.apiKey, !key.isEmpty { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ValidationError("cannot reach SparkDeck at \(server.server): \(error.localizedDescription)")
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }

    static func errorMessage(_ body: [String: Any]) -> String? {
        (body["error"] as? [String: Any])?["message"] as? String
    }
}
