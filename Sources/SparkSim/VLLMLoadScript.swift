import Foundation

/// The log lines a vLLM server prints while it loads a model, with when each appears, in the order UPSTREAMS.md lists.
public struct VLLMLoadScript: Sendable {
    /// Stages a simulated load can be told to fail in.
    public enum Stage: String, Sendable, CaseIterable {
        case weights
        case kvCache = "kv-cache"
        case cudaGraphs = "cuda-graphs"
        case startup
    }

    /// Where to fail: a stage, and for `weights` and `cuda-graphs` the percent at which to fail.
    public struct Failure: Sendable, Equatable {
        public var stage: Stage
        public var percent: Int

        /// Parses `weights:60`, `cuda-graphs`, `kv-cache`, `startup`.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard let first = parts.first, let stage = Stage(rawValue: String(first)) else { return nil }
            self.stage = stage
            if parts.count == 2 {
                guard let percent = Int(parts[1]), (0...100).contains(percent) else { return nil }
                self.percent = percent
            } else {
                self.percent = 50
            }
        }
    }

    public struct Line: Sendable, Equatable {
        /// Seconds after the start of the load.
        public var at: Double
        public var level: String
        public var source: String
        public var text: String
    }

    public let lines: [Line]
    /// Whether the script ends in a crash (the process then exits with status 1) rather than a listening server.
    public let fails: Bool

    static let shards = 9

    public init(model: String, port: Int, loadSeconds: Double, failure: Failure?) {
        (lines, fails) = Self.build(model: model, port: port, loadSeconds: loadSeconds, failure: failure)
    }

    private static func build(model: String, port: Int, loadSeconds: Double, failure: Failure?) -> ([Line], Bool) {
        var lines: [Line] = []
        var fails = false
        let total = max(loadSeconds, 0.5)
        func add(_ fraction: Double, _ source: String, _ text: String, level: String = "INFO") {
            lines.append(Line(at: total * fraction, level: level, source: source, text: text))
        }
        func crash(_ fraction: Double, _ messages: [String]) {
            for message in messages { add(fraction, "core.py:700", message, level: "ERROR") }
            fails = true
        }
        let oom = [
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
                + "of 119.70 GiB of which 1.06 GiB is free. Of the allocated memory 112.31 GiB is allocated by PyTorch.",
            "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}",
        ]
        add(0, "gpu_model_runner.py:1907", "Starting to load model \(model)...")
        let weightStart = 0.05
        let weightEnd = 0.55
        for shard in 1...Self.shards {
            let percent = shard * 100 / Self.shards
            let fraction = weightStart + (weightEnd - weightStart) * Double(shard) / Double(Self.shards)
            if let failure, failure.stage == .weights, percent >= failure.percent {
                add(fraction, "default_loader.py:268", shardLine(percent: failure.percent, done: shard - 1))
                crash(fraction, oom)
                return (lines, fails)
            }
            add(fraction, "default_loader.py:268", shardLine(percent: percent, done: shard))
        }
        let weightSeconds = total * (weightEnd - weightStart)
        add(weightEnd, "default_loader.py:272", String(format: "Loading weights took %.2f seconds", weightSeconds))
        add(weightEnd, "gpu_model_runner.py:1939", String(format: "Model loading took 28.4 GiB memory and %.1f seconds", weightSeconds))
        if failure?.stage == .kvCache {
            crash(0.62, oom)
            return (lines, fails)
        }
        add(0.62, "gpu_worker.py:276", "Available KV cache memory: 61.3 GiB")
        add(0.63, "kv_cache_utils.py:1013", "GPU KV cache size: 401,232 tokens")
        for percent in stride(from: 0, through: 100, by: 20) {
            let fraction = 0.65 + 0.25 * Double(percent) / 100
            if let failure, failure.stage == .cudaGraphs, percent >= failure.percent {
                crash(fraction, oom)
                return (lines, fails)
            }
            add(fraction, "gpu_model_runner.py:2567", "Capturing CUDA graphs (mixed prefill-decode, PIECEWISE): \(percent)%")
        }
        add(0.9, "gpu_model_runner.py:2642", String(format: "Graph capturing finished in %.0f secs, took 0.9 GiB", total * 0.25))
        add(0.92, "core.py:210", String(format: "init engine (profile, create kv cache, warmup model) took %.1f seconds", total * 0.37))
        if failure?.stage == .startup {
            crash(0.95, ["RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}"])
            return (lines, fails)
        }
        add(1, "api_server.py:1880", "Starting vLLM server on http://0.0.0.0:\(port)")
        add(1, "launcher.py:29", "Available routes are: /health, /v1/models, /v1/chat/completions, /v1/completions, /metrics")
        add(1, "on.py:62", "Application startup complete.")
        return (lines, fails)
    }

    static func shardLine(percent: Int, done: Int) -> String {
        let padded = String(repeating: " ", count: max(0, 3 - String(percent).count)) + "\(percent)"
        return
            "Loading safetensors checkpoint shards: \(padded)% Completed | \(done)/\(shards) [00:\(String(format: "%02d", done * 4))<00:\(String(format: "%02d", (shards - done) * 4)),  4.01s/it]"
    }
}
