import Foundation
import NIOCore

/// The checks a swap makes against the vLLM server: health, served models and running requests with the health
/// prober (the monitor's own probe), a 1-token completion through the upstream core like any client request.
public struct LLMEndpoint: Sendable {
    let host: String
    let port: Int
    let basePath: String
    let prober: any Prober
    let upstream: Upstream
    let sender: UpstreamSender?

    public init?(service: ClusterService, prober: any Prober = SocketProber(), sender: UpstreamSender? = nil) {
        guard let url = URL(string: service.baseURL), let host = url.host else { return nil }
        self.host = host
        self.port = url.port ?? 80
        self.basePath = url.path
        self.prober = prober
        self.upstream = Upstream(service: service)
        self.sender = sender
    }

    /// The body of the 1-token check.
    struct OneTokenRequest: Encodable {
        struct Message: Encodable {
            var role = "user"
            var content = "ping"
        }

        var model: String
        var messages = [Message()]
        var maxTokens = 1

        enum CodingKeys: String, CodingKey {
            case model, messages
            case maxTokens = "max_tokens"
        }
    }

    public func isHealthy(timeoutMs: Int = 1000) async -> Bool {
        if case .http(200, _) = await prober.httpGet(host: host, port: port, path: basePath + "/health", timeoutMs: timeoutMs) {
            return true
        }
        return false
    }

    /// What `/v1/models` lists, or nil when it does not answer.
    public func servedModels(timeoutMs: Int = 2000) async -> [String]? {
        guard case .http(200, let body) = await prober.httpGet(host: host, port: port, path: basePath + "/v1/models", timeoutMs: timeoutMs),
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let data = object["data"] as? [[String: Any]]
        else { return nil }
        return data.compactMap { $0["id"] as? String }
    }

    /// Asks for one token; nil when it worked, else why not.
    public func completeOneToken(model: String, timeout: Duration = .seconds(30)) async -> String? {
        guard let sender else { return "no upstream sender to ask the LLM with" }
        do {
            let body = try JSONEncoder().encode(OneTokenRequest(model: model))
            let request = UpstreamRequest(
                route: "swap_check", path: "/v1/chat/completions",
                body: .bytes(ByteBuffer(bytes: body)), timeout: timeout)
            let answer = try await sender.send(request, to: upstream)
            let text = try await answer.body.collect(upTo: 1 << 20)
            guard answer.status == .ok else {
                return "a 1-token completion got HTTP \(answer.status.code): \(String(buffer: text).prefix(200))"
            }
            return nil
        } catch let error as APIError {
            return "a 1-token completion failed: \(error.message)"
        } catch {
            return "a 1-token completion failed: \(error)"
        }
    }

    /// `vllm:num_requests_running` summed over its series; nil when `/metrics` does not answer.
    public func requestsRunning() async -> Int? {
        guard case .http(200, let body) = await prober.httpGet(host: host, port: port, path: basePath + "/metrics", timeoutMs: 1000) else {
            return nil
        }
        var total = 0.0
        for line in body.split(separator: "\n") where line.hasPrefix("vllm:num_requests_running") {
            if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total += value }
        }
        return Int(total)
    }
}
