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
                throw ValidationError(
                    "--fail-at must be one of weights[:PERCENT], kv-cache, cuda-graphs[:PERCENT], startup, none; got '\(failAt)'")
            }
        }

        func run() async throws {
            let failure = failAt == "none" ? nil : VLLMLoadScript.Failure(failAt)
            try await SimVLLM.run(common.options, settings: .init(model: model, failure: failure, tokensPerSecond: tokensPerSecond))
        }
    }

    struct ASR: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "asr", abstract: "parakeet-asr: transcriptions and diarizations of real audio (ffmpeg decodes).")
        @OptionGroup var common: Common
        @Option(help: "Uploads larger than this many MB get 413.")
        var maxUploadMb = 200
        @Option(help: "Stall requests (health checks included) this many seconds, as a loaded GPU does.")
        var stallSeconds: Double = 0
        @Option(help: "Stall only every Nth request.")
        var stallEvery = 1
        @Flag(help: "Answer /v1/audio/diarizations with 501, as with diarization disabled.")
        var noDiarization = false
        @Option(
            help:
                "Requests the simulated GPU serves at full speed; past it they share it, past one more they stall 1-4 s. Unset: no capacity model."
        )
        var capacity: Int?

        func validate() throws {
            guard maxUploadMb > 0 else { throw ValidationError("--max-upload-mb must be positive") }
            guard stallSeconds >= 0, stallEvery >= 1 else { throw ValidationError("--stall-seconds >= 0, --stall-every >= 1") }
            if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
        }

        func run() async throws {
            try await SimASR.run(
                common.options,
                settings: .init(
                    maxUploadBytes: maxUploadMb * 1024 * 1024, stallSeconds: stallSeconds, stallEvery: stallEvery,
                    diarization: !noDiarization, capacity: capacity.map { SimCapacityModel(capacity: $0) }))
        }
    }

    struct TTS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tts", abstract: "Kokoro TTS: voices and speech in every format, streamed by sentence.")
        @OptionGroup var common: Common
        @Flag(help: "Speak with the tone pattern even where espeak-ng is installed.")
        var tones = false
        @Option(
            help:
                "Requests the simulated GPU serves at full speed (0.3 s each before the audio starts); past it they share it, past one more they stall 1-4 s. Unset: no capacity model."
        )
        var capacity: Int?

        func validate() throws {
            if let capacity, capacity < 1 { throw ValidationError("--capacity must be at least 1") }
        }

        func run() async throws {
            try await SimTTS.run(
                common.options,
                settings: .init(
                    useEspeak: !tones, capacity: capacity.map { SimCapacityModel(capacity: $0, fixedSeconds: 0.3, secondsPerUnit: 0) }))
        }
    }

    struct Embeddings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "embeddings", abstract: "bge-m3 dense and sparse embeddings and a reranker (TEI and Infinity shapes).")
        @OptionGroup var common: Common
        @Option(help: "Size of the dense vectors.")
        var dimensions = 1024
        @Option(help: "Inputs per request; larger batches get TEI's 413.")
        var maxBatch = 32
        @Option(help: "Shape of /embed_sparse answers: tei ([[{index, value}]]) or lexical_weights (FlagEmbedding's).")
        var sparseFormat = "tei"

        func validate() throws {
            guard dimensions >= 1, maxBatch >= 1 else { throw ValidationError("--dimensions and --max-batch must be positive") }
            guard SimEmbeddings.Settings.SparseFormat(rawValue: sparseFormat) != nil else {
                throw ValidationError("--sparse-format must be tei or lexical_weights; got '\(sparseFormat)'")
            }
        }

        func run() async throws {
            try await SimEmbeddings.run(
                common.options,
                settings: .init(
                    dimensions: dimensions, maxBatch: maxBatch, sparseFormat: SimEmbeddings.Settings.SparseFormat(rawValue: sparseFormat)!))
        }
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
        static let configuration = CommandConfiguration(
            commandName: "qdrant", abstract: "Qdrant REST subset in memory: collections, points, Query API.")
        @OptionGroup var common: Common
        func run() async throws { try await SimQdrant.run(common.options) }
    }
}
