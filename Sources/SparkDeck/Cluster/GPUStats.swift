import Foundation

/// One node's GPU as `nvidia-smi` reports it, with `free -b` standing in for memory on unified-memory GB10 boards.
public struct GPUStats: Sendable, Equatable {
    public var utilizationPercent: Double?
    public var memoryUsedMiB: Double?
    public var memoryTotalMiB: Double?
    public var temperatureC: Double?
    public var powerW: Double?
    /// Where the memory figures came from: `nvidia-smi`, or `free` when the GPU reports none (GB10 unified memory).
    public var memorySource: String

    /// The query SparkDeck runs on a node.
    public static let query = "nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits"
    /// The fallback for memory when the GPU reports `[N/A]`.
    public static let memoryFallback = "free -b"

    /// Parses the first GPU's line of `query`'s output; nil when it is not that output.
    public static func parse(nvidiaSMI output: String) -> GPUStats? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(",") }) else { return nil }
        let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 5 else { return nil }
        func number(_ text: String) -> Double? { Double(text) }
        let stats = GPUStats(utilizationPercent: number(fields[0]), memoryUsedMiB: number(fields[1]),
                             memoryTotalMiB: number(fields[2]), temperatureC: number(fields[3]), powerW: number(fields[4]),
                             memorySource: "nvidia-smi")
        // A line of nothing but N/A is not a GPU reading.
        guard stats.utilizationPercent != nil || stats.memoryUsedMiB != nil || stats.temperatureC != nil else { return nil }
        return stats
    }

    /// Fills memory from `free -b` output (the `Mem:` line: total, used, ...).
    public func withMemory(fromFree output: String) -> GPUStats {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Mem:") }) else { return self }
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().compactMap { Double($0) }
        guard fields.count >= 2 else { return self }
        var copy = self
        copy.memoryTotalMiB = fields[0] / 1_048_576
        copy.memoryUsedMiB = fields[1] / 1_048_576
        copy.memorySource = "free"
        return copy
    }

    public var memoryFreeGiB: Double? {
        guard let used = memoryUsedMiB, let total = memoryTotalMiB else { return nil }
        return (total - used) / 1024
    }

    public var json: JSONValue {
        .object([
            "utilization_percent": .optional(utilizationPercent), "memory_used_mib": .optional(memoryUsedMiB.map { $0.rounded() }),
            "memory_total_mib": .optional(memoryTotalMiB.map { $0.rounded() }), "temperature_c": .optional(temperatureC),
            "power_w": .optional(powerW), "memory_source": .string(memorySource),
        ])
    }
}

/// Reads a node's GPU stats through its command runner.
public enum GPUReader {
    /// nil when the node has no `nvidia-smi` (a laptop running the demo without SparkSim's stand-in).
    public static func read(_ runner: any CommandRunner, timeout: Duration = .seconds(5)) async throws -> GPUStats? {
        let result: CommandResult
        do {
            result = try await runner.run(GPUStats.query, timeout: timeout)
        } catch CommandRunnerError.commandNotFound {
            return nil
        }
        guard result.succeeded, var stats = GPUStats.parse(nvidiaSMI: result.output) else { return nil }
        if stats.memoryUsedMiB == nil || stats.memoryTotalMiB == nil {
            let free = try await runner.run(GPUStats.memoryFallback, timeout: timeout)
            if free.succeeded { stats = stats.withMemory(fromFree: free.output) }
        }
        return stats
    }
}
