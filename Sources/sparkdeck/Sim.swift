import ArgumentParser
import Foundation
import SparkSim

struct Sim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one simulated Spark service (SparkSim) for demos and tests.",
        subcommands: [VLLM.self, ASR.self, TTS.self, Embeddings.self, Qdrant.self, NvidiaSMI.self]
    )

    struct Common: ParsableArguments {
        @Option(help: "Port to listen on.")
        var port: Int

        @Option(help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "Seconds the service takes to become ready.")
        var loadSeconds: Double = 1

        @Option(help: "Exit when the process with this pid is gone.")
        var exitWith: Int32?

        @Flag(help: "Log each request (health checks aside) as uvicorn does.")
        var accessLog = false

        var options: SimOptions {
            SimOptions(host: host, port: port, loadSeconds: loadSeconds, exitWithPID: exitWith, accessLog: accessLog)
        }
    }

    struct VLLM: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "vllm", abstract: "A vLLM OpenAI server loading a model.")
        @OptionGroup var common: Common
        @Option(help: "Served model name (listed by /v1/models).")
        var model: String
        @Option(help: "Crash during loading: weights[:PERCENT], kv-cache, cuda-graphs[:PERCENT], startup, or none.")
        var failAt = "none"
        @Option(help: "Tokens per second per stream.")
        var tokensPerSecond: Double = 50

        func validate() throws {
            if failAt != "none" && VLLMLoadScript.Failure(failAt) == nil {
                throw ValidationError("--fail-at must be one of weights[:PERCENT], kv-cache, cuda-graphs[:PERCENT], startup, none; got '\(failAt)'")
            }
        }

        func run() async throws {
            let failure = failAt == "none" ? nil : VLLMLoadScript.Failure(failAt)
            try await SimVLLM.run(common.options, settings: .init(model: model, failure: failure, tokensPerSecond: tokensPerSecond))
        }
    }

    struct ASR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "asr", abstract: "parakeet-asr (health, loading).")
        @OptionGroup var common: Common
        func run() async throws { try await SimASR.run(common.options) }
    }

    struct TTS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tts", abstract: "Kokoro TTS (health, voices).")
        @OptionGroup var common: Common
        func run() async throws { try await SimTTS.run(common.options) }
    }

    struct Embeddings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "embeddings", abstract: "bge-m3 embeddings (health).")
        @OptionGroup var common: Common
        func run() async throws { try await SimEmbeddings.run(common.options) }
    }

    struct NvidiaSMI: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "nvidia-smi", abstract: "Print a GB10-like GPU reading in nvidia-smi's CSV form (memory [N/A]).")
        @Option(help: "The GPU counts as busy while the process in this pid file runs.")
        var busyPidFile: String?
        @Argument(parsing: .allUnrecognized, help: "nvidia-smi's own options, accepted and ignored.")
        var passthrough: [String] = []

        func run() {
            print(SimNvidiaSMI.line(busy: SimNvidiaSMI.isAlive(pidFile: busyPidFile)))
        }
    }

    struct Qdrant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "qdrant", abstract: "Qdrant (health, collections).")
        @OptionGroup var common: Common
        func run() async throws { try await SimQdrant.run(common.options) }
    }
}
