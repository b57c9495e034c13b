import Foundation

/// The checks a swap makes against the vLLM server: health, served models, a 1-token completion, running requests.
public struct LLMEndpoint: Sendable {
    let host: String
    let port: Int
    let basePath: String
    let prober: any Prober

    public init?(service: ClusterService, prober: any Prober = SocketProber()) {
        guard let url = URL(string: service.baseURL), let host = url.host else { return nil }
        self.host = host
        self.port = url.port ?? 80
        self.basePath = url.path
        self.prober = prober
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
              let data = object["data"] as? [[String: Any]] else { return nil }
        return data.compactMap { $0["id"] as? String }
    }

    /// Asks for one token; nil when it worked, else why not.
    public func completeOneToken(model: String, timeoutMs: Int = 30_000) async -> String? {
        let body = #"{"model":"\#(model.replacingOccurrences(of: "\"", with: "\\\""))","messages":[{"role":"user","content":"ping"}],"max_tokens":1}"#
        switch await prober.http("POST", host: host, port: port, path: basePath + "/v1/chat/completions", body: body, timeoutMs: timeoutMs) {
        case .http(200, _): return nil
        case .http(let status, let body): return "a 1-token completion got HTTP \(status): \(body.prefix(200))"
        case .refused(let reason), .broken(let reason): return "a 1-token completion failed: \(reason)"
        case .timedOut(let ms): return "a 1-token completion got no answer within \(ms) ms"
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
