import Foundation
import NIOCore

/// The representative request a capacity sweep sends to a service, by its kind: a chat prompt to an LLM, a 30 s
/// clip to an ASR, a sentence to a TTS, a batch of texts to an embeddings or rerank service.
struct SweepPayload: Sendable {
    var description: String
    var request: UpstreamRequest

    /// Each request waits at most this long for its answer; one that takes longer counts as an error.
    static let timeout = Duration.seconds(120)
    static let clipSeconds = 30
    static let batch = 32

    /// The payload for `service`, or nil when its kind has none (a vector store: no GPU to measure). `model` is the
    /// LLM's loaded model; `voice` one of the TTS's voices.
    static func make(for service: ClusterService, model: String?, voice: String?) -> SweepPayload? {
        switch service.kind {
        case .vllm:
            guard let model else { return nil }
            let body = JSONValue.object([
                "model": .string(model), "max_tokens": .number(64), "temperature": .number(0),
                "messages": .array([
                    .object([
                        "role": .string("user"),
                        "content": .string(
                            "Summarise in three sentences why a small team would run its own language models on two machines in the office instead of calling a hosted service."
                        ),
                    ])
                ]),
            ])
            return SweepPayload(
                description: "a chat prompt, up to 64 tokens out",
                request: post("/v1/chat/completions", body.encoded()))
        case .asr:
            var form = MultipartForm()
            form.fields = [("model", "parakeet"), ("response_format", "json")]
            let body = form.body(file: ByteBuffer(bytes: clip(seconds: clipSeconds)), fileName: "sweep.wav")
            return SweepPayload(
                description: "a \(clipSeconds) s clip to transcribe",
                request: UpstreamRequest(
                    route: "capacity_sweep", path: "/v1/audio/transcriptions", body: .bytes(body), contentType: form.contentType,
                    timeout: timeout))
        case .tts:
            let body = JSONValue.object([
                "model": .string("kokoro"), "voice": .string(voice ?? "af_heart"), "response_format": .string("wav"),
                "stream": .bool(false),
                "input": .string(
                    "The meeting moved to Thursday at ten. Please bring the quarterly figures and the notes from the last review."),
            ])
            return SweepPayload(description: "a two-sentence text to speak", request: post("/v1/audio/speech", body.encoded()))
        case .embeddings:
            let body = JSONValue.object([
                "input": .array(texts.map(JSONValue.string)), "model": .string(service.api.model ?? "bge-m3"),
            ])
            return SweepPayload(description: "a batch of \(batch) texts to embed", request: post("/v1/embeddings", body.encoded()))
        case .rerank:
            var body: [String: JSONValue] = ["query": .string("when does the maintenance window start")]
            switch service.api.rerank {
            case .tei: body["texts"] = .array(texts.map(JSONValue.string))
            case .cohere:
                body["documents"] = .array(texts.map(JSONValue.string))
                if let model = service.api.model { body["model"] = .string(model) }
            }
            return SweepPayload(
                description: "a query and \(batch) passages to rank",
                request: post(service.api.rerankPath, JSONValue.object(body).encoded()))
        case .qdrant:
            return nil
        }
    }

    static func post(_ path: String, _ body: Data) -> UpstreamRequest {
        UpstreamRequest(route: "capacity_sweep", path: path, body: .bytes(ByteBuffer(bytes: body)), timeout: timeout)
    }

    /// Texts of meeting-note length, each different, so no cache answers them.
    static let texts: [String] = (0..<batch).map { index in
        "Item \(index + 1): the team reviewed the rollout plan for site \(index % 7 + 1), agreed on the order of the "
            + "upgrades, and asked for the risks and the rollback steps to be written down before the window opens."
    }

    /// A 16 kHz mono WAV of voiced bursts (a 150 Hz tone with harmonics, 0.4 s on, 0.2 s off): an ASR decodes and
    /// runs its models on it as on speech.
    static func clip(seconds: Int) -> [UInt8] {
        let rate = 16_000
        let count = rate * seconds
        var samples = [UInt8]()
        samples.reserveCapacity(count * 2)
        for index in 0..<count {
            let t = Double(index) / Double(rate)
            let phase = t.truncatingRemainder(dividingBy: 0.6)
            var value = 0.0
            if phase < 0.4 {
                let envelope = sin(Double.pi * phase / 0.4)
                value = envelope * (0.5 * sin(2 * .pi * 150 * t) + 0.25 * sin(2 * .pi * 300 * t) + 0.12 * sin(2 * .pi * 450 * t))
            }
            let sample = Int16(max(-1, min(1, value)) * 12_000)
            withUnsafeBytes(of: sample.littleEndian) { samples += $0 }
        }
        return WAVFile.header(sampleRate: rate, channels: 1, dataBytes: samples.count) + samples
    }
}
