import Foundation
import Hummingbird

/// parakeet-asr on real audio: `/health` (`loading` then `ready`), `/v1/audio/transcriptions` and
/// `/v1/audio/diarizations`. Uploads are decoded by ffmpeg; words come from voiced runs, speakers from pitch. 503
/// while loading, 413 past the upload limit, optional stalls.
public enum SimASR {
    public struct Settings: Sendable {
        /// Uploads larger than this get 413 (the real service: 200 MB).
        public var maxUploadBytes: Int
        /// Every `stallEvery`-th request (health checks included) waits this long first, as the real service does
        /// under continuous GPU load.
        public var stallSeconds: Double
        public var stallEvery: Int
        /// false: `/v1/audio/diarizations` answers 501, as with diarization disabled.
        public var diarization: Bool
        /// How the GPU slows past its capacity (none: every request as fast as it is decoded).
        public var capacity: SimCapacityModel?

        public init(
            maxUploadBytes: Int = 200 * 1024 * 1024, stallSeconds: Double = 0, stallEvery: Int = 1,
            diarization: Bool = true, capacity: SimCapacityModel? = nil
        ) {
            self.capacity = capacity
            self.maxUploadBytes = maxUploadBytes
            self.stallSeconds = stallSeconds
            self.stallEvery = max(1, stallEvery)
            self.diarization = diarization
        }
    }

    static let model = "nvidia/parakeet-tdt-0.6b-v3"
    // What the real service names 2-3 speakers when the caller sends no speaker_names: hard-coded names, so a
    // caller that forgets them is noticed.
    static let defaultNames = ["Alice", "Bob", "Carol"]

    public static func run(_ options: SimOptions, settings: Settings = Settings()) async throws {
        let readyAt = Date().addingTimeInterval(options.loadSeconds)
        SimStartup.starting()
        SimLog.line("INFO:     Loading \(model) and the Sortformer diarizer")
        Task {
            try await Task.sleep(for: .seconds(options.loadSeconds))
            SimLog.line("INFO:     Models loaded in \(String(format: "%.1f", options.loadSeconds)) s; ready for requests")
        }
        let router = SimServer.router(options)
        let counter = SimCounter()
        let gpu = settings.capacity.map(SimCapacity.init)
        @Sendable func served(_ work: () async -> (Response, Double)) async -> Response {
            guard let gpu else { return await work().0 }
            return await gpu.serve {
                let (response, seconds) = await work()
                return (response, units: seconds)
            }
        }
        @Sendable func stall() async {
            guard settings.stallSeconds > 0 else { return }
            let number = counter.next()
            if number % settings.stallEvery == 0 { try? await Task.sleep(for: .seconds(settings.stallSeconds)) }
        }
        router.get("/health") { _, _ in
            await stall()
            let ready = Date() >= readyAt
            return SimServer.json([
                "status": ready ? "ready" : "loading", "model": model,
                "diarization": settings.diarization ? (ready ? "ready" : "loading") : "disabled",
            ])
        }
        router.post("/v1/audio/transcriptions") { request, _ in
            await stall()
            guard Date() >= readyAt else { return SimServer.json(["detail": "Model is loading"], status: .serviceUnavailable) }
            return await served {
                await handle(request, settings: settings) { form, words, duration in
                    transcription(form: form, words: words, duration: duration)
                }
            }
        }
        router.post("/v1/audio/diarizations") { request, _ in
            await stall()
            guard Date() >= readyAt else { return SimServer.json(["detail": "Model is loading"], status: .serviceUnavailable) }
            guard settings.diarization else {
                return SimServer.json(["detail": "Diarization is disabled on this server"], status: .notImplemented)
            }
            return await served {
                await handle(request, settings: settings) { form, words, duration in
                    diarization(form: form, words: words, duration: duration)
                }
            }
        }
        try await SimServer.run(router, options: options, name: "asr") { SimStartup.running(options) }
    }

    /// Reads the form, decodes `file` and analyses it, then lets `answer` build the response. Returns it with the
    /// seconds of audio the upload held (0 when it was refused).
    static func handle(
        _ request: Request, settings: Settings,
        answer: (SimForm, [SimSpeechAnalysis.Word], Double) -> Response
    ) async -> (Response, Double) {
        let tooLarge = SimServer.json(
            ["detail": "File too large. Maximum size is \(settings.maxUploadBytes / 1024 / 1024)MB"],
            status: .contentTooLarge)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > settings.maxUploadBytes + 64 * 1024 {
            return (tooLarge, 0)
        }
        let missingFile = SimServer.json(
            [
                "detail": [
                    [
                        "type": "missing", "loc": ["body", "file"], "msg": "Field required",
                        "input": NSNull(),
                    ]
                ]
            ], status: .unprocessableContent)
        // FastAPI finds no form at all in a body that is not multipart: the file is then missing.
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("multipart/form-data") else { return (missingFile, 0) }
        let form: SimForm
        do {
            var request = request
            let body = try await request.collectBody(upTo: settings.maxUploadBytes + 64 * 1024)
            form = try SimForm(body: body, contentType: request.headers[.contentType])
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            return (tooLarge, 0)
        } catch {
            return (SimServer.json(["detail": "\(error)"], status: .badRequest), 0)
        }
        guard let file = form.file() else { return (missingFile, 0) }
        guard file.data.count <= settings.maxUploadBytes else { return (tooLarge, 0) }
        guard !file.data.isEmpty else { return (SimServer.json(["detail": "Empty audio file"], status: .badRequest), 0) }
        let samples: [Int16]
        do {
            samples = try await SimAudio.decode(file.data)
        } catch {
            return (SimServer.json(["detail": "Could not decode audio file: \(error)"], status: .badRequest), 0)
        }
        guard !samples.isEmpty else { return (SimServer.json(["detail": "The audio file holds no audio"], status: .badRequest), 0) }
        let duration = Double(samples.count) / Double(SimSpeechAnalysis.sampleRate)
        return (answer(form, SimSpeechAnalysis.words(samples), duration), duration)
    }

    static func transcription(form: SimForm, words: [SimSpeechAnalysis.Word], duration: Double) -> Response {
        let texts = words.enumerated().map { SimDiarizer.text(for: $1, index: $0) }
        let text = texts.joined(separator: " ")
        let format = form.field("response_format") ?? "json"
        switch format {
        case "json":
            return SimServer.json(["text": text])
        case "verbose_json":
            let segments = zip(words, texts).enumerated().map { index, pair in
                ["id": index, "start": round3(pair.0.start), "end": round3(pair.0.end), "text": pair.1] as [String: Any]
            }
            return SimServer.json([
                "task": "transcribe", "language": form.field("language") ?? "en",
                "duration": round3(duration), "text": text, "segments": segments,
            ])
        case "text":
            return quoted(text)
        case "srt", "vtt":
            return quoted(subtitles(words: words, texts: texts, vtt: format == "vtt"))
        default:
            return SimServer.json(["detail": "Unsupported response_format: \(format)"], status: .badRequest)
        }
    }

    static func diarization(form: SimForm, words: [SimSpeechAnalysis.Word], duration: Double) -> Response {
        func count(_ name: String) -> Int? { form.field(name).flatMap(Int.init) }
        let maxSpeakers = count("num_speakers") ?? count("max_speakers")
        let slots = SimDiarizer.slots(for: words, duration: duration, maxSpeakers: maxSpeakers)
        let speakers = Set(slots).count
        let given = (form.field("speaker_names") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let names: [String] = (0..<max(speakers, 1)).map { slot in
            if slot < given.count { return given[slot] }
            if given.isEmpty, (2...3).contains(speakers) { return defaultNames[slot] }
            return "speaker_\(slot)"
        }
        let transcribe = (form.field("transcribe_audio") ?? "true").lowercased() != "false"
        var segments: [[String: Any]] = []
        var current: (slot: Int, start: Double, end: Double, words: [String])? = nil
        for (index, word) in words.enumerated() {
            let text = SimDiarizer.text(for: word, index: index)
            if let turn = current, turn.slot == slots[index], word.start - turn.end < 0.8 {
                current = (turn.slot, turn.start, word.end, turn.words + [text])
                continue
            }
            if let turn = current { segments.append(segment(turn, names: names, transcribe: transcribe)) }
            current = (slots[index], word.start, word.end, [text])
        }
        if let turn = current { segments.append(segment(turn, names: names, transcribe: transcribe)) }
        return SimServer.json([
            "task": "diarize", "duration": round3(duration), "num_speakers": speakers,
            "backend": "sortformer", "segments": segments,
        ])
    }

    static func segment(
        _ turn: (slot: Int, start: Double, end: Double, words: [String]), names: [String],
        transcribe: Bool
    ) -> [String: Any] {
        var fields: [String: Any] = ["speaker": names[turn.slot], "start": round3(turn.start), "end": round3(turn.end)]
        if transcribe { fields["text"] = turn.words.joined(separator: " ") }
        return fields
    }

    /// A cue per run of up to eight words without a pause of a second.
    static func subtitles(words: [SimSpeechAnalysis.Word], texts: [String], vtt: Bool) -> String {
        var cues: [(start: Double, end: Double, text: [String])] = []
        for (word, text) in zip(words, texts) {
            if let last = cues.last, last.text.count < 8, word.start - last.end < 1 {
                cues[cues.count - 1] = (last.start, word.end, last.text + [text])
            } else {
                cues.append((word.start, word.end, [text]))
            }
        }
        func stamp(_ seconds: Double) -> String {
            let total = Int((seconds * 1000).rounded())
            return String(format: "%02d:%02d:%02d", total / 3_600_000, total / 60_000 % 60, total / 1000 % 60)
                + (vtt ? "." : ",") + String(format: "%03d", total % 1000)
        }
        let body = cues.enumerated().map { index, cue in
            (vtt ? "" : "\(index + 1)\n") + "\(stamp(cue.start)) --> \(stamp(cue.end))\n" + cue.text.joined(separator: " ") + "\n"
        }.joined(separator: "\n")
        return vtt ? "WEBVTT\n\n" + body : body
    }

    /// A plain-text answer quoted as one JSON string, as FastAPI sends it.
    static func quoted(_ text: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed])) ?? Data("\"\"".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// A request counter shared by a sim's handlers.
final class SimCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
