import Foundation
import Hummingbird

/// parakeet-asr's health behaviour: `{"status":"loading"}` while the model loads, then `ready`; requests get 503
/// while loading.
public enum SimASR {
    public static func run(_ options: SimOptions) async throws {
        let readyAt = Date().addingTimeInterval(options.loadSeconds)
        SimStartup.starting()
        SimLog.line("INFO:     Loading nvidia/parakeet-tdt-0.6b-v3 and the Sortformer diarizer")
        Task {
            try await Task.sleep(for: .seconds(options.loadSeconds))
            SimLog.line("INFO:     Models loaded in \(String(format: "%.1f", options.loadSeconds)) s; ready for requests")
        }
        let router = SimServer.router(options)
        router.get("/health") { _, _ in
            let ready = Date() >= readyAt
            return SimServer.json(["status": ready ? "ready" : "loading", "model": "nvidia/parakeet-tdt-0.6b-v3",
                                   "diarization": ready ? "ready" : "loading"])
        }
        for path in ["/v1/audio/transcriptions", "/v1/audio/diarizations"] {
            router.post(RouterPath(path)) { _, _ in
                guard Date() >= readyAt else { return SimServer.json(["detail": "Model is loading"], status: .serviceUnavailable) }
                return SimServer.json(["detail": "SparkSim does not simulate \(path) yet"], status: .notImplemented)
            }
        }
        try await SimServer.run(router, options: options, name: "asr") { SimStartup.running(options) }
    }
}

/// Kokoro-FastAPI's health and voice list; like a container, it listens only once it has started.
public enum SimTTS {
    static let voices = ["af_bella", "af_sky", "af_heart", "am_adam", "bf_emma", "bm_george"]

    public static func run(_ options: SimOptions) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        let router = SimServer.router(options)
        router.get("/health") { _, _ in SimServer.json(["status": "healthy"]) }
        router.get("/v1/audio/voices") { _, _ in SimServer.json(["voices": voices.map { ["id": $0, "name": $0] }]) }
        try await SimServer.run(router, options: options, name: "tts") { SimStartup.running(options) }
    }
}

/// An embeddings/rerank server's health endpoint (TEI answers `/health` with 200 once the model is loaded).
public enum SimEmbeddings {
    public static func run(_ options: SimOptions) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        let router = SimServer.router(options)
        router.get("/health") { _, _ in SimServer.json(["status": "ok", "model": "BAAI/bge-m3"]) }
        try await SimServer.run(router, options: options, name: "embeddings") { SimStartup.running(options) }
    }
}

/// Qdrant's health endpoints and collection list (the search issue deepens it).
public enum SimQdrant {
    public static func run(_ options: SimOptions) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        let router = SimServer.router(options)
        router.get("/healthz") { _, _ in SimServer.text("healthz check passed") }
        router.get("/livez") { _, _ in SimServer.text("healthz check passed") }
        router.get("/readyz") { _, _ in SimServer.text("all shards are ready") }
        router.get("/collections") { _, _ in
            SimServer.json(["result": ["collections": [Any]()], "status": "ok", "time": 0.000012])
        }
        try await SimServer.run(router, options: options, name: "qdrant") { SimStartup.running(options) }
    }
}

/// A stand-in for `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` on a GB10 board: memory reads
/// `[N/A]` (unified memory), utilisation, temperature and power follow whether a simulated service is running.
public enum SimNvidiaSMI {
    public static func line(busy: Bool, at time: Date = Date()) -> String {
        let phase = time.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) / 60 * 2 * Double.pi
        if busy {
            let utilization = Int(55 + 30 * sin(phase))
            return "\(utilization), [N/A], [N/A], \(62 + Int(6 * sin(phase))), \(String(format: "%.2f", 48 + 20 * sin(phase)))"
        }
        return "0, [N/A], [N/A], 41, 11.80"
    }

    /// Whether the process named in `pidFile` is alive.
    public static func isAlive(pidFile: String?) -> Bool {
        guard let pidFile, let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return false }
        return kill(pid, 0) == 0
    }
}
