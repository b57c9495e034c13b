import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

struct ServerOptions: ParsableArguments {
    @Option(help: "SparkDeck's address.")
    var server = "http://127.0.0.1:9999"

    @Option(name: .customLong("api-key"), help: "An API key with the admin scope, when the server has keys (default: $SPARKDECK_API_KEY).")
    var apiKeyOption: String?

    /// `--api-key`, else `$SPARKDECK_API_KEY`.
    var apiKey: String? { apiKeyOption ?? ProcessInfo.processInfo.environment["SPARKDECK_API_KEY"] }
}

/// A small JSON client for the CLI commands that talk to a running SparkDeck.
struct APIClient {
    let server: ServerOptions

    func send(
        _ method: String, _ path: String, json: [String: Any]? = nil,
        timeout: TimeInterval = 30
    ) async throws -> (Int, [String: Any]) {
        guard let url = URL(string: server.server + path) else { throw ValidationError("--server is not a URL: \(server.server)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let key = server.apiKey, !key.isEmpty { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ValidationError("cannot reach SparkDeck at \(server.server): \(error.localizedDescription)")
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, object)
    }

    /// Says why SparkDeck refused a request that needs confirming: without `--yes`, its 400 is the plan to confirm.
    static func explainRefusal(status: Int, body: [String: Any], confirmed: Bool) {
        let message = errorMessage(body) ?? "HTTP \(status)"
        if status == 400, !confirmed {
            Console.say(message.replacingOccurrences(of: " Send \"confirm\": true to go ahead.", with: ""))
            Console.say("Run again with --yes to go ahead.")
        } else {
            Console.say("Refused: \(message)")
        }
    }

    static func errorMessage(_ body: [String: Any]) -> String? {
        (body["error"] as? [String: Any])?["message"] as? String
    }
}
