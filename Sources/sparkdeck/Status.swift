import ArgumentParser
import Foundation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show nodes, services, the loaded model and any running swap.")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let client = APIClient(server: server)
        let (_, status) = try await client.send("GET", "/api/status")
        let (_, catalog) = try await client.send("GET", "/api/models")
        Console.say(
            "\(((status["cluster"] as? [String: Any])?["name"] as? String) ?? "SparkDeck") — SparkDeck \(status["version"] as? String ?? "?")"
        )
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
