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
    public static let query =
        "nvidia-smi --query-gpu=utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits"
    /// The fallback for memory when the GPU reports `[N/A]`.
    public static let memoryFallback = "free -b"

    /// Parses the first GPU's line of `query`'s output; nil when it is not that output.
    public static func parse(nvidiaSMI output: String) -> GPUStats? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains(",") }) else { return nil }
        let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count >= 5 else { return nil }
        func number(_ text: String) -> Double? { Double(text) }
        let stats = GPUStats(
            utilizationPercent: number(fields[0]), memoryUsedMiB: number(fields[1]),
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
    public static func read(
        _ runner: any CommandRunner, command: String = GPUStats.query,
        timeout: Duration = .seconds(5)
    ) async throws -> GPUStats? {
        let result: CommandResult
        do {
            result = try await runner.run(command, timeout: timeout)
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

/// A container a node runs, as `docker ps` lists it.
public struct ContainerInfo: Sendable, Equatable {
    public var name: String
    public var image: String
    public var status: String

    /// Parses `name<TAB>image<TAB>status` lines.
    public static func parse(_ output: String) -> [ContainerInfo] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, !fields[0].isEmpty else { return nil }
            return ContainerInfo(name: fields[0], image: fields[1], status: fields[2])
        }
    }

    public var json: JSONValue { .object(["name": .string(name), "image": .string(image), "status": .string(status)]) }
}

/// What a node's resource probe found.
public struct NodeStats: Sendable, Equatable {
    public var gpu: GPUStats?
    public var containers: [ContainerInfo]?
    /// Why a part is missing (no nvidia-smi, docker not running, node unreachable).
    public var note: String?

    /// Reads the node's GPU and containers with the commands its inventory entry gives.
    public static func read(_ node: Node, runner: any CommandRunner) async -> NodeStats {
        var stats = NodeStats()
        var notes: [String] = []
        do {
            stats.gpu = try await GPUReader.read(runner, command: node.probes.gpu)
            if stats.gpu == nil { notes.append("no GPU reading (nvidia-smi missing or not answering)") }
            if stats.gpu?.memorySource == "free" { notes.append("GPU memory reads N/A (unified memory): shown from free") }
        } catch {
            notes.append("GPU: \(error)")
        }
        do {
            let result = try await runner.run(node.probes.containers, timeout: .seconds(10))
            if result.succeeded {
                stats.containers = ContainerInfo.parse(result.output)
            } else {
                notes.append("containers: exit \(result.exitCode): \(result.output.split(separator: "\n").last ?? "")")
            }
        } catch CommandRunnerError.commandNotFound {
            notes.append("containers: docker not found")
        } catch {
            notes.append("containers: \(error)")
        }
        stats.note = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return stats
    }
}
