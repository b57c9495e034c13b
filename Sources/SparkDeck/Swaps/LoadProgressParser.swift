import Foundation

/// Where a vLLM load stands, read from its log.
public struct LoadProgress: Sendable, Equatable, Codable {
    public enum Stage: String, Sendable, Codable {
        case starting, weights
        case kvCache = "kv_cache"
        case cudaGraphs = "cuda_graphs"
        case startup, ready
    }

    public var stage: Stage
    /// 0–100 over the whole load.
    public var percent: Int
    /// The log line this came from, trimmed of its prefix.
    public var detail: String
}

/// What one log line means for a load.
public enum LoadLogEvent: Sendable, Equatable {
    case progress(LoadProgress)
    /// The load failed; the line says why.
    case failure(String)
}

/// Reads vLLM log lines (UPSTREAMS.md) into progress and failures. Pure: feed it lines, get events.
///
/// Percent bands: starting 0–5, weights 5–55 (by shard percent), KV cache 60, CUDA graphs 65–90, startup 95, ready 100.
public enum LoadProgressParser {
    static let failureMarkers = [
        "CUDA out of memory", "OutOfMemoryError", "Engine core initialization failed", "exceeds available GPUs",
        "Error response from daemon", "is already in use by container", "RuntimeError:", "ValueError:",
        "No such file or directory: 'nvidia-smi'", "Traceback (most recent call last)",
    ]

    public static func parse(_ rawLine: String) -> LoadLogEvent? {
        let line = message(of: rawLine)
        if let marker = failureMarkers.first(where: { line.contains($0) }) {
            // A traceback header says nothing by itself: the cause follows it.
            return marker == "Traceback (most recent call last)" ? nil : .failure(line)
        }
        if line.contains("Starting to load model") {
            return .progress(.init(stage: .starting, percent: 2, detail: line))
        }
        if line.contains("Loading safetensors") || line.contains("checkpoint shards") {
            guard let percent = percentBefore("% Completed", in: line) ?? percentBefore("%", in: line) else { return nil }
            return .progress(.init(stage: .weights, percent: 5 + percent / 2, detail: line))
        }
        if line.contains("Loading weights took") || line.contains("Model loading took") {
            return .progress(.init(stage: .weights, percent: 55, detail: line))
        }
        if line.contains("Available KV cache memory") || line.contains("GPU KV cache size") {
            return .progress(.init(stage: .kvCache, percent: 60, detail: line))
        }
        if line.contains("Capturing CUDA graphs") {
            let percent = percentBefore("%", in: line) ?? 0
            return .progress(.init(stage: .cudaGraphs, percent: 65 + percent / 4, detail: line))
        }
        if line.contains("Graph capturing finished") || line.contains("init engine") {
            return .progress(.init(stage: .cudaGraphs, percent: 90, detail: line))
        }
        if line.contains("Starting vLLM server") || line.contains("Available routes are") {
            return .progress(.init(stage: .startup, percent: 95, detail: line))
        }
        if line.contains("Application startup complete") {
            return .progress(.init(stage: .ready, percent: 99, detail: line))
        }
        return nil
    }

    /// The line as a terminal shows it, without vLLM's `INFO 11-27 01:20:00 [file.py:12] ` prefix (and a
    /// `(EngineCore pid=1)` tag).
    static func message(of line: String) -> String {
        var text = Substring(TerminalText.visible(line).trimmingCharacters(in: .whitespacesAndNewlines))
        if text.hasPrefix("("), let close = text.firstIndex(of: ")") {
            text = text[text.index(after: close)...].drop(while: { $0 == " " })
        }
        if let bracket = text.range(of: "] "), text[..<bracket.lowerBound].contains("["),
            ["INFO", "WARNING", "ERROR", "DEBUG", "CRITICAL"].contains(where: { text.hasPrefix($0) })
        {
            text = text[bracket.upperBound...]
        }
        return String(text)
    }

    static func percentBefore(_ marker: String, in line: String) -> Int? {
        guard let range = line.range(of: marker) else { return nil }
        let digits = line[..<range.lowerBound].reversed().drop(while: { $0 == " " }).prefix(while: \.isNumber)
        guard !digits.isEmpty, let value = Int(String(digits.reversed())) else { return nil }
        return min(100, value)
    }
}
