import Foundation

/// The cluster as the owner describes it: nodes, the services on them, model recipes and maintenance actions.
///
/// Built only by `InventoryLoader`, so every value here has been validated.
public struct Inventory: Sendable, Equatable {
    public var clusterName: String
    public var nodes: [Node]
    public var services: [ClusterService]
    public var models: [ModelRecipe]
    public var actions: [MaintenanceAction]
    /// Terms always scrubbed by the redaction gateway: the owner's own names and companies.
    public var redactionTerms: [String] = []
    /// The outside OpenAI-compatible endpoint the private chat proxy sends scrubbed text to.
    public var externalModel: ExternalEndpoint?
    /// The model loaded when nothing is known yet (demo start-up; the swaps issue uses it for reconciliation).
    public var defaultModel: String?
    /// The most one diarization or long-transcription upload may hold (inventory `audio.upload_limit_mb`).
    public var audioUploadLimit = Inventory.defaultAudioUploadLimitMB * 1024 * 1024
    public static let defaultAudioUploadLimitMB = 2048

    public func node(_ id: String) -> Node? { nodes.first { $0.id == id } }
    public func service(_ id: String) -> ClusterService? { services.first { $0.id == id } }
    /// The services of one kind, in inventory order (the gateway routes each API to its kind's first).
    public func services(of kind: ServiceKind) -> [ClusterService] { services.filter { $0.kind == kind } }
    public func model(_ id: String) -> ModelRecipe? { models.first { $0.id == id } }
}

/// One machine of the cluster.
public struct Node: Sendable, Equatable {
    public enum Transport: String, Sendable, Equatable, CaseIterable {
        /// Commands run over the system OpenSSH client.
        case ssh
        /// Commands run on this machine with `/bin/sh -c` (demo mode, or SparkDeck running on the node itself).
        case local
    }

    public var id: String
    /// An IPv4 literal: mDNS `.local` names resolve IPv6-first and hang, so they are refused at load.
    public var host: String
    public var transport: Transport
    public var ssh: SSHSettings?
    /// The commands that read the node's GPU and containers.
    public var probes: NodeProbeSettings = .defaults
}

/// How a node's GPU and containers are read (every `interval_seconds`, over the node's runner).
public struct NodeProbeSettings: Sendable, Equatable {
    /// Prints `utilization, memory.used, memory.total, temperature, power` as CSV without units (nvidia-smi's form).
    public var gpu: String
    /// Prints one container a line: `name<TAB>image<TAB>status`.
    public var containers: String
    public var intervalSeconds: Int

    public static let defaults = NodeProbeSettings(
        gpu: GPUStats.query,
        containers: "docker ps --format '{{.Names}}\t{{.Image}}\t{{.Status}}'",
        intervalSeconds: 5)
}

/// How to reach a node over SSH.
public struct SSHSettings: Sendable, Equatable {
    public var user: String
    public var port: Int
    /// Private key path; `nil` means `<data>/ssh/id_ed25519`.
    public var keyPath: String?
}

/// The kinds of upstream service SparkDeck knows how to probe and proxy.
public enum ServiceKind: String, Sendable, Equatable, CaseIterable, Codable {
    case vllm, asr, tts, embeddings, rerank, qdrant

    /// Kinds whose requests carry recordings, transcripts or documents: their addresses must stay on the LAN.
    static let lanOnly: Set<ServiceKind> = [.asr, .tts, .embeddings, .rerank, .qdrant]

    /// The health path each upstream really serves (UPSTREAMS.md).
    public var defaultHealthPath: String {
        switch self {
        case .qdrant: "/readyz"
        default: "/health"
        }
    }
}

/// One upstream service on a node.
public struct ClusterService: Sendable, Equatable {
    public var id: String
    public var kind: ServiceKind
    public var node: String
    /// `http://host:port` (no trailing slash).
    public var baseURL: String
    public var health: HealthCheckSettings
    public var limits: AdmissionLimits
    /// A cap this service shares with others (inventory `admission_groups`, e.g. all audio services on one GPU).
    public var admissionGroup: AdmissionGroup? = nil
    /// Prints the service's log and keeps following it (`docker logs -f --tail 200 <container>`), run on its node.
    /// A `vllm` service without one uses the loaded model's `logs` command.
    public var logs: CommandTemplate? = nil
    /// How an `embeddings` or `rerank` service speaks (inventory `api:`).
    public var api = ServiceAPI()
    /// Whether `limits.max_in_flight` was set in the inventory or follows the service's kind.
    public var limitsOrigin = LimitsOrigin.inventory
}

/// Admission limits shared by several services: a request needs a slot of its service and one of the group.
public struct AdmissionGroup: Sendable, Equatable {
    public var name: String
    public var limits: AdmissionLimits
}

/// How often and how strictly a service is probed.
public struct HealthCheckSettings: Sendable, Equatable {
    public var path: String
    /// Time between the starts of two probes while the service answers.
    public var intervalMs: Int
    /// A probe not answered by then counts as failed: a hung service accepts TCP and never answers.
    public var timeoutMs: Int
    /// Answers slower than this on three probes in a row make the service `degraded`.
    public var degradedMs: Int
    /// Refused connections this soon after start-up mean `loading`, not `down`.
    public var startupGraceSeconds: Int

    // Interval + timeout stays under 1 s, so no outage of 1 s or more can fall between two probes.
    public static let defaults = HealthCheckSettings(
        path: "/health", intervalMs: 250, timeoutMs: 500, degradedMs: 300, startupGraceSeconds: 30)
}

/// Admission limits for a service (used by the gateway).
public struct AdmissionLimits: Sendable, Equatable {
    public var maxInFlight: Int
    public var queueDepth: Int
    public var queueTimeoutMs: Int
    /// How long an LLM request may wait for a running swap to finish before it gets `503 model_swapping`
    /// (0: at once). Only `vllm` services swap.
    public var swapWaitMs = 0

    public init(maxInFlight: Int, queueDepth: Int, queueTimeoutMs: Int, swapWaitMs: Int = 0) {
        self.maxInFlight = maxInFlight
        self.queueDepth = queueDepth
        self.queueTimeoutMs = queueTimeoutMs
        self.swapWaitMs = swapWaitMs
    }

    public static let defaults = AdmissionLimits(maxInFlight: 8, queueDepth: 32, queueTimeoutMs: 30_000)

    /// vLLM's own default `--max-num-seqs`: how many sequences it batches at once when a recipe does not say.
    public static let vllmDefaultMaxNumSeqs = 256

    /// The limits of a service whose inventory sets none, by what the service is. An LLM batches as many requests as
    /// vLLM's `max_num_seqs` (the largest of its recipes', else vLLM's default), so the gate lets that many through
    /// and queues as many again; speech runs on one GPU that stalls past 2 requests at once (measured on the Spark:
    /// UPSTREAMS.md), so it takes 2 and queues the rest for up to a minute; embeddings and rerank batch on the GPU;
    /// Qdrant is CPU-bound and fast.
    public static func defaults(for kind: ServiceKind, recipes: [ModelRecipe] = []) -> AdmissionLimits {
        switch kind {
        case .vllm:
            let seqs = recipes.compactMap(\.maxNumSeqs).max() ?? vllmDefaultMaxNumSeqs
            return AdmissionLimits(maxInFlight: seqs, queueDepth: seqs, queueTimeoutMs: 30_000)
        case .asr, .tts: return AdmissionLimits(maxInFlight: 2, queueDepth: 32, queueTimeoutMs: 60_000)
        case .embeddings, .rerank: return AdmissionLimits(maxInFlight: 8, queueDepth: 64, queueTimeoutMs: 60_000)
        case .qdrant: return AdmissionLimits(maxInFlight: 16, queueDepth: 128, queueTimeoutMs: 30_000)
        }
    }
}

/// Where a service's admission limits come from.
public enum LimitsOrigin: String, Sendable, Equatable, Codable {
    /// The inventory's `limits:` gives `max_in_flight`.
    case inventory
    /// None given: `AdmissionLimits.defaults(for:recipes:)`.
    case kindDefault = "kind_default"
}

/// A model the LLM node(s) can load, with the commands that launch, stop and follow it.
public struct ModelRecipe: Sendable, Equatable {
    public var id: String
    public var name: String
    /// The name vLLM lists in `/v1/models` once this model is loaded.
    public var servedName: String
    /// The `vllm` service this model is served by.
    public var service: String
    public var nodes: [String]
    public var memoryGiB: Double?
    public var expectedLoadSeconds: Int
    /// Named values the command templates may use, besides `model_id` and `served_name`.
    public var params: [String: String]
    public var commands: RecipeCommands

    /// How many sequences vLLM batches at once with this recipe: its `max_num_seqs` parameter, or the number after
    /// `--max-num-seqs` in its launch command; nil when neither says (vLLM then uses its default).
    public var maxNumSeqs: Int? {
        if let value = params["max_num_seqs"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), value > 0 { return value }
        let words = commands.launch.source.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\\" })
        for (index, word) in words.enumerated() {
            if word.hasPrefix("--max-num-seqs=") { return Int(word.dropFirst("--max-num-seqs=".count)).flatMap { $0 > 0 ? $0 : nil } }
            if word == "--max-num-seqs", index + 1 < words.count { return Int(words[index + 1]).flatMap { $0 > 0 ? $0 : nil } }
        }
        return nil
    }

    /// Every value a template of this recipe may name.
    public var templateValues: [String: String] {
        params.merging(["model_id": id, "served_name": servedName]) { _, builtIn in builtIn }
    }
}

/// The command templates of a model recipe.
public struct RecipeCommands: Sendable, Equatable {
    public var launch: CommandTemplate
    public var stop: CommandTemplate
    public var logs: CommandTemplate
    public var status: CommandTemplate?
}

/// A maintenance action the owner can run on a node after confirming it.
public struct MaintenanceAction: Sendable, Equatable {
    public var id: String
    public var name: String
    public var node: String
    public var command: CommandTemplate
    /// What happens when it runs, shown before the owner confirms.
    public var description: String
    /// A run still going after this long is stopped and reported as timed out.
    public var timeoutSeconds: Int = 300
}

/// An OpenAI-compatible endpoint outside the LAN (only scrubbed text is sent to it).
public struct ExternalEndpoint: Sendable, Equatable {
    /// Base URL, e.g. `https://api.openai.com/v1` (no trailing slash).
    public var url: String
    /// Where the API key comes from: an environment variable, or a file (first line).
    public var apiKeyEnv: String?
    public var apiKeyFile: String?
    /// Admission for calls to it, like any upstream's.
    public var limits: AdmissionLimits = .defaults

    /// The key, read when needed (so a rotated key file takes effect without a restart).
    public func apiKey() -> String? {
        if let name = apiKeyEnv, let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        if let path = apiKeyFile, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            return text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }
}
