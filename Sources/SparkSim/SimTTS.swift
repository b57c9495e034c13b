import Foundation
import Hummingbird

/// Kokoro-FastAPI: `/health`, `/v1/models`, `/v1/audio/voices` and `/v1/audio/speech` with real audio in every
/// format (wav and pcm written directly, the compressed ones by ffmpeg), streamed one sentence per chunk. Like a
/// container, it listens only once it has started.
public enum SimTTS {
    static let voices = ["af_bella", "af_sky", "af_heart", "am_adam", "bf_emma", "bm_george"]
    static let models = ["kokoro", "tts-1", "tts-1-hd"]
    static let formats = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    static let contentTypes = [
        "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
        "wav": "audio/wav", "pcm": "audio/pcm",
    ]

    public struct Settings: Sendable {
        /// false: the tone voice even where espeak-ng is installed.
        public var useEspeak: Bool
        /// How the GPU slows past its capacity (none: every request as fast as it is spoken). Each request holds
        /// it for the model's fixed time before its audio starts.
        public var capacity: SimCapacityModel?

        public init(useEspeak: Bool = true, capacity: SimCapacityModel? = nil) {
            self.useEspeak = useEspeak
            self.capacity = capacity
        }
    }

    public static func run(_ options: SimOptions, settings: Settings = Settings()) async throws {
        SimStartup.starting()
        try await Task.sleep(for: .seconds(options.loadSeconds))
        let espeak = settings.useEspeak && SimSpeechSynthesis.espeakAvailable
        SimLog.line("INFO:     Voice: \(espeak ? "espeak-ng" : "tone pattern (espeak-ng not in use)")")
        let router = SimServer.router(options)
        router.get("/health") { _, _ in SimServer.json(["status": "healthy"]) }
        router.get("/v1/audio/voices") { _, _ in SimServer.json(["voices": voices.map { ["id": $0, "name": $0] }]) }
        router.get("/v1/models") { _, _ in
            SimServer.json([
                "object": "list", "data": models.map { ["id": $0, "object": "model", "created": 1_700_000_000, "owned_by": "sparksim"] },
            ])
        }
        let gpu = settings.capacity.map(SimCapacity.init)
        router.post("/v1/audio/speech") { request, _ in
            guard let gpu else { return try await speech(request, useEspeak: espeak) }
            return try await gpu.serve { (try await speech(request, useEspeak: espeak), units: 0) }
        }
        try await SimServer.run(router, options: options, name: "tts") { SimStartup.running(options) }
    }

    static func detail(_ error: String, _ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        SimServer.json(["detail": ["error": error, "message": message, "type": "invalid_request_error"]], status: status)
    }

    /// FastAPI's validation answer (422) for one field.
    static func unprocessable(_ field: String, _ message: String, input: Any) -> Response {
        SimServer.json(
            ["detail": [["type": "value_error", "loc": ["body", field], "msg": message, "input": input]]],
            status: .unprocessableContent)
    }

    static func speech(_ request: Request, useEspeak: Bool) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1024 * 1024)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            return unprocessable("body", "Input should be a valid JSON object", input: NSNull())
        }
        let model = object["model"] as? String ?? "kokoro"
        guard models.contains(model) else { return detail("invalid_model", "Unsupported model: \(model)") }
        guard let input = object["input"] as? String else { return unprocessable("input", "Field required", input: NSNull()) }
        let format = object["response_format"] as? String ?? "mp3"
        guard formats.contains(format) else {
            return unprocessable("response_format", "Input should be 'mp3', 'opus', 'aac', 'flac', 'wav' or 'pcm'", input: format)
        }
        let speed = (object["speed"] as? NSNumber)?.doubleValue ?? 1
        guard (0.25...4.0).contains(speed) else {
            return unprocessable("speed", "Input should be between 0.25 and 4.0", input: speed)
        }
        let voiceName = object["voice"] as? String ?? "af_heart"
        let voice: SimSpeechSynthesis.Voice
        switch SimSpeechSynthesis.voice(voiceName, known: voices) {
        case .success(let parsed): voice = parsed
        case .failure(let error):
            return detail("validation_error", "Voice '\(error.name)' not found. Available voices: \(voices.joined(separator: ", "))")
        }
        let sentences = SimSpeechSynthesis.sentences(input)
        guard !sentences.isEmpty else { return detail("validation_error", "Input text cannot be empty") }
        let stream = object["stream"] as? Bool ?? true
        var headers: HTTPFields = [.contentType: contentTypes[format]!, .cacheControl: "no-cache"]
        headers[.contentDisposition] = "attachment; filename=speech.\(format)"
        let rate = SimSpeechSynthesis.sampleRate
        let speak: @Sendable (String) async -> [Int16] = {
            await SimSpeechSynthesis.speak($0, voice: voice, speed: speed, useEspeak: useEspeak)
        }

        if format == "pcm" || format == "wav" {
            guard stream else {
                var samples: [Int16] = []
                for sentence in sentences { samples += await speak(sentence) }
                let bytes = SimAudio.littleEndianBytes(samples)
                let header = format == "wav" ? SimAudio.wavHeader(sampleRate: rate, dataBytes: bytes.count) : []
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: header + bytes)))
            }
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    if format == "wav" { try await writer.write(ByteBuffer(bytes: SimAudio.wavHeader(sampleRate: rate, dataBytes: nil))) }
                    for sentence in sentences {
                        try await writer.write(ByteBuffer(bytes: SimAudio.littleEndianBytes(await speak(sentence))))
                    }
                    try await writer.finish(nil)
                })
        }

        let encoder: SimEncoder
        do {
            encoder = try SimEncoder(format: format, sampleRate: rate)
        } catch {
            return detail("processing_error", "Cannot encode \(format): \(error)", status: .internalServerError)
        }
        let feeder = Task {
            for sentence in sentences {
                if Task.isCancelled { break }
                await encoder.write(await speak(sentence))
            }
            encoder.finish()
        }
        guard stream else {
            var bytes: [UInt8] = []
            for await chunk in encoder.output { bytes += chunk }
            _ = await feeder.value
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                do {
                    for await chunk in encoder.output { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                } catch {
                    feeder.cancel()
                    encoder.cancel()
                    throw error
                }
            })
    }
}
