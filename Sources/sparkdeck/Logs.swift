import ArgumentParser
import AsyncHTTPClient
import Foundation
import SparkDeck

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a service's log through a running SparkDeck; Ctrl-C stops it, and the command on the node.")

    @Argument(help: "The service id (see `sparkdeck status`).")
    var service: String

    @Flag(help: "Print lines as the container wrote them (colour codes, carriage returns) instead of as a terminal shows them.")
    var raw = false

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let id = service.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_."))) ?? service
        var request = HTTPClientRequest(url: server.server + "/api/logs/" + id)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let key = server.apiKey, !key.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw ValidationError("cannot reach SparkDeck at \(server.server): \(error)")
        }
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 1024 * 1024)
            let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
            Console.say("Refused: \(APIClient.errorMessage(object) ?? "HTTP \(response.status.code)")")
            throw ExitCode.failure
        }
        var events = EventStreamSplitter()
        for try await chunk in response.body {
            for event in try events.append(chunk.readableBytesView) {
                guard let text = event.data else { continue }
                let data = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                switch event.name {
                case "open":
                    FileHandle.standardError.write(
                        Data("following \(service) on \(data["node"] as? String ?? "?"): \(data["command"] as? String ?? "")\n".utf8))
                case "log":
                    let line = data["line"] as? String ?? ""
                    Console.say(raw ? line : TerminalText.visible(line))
                case "end":
                    if let error = data["error"] as? String {
                        Console.say("The log command ended: \(error)")
                        throw ExitCode.failure
                    }
                    return
                default:
                    break
                }
            }
        }
    }
}
