import Foundation
import Testing

@testable import SparkDeck
@testable import SparkSim

/// The ASR and TTS sims on real speech: recordings generated here with espeak-ng voices at known pitches, so each
/// answer is known from how the recording was made.
@Suite("SparkSim speech", .serialized)
struct SpeechSimTests {
    static let sentences = [
        "so we can start the meeting now",
        "yes I think that plan works",
        "what about the budget next week",
        "let us check the numbers again",
        "sounds good thanks everyone",
    ]

    /// Three voices far apart in pitch, taking turns A B C A B.
    static func threeVoices() async throws -> (samples: [Int16], turns: [SpeechRecordings.Turn]) {
        let voices = [("A", 10), ("B", 50), ("C", 99)]
        return try await SpeechRecordings.conversation(
            [0, 1, 2, 0, 1].enumerated().map { index, voice in
                (voices[voice].0, voices[voice].1, sentences[index])
            })
    }

    @Test func diarizationFindsTheThreeVoicesInOrderWithTheNamesGiven() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await Self.threeVoices()
        let wav = SpeechRecordings.wav(recording.samples)

        let named = try await SpeechRecordings.upload(
            port: port, "/v1/audio/diarizations",
            [("speaker_names", "Ann,Ben,Cid")], file: wav)
        #expect(named.status == 200)
        let object = try named.json()
        #expect(object["num_speakers"] as? Int == 3)
        #expect(object["task"] as? String == "diarize")
        let segments = try #require(object["segments"] as? [[String: Any]])
        #expect(SpeechRecordings.labels(of: recording.turns, in: segments) == ["Ann", "Ben", "Cid", "Ann", "Ben"])
        let starts = segments.compactMap { $0["start"] as? Double }
        #expect(starts == starts.sorted(), "segments in time order")
        #expect(segments.allSatisfy { !(($0["text"] as? String) ?? "").isEmpty })
        let duration = try #require(object["duration"] as? Double)
        #expect(abs(duration - Double(recording.samples.count) / 16_000) < 0.05)

        // Without speaker_names, two or three speakers come back with the service's own names.
        let unnamed = try await SpeechRecordings.upload(port: port, "/v1/audio/diarizations", [], file: wav).json()
        let unnamedSegments = try #require(unnamed["segments"] as? [[String: Any]])
        #expect(SpeechRecordings.labels(of: recording.turns, in: unnamedSegments) == ["Alice", "Bob", "Carol", "Alice", "Bob"])
    }

    @Test func transcriptionWordsFallInsideTheTurnsThatSpokeThem() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await Self.threeVoices()
        let answer = try await SpeechRecordings.upload(
            port: port, "/v1/audio/transcriptions",
            [("model", "parakeet"), ("response_format", "verbose_json"), ("language", "en")],
            file: SpeechRecordings.wav(recording.samples))
        #expect(answer.status == 200)
        let object = try answer.json()
        let words = try #require(object["segments"] as? [[String: Any]]).map {
            (start: $0["start"] as? Double ?? -1, end: $0["end"] as? Double ?? -1, text: $0["text"] as? String ?? "")
        }
        let total = recording.turns.reduce(0) { $0 + $1.words }
        #expect(abs(words.count - total) <= total / 10, "\(words.count) words heard, \(total) spoken")
        for word in words {
            #expect(
                recording.turns.contains { word.start >= $0.start - 0.1 && word.end <= $0.end + 0.1 },
                "word at \(word.start)-\(word.end) outside every turn")
        }
        for turn in recording.turns {
            let first = try #require(words.first { $0.end > turn.start - 0.1 })
            #expect(abs(first.start - turn.start) <= 0.1, "turn at \(turn.start) starts with a word at \(first.start)")
        }
        #expect(object["text"] as? String == words.map(\.text).joined(separator: " "))
    }

    @Test func textSubtitleFormatsComeBackJSONQuotedAsTheRealServiceSendsThem() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let speech = try await SpeechRecordings.espeak(Self.sentences[0], pitch: 40)
        // An MP3 upload: any format ffmpeg reads.
        let raw = try TestSupport.temporaryDirectory() + "/speech.raw"
        try Data(SimAudio.littleEndianBytes(speech)).write(to: URL(fileURLWithPath: raw))
        let mp3Path = raw + ".mp3"
        let encoded = try await SimSubprocess.run(
            "ffmpeg",
            [
                "-nostdin", "-loglevel", "error", "-f", "s16le", "-ar", "16000",
                "-ac", "1", "-i", raw, mp3Path,
            ])
        try #require(encoded.status == 0)
        let mp3 = try [UInt8](Data(contentsOf: URL(fileURLWithPath: mp3Path)))
        var bodies: [String: String] = [:]
        for format in ["json", "text", "srt", "vtt"] {
            let answer = try await SpeechRecordings.upload(
                port: port, "/v1/audio/transcriptions",
                [("response_format", format)], file: mp3, filename: "speech.mp3")
            #expect(answer.status == 200, "\(format)")
            bodies[format] = answer.text
        }
        let text = try #require(
            try SpeechRecordings.Answer(status: 200, headers: [], body: Array(bodies["json"]!.utf8), pieces: 1).json()["text"] as? String)
        #expect(text.split(separator: " ").count == 7)
        for format in ["text", "srt", "vtt"] {
            #expect(bodies[format]!.hasPrefix("\""), "\(format) is JSON-quoted")
        }
        #expect(UpstreamTranscript.normalizedText(Array(bodies["text"]!.utf8)) == text)
        #expect(UpstreamTranscript.normalizedText(Array(bodies["srt"]!.utf8)).hasPrefix("1\n00:00:00,"))
        #expect(UpstreamTranscript.normalizedText(Array(bodies["vtt"]!.utf8)).hasPrefix("WEBVTT\n\n00:00:00."))
    }

    @Test func fiveVoicesGetFourSlotsNumberedByFirstSpeech() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let pitches = [0, 25, 50, 75, 99]
        let recording = try await SpeechRecordings.conversation(
            pitches.enumerated().map { index, pitch in
                ("V\(index)", pitch, Self.sentences[index])
            })
        let object = try await SpeechRecordings.upload(
            port: port, "/v1/audio/diarizations", [],
            file: SpeechRecordings.wav(recording.samples)
        ).json()
        #expect(object["num_speakers"] as? Int == 4)
        let segments = try #require(object["segments"] as? [[String: Any]])
        var order: [String] = []
        for segment in segments { if let speaker = segment["speaker"] as? String, !order.contains(speaker) { order.append(speaker) } }
        #expect(order == ["speaker_0", "speaker_1", "speaker_2", "speaker_3"])
        let labels = SpeechRecordings.labels(of: recording.turns, in: segments)
        #expect(Set(labels.compactMap { $0 }) == Set(order), "five voices share the four slots")
        #expect(labels.first == "speaker_0")
    }

    @Test func labelsDegradeOnCallsMuchLongerThanNinetySeconds() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        // Two voices alternating for about two minutes.
        var turns: [(speaker: String, pitch: Int, text: String)] = []
        while turns.count < 34 {
            let voice = turns.count % 2
            turns.append((voice == 0 ? "A" : "B", voice == 0 ? 15 : 85, Self.sentences[turns.count % 5]))
        }
        let recording = try await SpeechRecordings.conversation(turns)
        try #require(Double(recording.samples.count) / 16_000 > 120)
        let segments = try #require(
            try await SpeechRecordings.upload(
                port: port, "/v1/audio/diarizations",
                [("speaker_names", "A,B")],
                file: SpeechRecordings.wav(recording.samples)
            ).json()["segments"] as? [[String: Any]])
        let labels = SpeechRecordings.labels(of: recording.turns, in: segments)
        func agreement(_ range: (SpeechRecordings.Turn) -> Bool) -> Double {
            let chosen = zip(recording.turns, labels).filter { range($0.0) }
            return Double(chosen.filter { $0.0.speaker == $0.1 }.count) / Double(max(1, chosen.count))
        }
        let early = agreement { $0.end < 90 }
        let late = agreement { $0.start > 100 }
        print(
            "asr sim on a \(Int(Double(recording.samples.count) / 16_000)) s call: turn labels right \(early) before 90 s, \(late) after 100 s"
        )
        #expect(early == 1)
        #expect(late < 0.95)

        // The same voices in chunks under 90 s are labelled right throughout.
        let short = Array(recording.samples.prefix(16_000 * 75))
        let shortSegments = try #require(
            try await SpeechRecordings.upload(
                port: port, "/v1/audio/diarizations",
                [("speaker_names", "A,B")],
                file: SpeechRecordings.wav(short)
            ).json()["segments"] as? [[String: Any]])
        let shortTurns = recording.turns.filter { $0.end < 75 }
        #expect(SpeechRecordings.labels(of: shortTurns, in: shortSegments) == shortTurns.map { Optional($0.speaker) })
    }

    @Test func loadingTooLargeNotAudioAndMissingFileAnswerLikeTheService() async throws {
        let (loading, loadingPort) = try await SpeechRecordings.startListening(["asr", "--load-seconds", "600"])
        defer { loading.signal(SIGKILL) }
        let health = try await SpeechRecordings.send(port: loadingPort, "/health", method: .GET)
        #expect(try health.json()["status"] as? String == "loading")
        let early = try await SpeechRecordings.upload(port: loadingPort, "/v1/audio/transcriptions", [], file: [1, 2, 3])
        #expect(early.status == 503)

        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0", "--max-upload-mb", "1"])
        defer { sim.signal(SIGKILL) }
        let big = try await SpeechRecordings.upload(
            port: port, "/v1/audio/transcriptions", [],
            file: SpeechRecordings.wav([Int16](repeating: 0, count: 700_000)))
        #expect(big.status == 413)
        #expect((try big.json()["detail"] as? String)?.contains("1MB") == true)
        let notAudio = try await SpeechRecordings.upload(
            port: port, "/v1/audio/transcriptions", [],
            file: Array("this is a text file\n".utf8), filename: "notes.wav")
        #expect(notAudio.status == 400)
        #expect((try notAudio.json()["detail"] as? String)?.contains("decode") == true)
        let missing = try await SpeechRecordings.upload(port: port, "/v1/audio/transcriptions", [("model", "x")], file: nil)
        #expect(missing.status == 422)
    }

    @Test func stallsAreInjectedOnEveryNthRequest() async throws {
        let (sim, port) = try await SpeechRecordings.startListening([
            "asr", "--load-seconds", "0", "--stall-seconds", "30", "--stall-every", "3",
        ])
        defer { sim.signal(SIGKILL) }
        // Only the service's own routes count (the listening probe went to an unknown path).
        var outcomes: [Bool] = []
        for _ in 0..<6 {
            let answered = (try? await SpeechRecordings.send(port: port, "/health", method: .GET, timeout: .seconds(3))) != nil
            outcomes.append(answered)
        }
        #expect(outcomes.filter { !$0 }.count == 2, "every third request stalls: \(outcomes)")
        #expect(outcomes.filter { $0 }.count == 4)
    }

    @Test func theTTSSimSpeaksEveryFormat() async throws {
        let (sim, port) = try await SpeechRecordings.start(["tts", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let voices = try await SpeechRecordings.send(port: port, "/v1/audio/voices", method: .GET).json()
        let list = try #require(voices["voices"] as? [[String: String]])
        #expect(list.contains { $0["id"] == "af_bella" && $0["name"] == "af_bella" })
        let input = "Hello there. This is a test of the voice! Does it work?"
        for format in ["mp3", "opus", "aac", "flac", "wav", "pcm"] {
            let body = try JSONSerialization.data(withJSONObject: [
                "model": "kokoro", "input": input, "voice": "af_bella",
                "response_format": format,
            ])
            let answer = try await SpeechRecordings.send(
                port: port, "/v1/audio/speech", body: [UInt8](body), contentType: "application/json")
            #expect(answer.status == 200, "\(format): \(answer.text.prefix(200))")
            #expect(answer.header("content-length") == nil, "\(format) is streamed")
            switch format {
            case "pcm":
                #expect(answer.body.count % 2 == 0 && answer.body.count > 24_000 * 2, "over a second of 16-bit audio")
            case "wav":
                #expect(Array(answer.body.prefix(4)) == Array("RIFF".utf8))
                let bytes = Array(answer.body[24..<28]).map(Int.init)
                let rate = bytes[0] | bytes[1] << 8 | bytes[2] << 16 | bytes[3] << 24
                #expect(rate == 24_000)
            default:
                let probe = try await SpeechRecordings.probe(answer.body)
                let expected = ["mp3": "mp3", "opus": "opus", "aac": "aac", "flac": "flac"][format]!
                #expect(probe.codec == expected, "\(format) decodes as \(probe.codec)")
                #expect(probe.duration > 1, "\(format): \(probe.duration) s")
            }
        }
    }

    @Test func aStreamedAnswerIsTheSameAudioAsAWholeOne() async throws {
        let (sim, port) = try await SpeechRecordings.start(["tts", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        func speak(stream: Bool) async throws -> SpeechRecordings.Answer {
            let body = try JSONSerialization.data(withJSONObject: [
                "model": "tts-1", "input": "One. Two three. Four five six.",
                "voice": "am_adam", "response_format": "pcm", "stream": stream,
            ])
            return try await SpeechRecordings.send(port: port, "/v1/audio/speech", body: [UInt8](body), contentType: "application/json")
        }
        let streamed = try await speak(stream: true)
        let whole = try await speak(stream: false)
        #expect(whole.header("content-length") == "\(whole.body.count)")
        #expect(streamed.header("content-length") == nil)
        #expect(streamed.body == whole.body)
        #expect(streamed.header("content-type") == "audio/pcm")
    }

    @Test func theTTSSimRefusesWhatKokoroRefuses() async throws {
        let (sim, port) = try await SpeechRecordings.start(["tts", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        func speak(_ fields: [String: Any]) async throws -> SpeechRecordings.Answer {
            var object: [String: Any] = ["model": "kokoro", "input": "Hi.", "voice": "af_bella"]
            object.merge(fields) { $1 }
            return try await SpeechRecordings.send(
                port: port, "/v1/audio/speech",
                body: [UInt8](try JSONSerialization.data(withJSONObject: object)),
                contentType: "application/json")
        }
        let model = try await speak(["model": "gpt-4o-tts"])
        #expect(model.status == 400)
        #expect((try model.json()["detail"] as? [String: Any])?["error"] as? String == "invalid_model")
        let voice = try await speak(["voice": "zz_nobody"])
        #expect(voice.status == 400)
        #expect(((try voice.json()["detail"] as? [String: Any])?["message"] as? String)?.contains("af_bella") == true)
        #expect(try await speak(["speed": 5]).status == 422)
        #expect(try await speak(["response_format": "ogg"]).status == 422)
        #expect(try await speak(["voice": "af_bella(2)+af_sky(1)"]).status == 200)
    }

    @Test(arguments: [false, true])
    func speechFromTheTTSSimIsHeardByTheASRSimAsItsVoicesAndWords(tones: Bool) async throws {
        let (tts, ttsPort) = try await SpeechRecordings.start(["tts", "--load-seconds", "0"] + (tones ? ["--tones"] : []))
        defer { tts.signal(SIGKILL) }
        let (asr, asrPort) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { asr.signal(SIGKILL) }
        let lines = [
            ("am_adam", "we can start the meeting now"), ("af_bella", "yes that plan works for me"),
            ("am_adam", "then we check the numbers"),
        ]
        var samples: [Int16] = []
        var turns: [SpeechRecordings.Turn] = []
        for (voice, text) in lines {
            let body = try JSONSerialization.data(withJSONObject: ["input": text + ".", "voice": voice, "response_format": "pcm"])
            let pcm = try await SpeechRecordings.send(
                port: ttsPort, "/v1/audio/speech", body: [UInt8](body), contentType: "application/json")
            let speech = SimAudio.resample(SimAudio.samples(fromLittleEndian: Data(pcm.body)), from: 24_000, to: 16_000)
            let loud = speech.indices.filter { abs(Int(speech[$0])) > 600 }
            turns.append(
                SpeechRecordings.Turn(
                    speaker: voice, start: Double(samples.count + loud.first!) / 16_000,
                    end: Double(samples.count + loud.last!) / 16_000, words: text.split(separator: " ").count))
            samples += speech + [Int16](repeating: 0, count: 8000)
        }
        let wav = SpeechRecordings.wav(samples)
        let diarized = try await SpeechRecordings.upload(
            port: asrPort, "/v1/audio/diarizations",
            [("speaker_names", "adam,bella")], file: wav
        ).json()
        #expect(diarized["num_speakers"] as? Int == 2)
        let segments = try #require(diarized["segments"] as? [[String: Any]])
        #expect(SpeechRecordings.labels(of: turns, in: segments) == ["adam", "bella", "adam"])
        if tones {
            // A tone per word: the ASR sim hears exactly the words spoken.
            let words = try #require(
                try await SpeechRecordings.upload(
                    port: asrPort, "/v1/audio/transcriptions",
                    [("response_format", "verbose_json")], file: wav
                )
                .json()["segments"] as? [[String: Any]])
            #expect(words.count == turns.reduce(0) { $0 + $1.words })
        }
    }
}

extension SpeechRecordings {
    /// Starts a sim without waiting for it to be ready (for a sim that stays loading or stalls its health checks):
    /// waits only until it listens.
    static func startListening(_ arguments: [String]) async throws -> (SpawnedProcess, Int) {
        let port = try FreePort.find(count: 1)[0]
        let log = try TestSupport.temporaryDirectory() + "/\(arguments[0]).log"
        let sim = try await TestSupport.startSim(arguments + ["--port", "\(port)"], log: log)
        let listening = await TestSupport.eventually(timeout: .seconds(20)) {
            (try? await send(port: port, "/listening-probe", method: .GET, timeout: .seconds(1))) != nil
        }
        if !listening { sim.signal(SIGKILL) }
        try #require(listening, "the \(arguments[0]) sim never listened")
        return (sim, port)
    }
}
