import Foundation

/// A health endpoint's answer, before it is judged.
public enum ProbeAnswer: Sendable, Equatable {
    case http(status: Int, body: String)
    case refused(String)
    case timedOut(afterMs: Int)
    case broken(String)
}

/// Per-kind readiness rules: what each upstream's health answer means (UPSTREAMS.md).
public enum ReadinessRule {
    public static func verdict(kind: ServiceKind, answer: ProbeAnswer) -> (Observation.Verdict, String?) {
        switch answer {
        case .refused(let reason): return (.refused, reason)
        case .timedOut(let ms): return (.failed, "no answer within \(ms) ms")
        case .broken(let reason): return (.failed, reason)
        case .http(let status, let body):
            switch (kind, status) {
            case (.asr, 200):
                // parakeet-asr answers 200 with {"status":"loading"} while its model loads.
                switch jsonStatus(body) {
                // Other ASR servers (faster-whisper-server) answer "ok" once they serve.
                case "ready", "ok", "healthy": return (.ready, nil)
                case "loading": return (.loading, "model loading")
                case let other: return (.failed, "health status \(other.map { "'\($0)'" } ?? "missing")")
                }
            case (.asr, 503): return (.loading, "model loading (HTTP 503)")
            case (.vllm, 503): return (.failed, "engine not healthy (HTTP 503)")
            case (_, 200..<300): return (.ready, nil)
            default: return (.failed, "HTTP \(status) from health check")
            }
        }
    }

    static func jsonStatus(_ body: String) -> String? {
        guard let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["status"] as? String
    }
}
