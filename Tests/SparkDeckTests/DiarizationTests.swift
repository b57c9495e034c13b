import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import SparkDeck
@testable import SparkSim

/// `/v1/audio/diarizations` and the audio jobs, end to end: recordings made here with espeak-ng voices at known
/// pitches go through SparkDeck (spool, real ffmpeg, chunks, label merge) to the ASR sim, and the answers are
/// checked against how the recordings were made.
@Suite("Diarization and audio jobs", .serialized)
struct DiarizationTests {
    static let sentences = [
        "so we can start the meeting now", "yes I think that plan works", "what about the budget next week",
        "let us check the numbers again", "sounds good thanks everyone", "the call is on friday then",
    ]

    /// SparkDeck with all its routes, its ASR at `asrPort`; `change` edits the inventory first.
    static func sparkDeck(asrPort: Int, data: String? = nil, change: (inout Inventory) -> Void = { _ in }) async throws -> AppDependencies {
        var inventory = TestSupport.inventory(services: [("vllm", .vllm, 9), ("asr", .asr, asrPort)])
        change(&inventory)
        let dependencies = try AppDependencies(
            configuration: ServerConfiguration(dataDirectory: try data ?? TestSupport.temporaryDirectory(), inventory: inventory),
            logger: TestSupport.logger)
        TestSupport.keepAlive(dependencies)
        let now = Timestamp.now()
        await dependencies.board.record(
            .init(kind: .service, id: "asr"), Observation(verdict: .ready, latencyMs: 1, sentAt: now, finishedAt: now))
        return dependencies
    }

    static func app(_ dependencies: AppDependencies) -> some ApplicationProtocol {
        Application(router: buildRouter(dependencies), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Four voices over four and a half minutes, three at a time in turn, so each chunk window holds three or four,
    /// every voice crosses chunk boundaries and each comes back after a minute away; named in the order they first
    /// speak. The sim tells speakers apart by pitch alone and confuses voices an octave apart (its pitch tracker
    /// halves high voices now and then), so these four stay half an octave apart and off each other's octaves; more
    /// speakers than slots are the merge suite's (SpeakerLabelMergeTests), on generated timelines.
    static func fourVoices() async throws -> (samples: [Int16], turns: [SpeechRecordings.Turn]) {
        let pitches = [("A", 10), ("B", 60), ("C", 99), ("D", 90)]
        var turns: [(speaker: String, pitch: Int, text: String)] = []
        for block in 0..<6 {
            for index in 0..<12 {
                let voice = pitches[(block + index % 3) % 4]
                turns.append((voice.0, voice.1, sentences[(block * 12 + index) % sentences.count]))
            }
        }
        return try await SpeechRecordings.conversation(turns, voices: ["D": "en+f4"])
    }

    /// How many words the ASR sim hears in the whole recording in one call: the count a chunked answer must keep.
    static func wordsHeardWhole(port: Int, _ wav: [UInt8]) async throws -> Int {
        let answer = try await SpeechRecordings.upload(
            port: port, "/v1/audio/transcriptions", [("response_format", "verbose_json")], file: wav)
        return try #require(try answer.json()["segments"] as? [[String: Any]]).count
    }

    static func agreement(_ turns: [SpeechRecordings.Turn], _ segments: [[String: Any]]) -> Double {
        let labels = SpeechRecordings.labels(of: turns, in: segments)
        return Double(zip(turns, labels).filter { $0.speaker == $1 }.count) / Double(turns.count)
    }

    @Test func speakersAcrossManyChunksKeepTheirNames() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await Self.fourVoices()
        let dependencies = try await Self.sparkDeck(asrPort: port)
        try await Self.app(dependencies).test(.live) { client in
            let form = SpeechRecordings.form(
                [("speaker_names", "A,B,C,D"), ("chunk_seconds", "60"), ("overlap_seconds", "15"), ("response_format", "verbose_json")],
                file: SpeechRecordings.wav(recording.samples))
            let answer = try await SpeechRecordings.send(
                port: try #require(client.port), "/v1/audio/diarizations", body: form.body, contentType: form.contentType,
                timeout: .seconds(600))
            #expect(answer.status == 200, "\(answer.text.prefix(400))")
            let object = try answer.json()
            #expect(object["speakers"] as? [String] == ["A", "B", "C", "D"])
            let segments = try #require(object["segments"] as? [[String: Any]])
            let share = Self.agreement(recording.turns, segments)
            #expect(
                share >= 0.95,
                "speaker agreement \(share): \(SpeechRecordings.labels(of: recording.turns, in: segments).map { $0 ?? "?" }.joined()) for \(recording.turns.map(\.speaker).joined()), speakers \(object["speakers"] ?? "")"
            )
            let words = try #require(object["words"] as? [[String: Any]])
            // A word cut by a chunk edge may be heard as two or none: a couple per boundary at most, where a doubled
            // overlap would add some thirty.
            let whole = try await Self.wordsHeardWhole(port: port, SpeechRecordings.wav(recording.samples))
            #expect(abs(words.count - whole) <= 12, "each word once, overlaps not doubled: \(words.count) vs \(whole) heard whole")
            #expect(words.allSatisfy { $0["speaker"] is String })
        }
        #expect(dependencies.spool.entries().isEmpty, "a finished call leaves nothing in the spool")
    }

    /// Left: the local microphone, with the remote party bleeding in at a quarter of its level. Right: the remote.
    static func call() async throws -> (samples: [Int16], local: [SpeechRecordings.Turn], remote: [SpeechRecordings.Turn]) {
        let script: [(local: Bool, text: String)] = (0..<10).map { ($0 % 2 == 0, sentences[$0 % sentences.count]) }
        var left: [Int16] = []
        var right: [Int16] = []
        var local: [SpeechRecordings.Turn] = []
        var remote: [SpeechRecordings.Turn] = []
        for (index, line) in script.enumerated() {
            // The local speaker's last line is quiet: kept, since the remote is silent then.
            let gain = line.local && index == script.count - 2 ? 0.15 : 1.0
            let speech = try await SpeechRecordings.espeak(line.text, pitch: line.local ? 10 : 80).map { Int16(Double($0) * gain) }
            let start = Double(left.count) / 16_000
            let turn = SpeechRecordings.Turn(
                speaker: line.local ? "me" : "them", start: start, end: start + Double(speech.count) / 16_000,
                words: line.text.split(separator: " ").count)
            if line.local {
                left += speech
                right += [Int16](repeating: 0, count: speech.count)
                local.append(turn)
            } else {
                left += speech.map { Int16(Double($0) * 0.25) }
                right += speech
                remote.append(turn)
            }
            left += [Int16](repeating: 0, count: 11_200)
            right += [Int16](repeating: 0, count: 11_200)
        }
        var stereo: [Int16] = []
        stereo.reserveCapacity(left.count * 2)
        for index in left.indices { stereo += [left[index], right[index]] }
        return (stereo, local, remote)
    }

    @Test func aDualChannelCallKeepsLocalWordsAndDropsTheBleed() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let call = try await Self.call()
        let wav =
            WAVFile.header(sampleRate: 16_000, channels: 2, dataBytes: call.samples.count * 2) + SimAudio.littleEndianBytes(call.samples)
        let dependencies = try await Self.sparkDeck(asrPort: port)
        try await Self.app(dependencies).test(.live) { client in
            let answer = try await SpeechRecordings.upload(
                port: try #require(client.port), "/v1/audio/diarizations",
                [("channel_mode", "dual"), ("local_speaker", "me"), ("speaker_names", "them"), ("response_format", "verbose_json")],
                file: wav)
            #expect(answer.status == 200, "\(answer.text.prefix(400))")
            let object = try answer.json()
            #expect(object["speakers"] as? [String] == ["me", "them"])
            let words = try #require(object["words"] as? [[String: Any]])
            func inside(_ turns: [SpeechRecordings.Turn], _ word: [String: Any]) -> Bool {
                guard let start = word["start"] as? Double, let end = word["end"] as? Double else { return false }
                return turns.contains { (start + end) / 2 >= $0.start - 0.05 && (start + end) / 2 <= $0.end + 0.05 }
            }
            let localWords = words.filter { $0["channel"] as? String == "local" }
            let kept = localWords.filter { inside(call.local, $0) }.count
            let expected = call.local.reduce(0) { $0 + $1.words }
            #expect(Double(kept) >= 0.98 * Double(expected), "local words kept: \(kept) of \(expected)")
            let bleed = localWords.filter { inside(call.remote, $0) }.count
            let remoteWords = call.remote.reduce(0) { $0 + $1.words }
            #expect(Double(bleed) <= 0.05 * Double(remoteWords), "bleed words taken as local: \(bleed) of \(remoteWords)")
            let quiet = call.local[call.local.count - 1]
            #expect(localWords.contains { inside([quiet], $0) }, "the quiet local line is kept while the remote is silent")
            #expect(words.filter { $0["channel"] as? String == "remote" }.allSatisfy { $0["speaker"] as? String == "them" })
        }
    }

    @Test func anAsyncJobReportsProgressAndItsResult() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        // Ten turns, about half a minute: several 20 s chunks.
        let voices = [("A", 10), ("B", 50), ("C", 99)]
        let recording = try await SpeechRecordings.conversation(
            (0..<10).map { (voices[$0 % 3].0, voices[$0 % 3].1, Self.sentences[$0 % Self.sentences.count]) })
        let dependencies = try await Self.sparkDeck(asrPort: port)
        let (id, events) = await dependencies.events.subscribe()
        defer { Task { await dependencies.events.unsubscribe(id) } }
        try await Self.app(dependencies).test(.live) { client in
            let gateway = try #require(client.port)
            let accepted = try await SpeechRecordings.upload(
                port: gateway, "/v1/audio/diarizations",
                [("async", "true"), ("response_format", "srt"), ("chunk_seconds", "20"), ("overlap_seconds", "5")],
                file: SpeechRecordings.wav(recording.samples))
            #expect(accepted.status == 202)
            let job = try #require(try accepted.json()["id"] as? String)
            #expect(accepted.header("location") == "/v1/audio/jobs/\(job)")
            var states: [String] = []
            var done: [String: Any] = [:]
            for try await event in events where event.name == "audio_job" {
                let object = try #require(JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])
                guard object["id"] as? String == job else { continue }
                states.append(object["state"] as? String ?? "?")
                if ["succeeded", "failed", "cancelled"].contains(object["state"] as? String ?? "") { break }
            }
            #expect(states.last == "succeeded", "\(states)")
            #expect(states.contains("running"))
            let status = try await SpeechRecordings.send(port: gateway, "/v1/audio/jobs/\(job)", method: .GET)
            done = try status.json()
            #expect(done["state"] as? String == "succeeded")
            let progress = try #require(done["progress"] as? [String: Any])
            #expect((progress["chunks_done"] as? Int ?? 0) >= 2, "a 20 s plan cuts this recording into chunks")
            #expect(progress["chunks_done"] as? Int == progress["chunks_planned"] as? Int)
            let srt = try #require(done["result"] as? String)
            #expect(srt.hasPrefix("1\n00:00:0"), "\(srt.prefix(80))")
            #expect(srt.contains("speaker_0") && srt.contains("speaker_2"))
            let (groups, _) = try await dependencies.apps.summary(minutes: 5, byRoute: true)
            let counted = groups.filter { $0.key.route == "diarizations" }.values.reduce(0) { $0 + $1.audioSeconds }
            let audio = try #require(progress["audio_seconds"] as? Double)
            #expect(abs(counted - audio) < 0.2, "the job's audio is counted to its app: \(counted) s of \(audio) s")
        }
        #expect(dependencies.spool.entries().isEmpty)
    }

    /// An ASR that takes every diarization call and answers none until released, counting the calls that arrive.
    final class HangingASR: Sendable {
        let arrived = Mutex(0)
        let released = Mutex(false)

        func app() -> some ApplicationProtocol {
            let router = Router()
            router.post("/v1/audio/diarizations") { request, _ in
                _ = try await request.body.collect(upTo: 64 << 20)
                self.arrived.withLock { $0 += 1 }
                while !self.released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
                return Response(status: .ok)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }
    }

    @Test func aJobIsItsSubmittersAlone() async throws {
        let asr = HangingASR()
        let recording = try await SpeechSimTests.threeVoices()
        try await asr.app().test(.live) { upstream in
            let dependencies = try await Self.sparkDeck(asrPort: try #require(upstream.port))
            let (mine, _) = try await dependencies.keys.create(name: "call-recaps", scopes: [.audio])
            let (theirs, _) = try await dependencies.keys.create(name: "other-app", scopes: [.audio])
            try await Self.app(dependencies).test(.live) { client in
                let gateway = try #require(client.port)
                let accepted = try await SpeechRecordings.upload(
                    port: gateway, "/v1/audio/diarizations", [("async", "true"), ("chunk_seconds", "20"), ("overlap_seconds", "5")],
                    file: SpeechRecordings.wav(recording.samples), key: mine)
                let job = try #require(try accepted.json()["id"] as? String)
                let path = "/v1/audio/jobs/\(job)"
                #expect(try await SpeechRecordings.send(port: gateway, path, method: .GET, key: theirs).status == 404)
                #expect(try await SpeechRecordings.send(port: gateway, path, method: .DELETE, key: theirs).status == 404)
                let own = try await SpeechRecordings.send(port: gateway, path, method: .GET, key: mine)
                #expect(own.status == 200)
                #expect(["queued", "running"].contains(try own.json()["state"] as? String ?? ""), "another key cannot cancel it")
                let stored = try #require(try await AudioJobStore(store: dependencies.store).job(job))
                #expect(stored.owner?.hasPrefix("key:") == true, "the owner is kept with the job, so it holds after a restart")
                let cancelled = try await SpeechRecordings.send(port: gateway, path, method: .DELETE, key: mine)
                #expect(try cancelled.json()["state"] as? String == "cancelled")
            }
            asr.released.withLock { $0 = true }
        }
    }

    @Test func cancellingAJobStopsItsCallsAndEmptiesTheSpool() async throws {
        let asr = HangingASR()
        let recording = try await SpeechSimTests.threeVoices()
        try await asr.app().test(.live) { upstream in
            let dependencies = try await Self.sparkDeck(asrPort: try #require(upstream.port))
            try await Self.app(dependencies).test(.live) { client in
                let gateway = try #require(client.port)
                let accepted = try await SpeechRecordings.upload(
                    port: gateway, "/v1/audio/diarizations", [("async", "true"), ("chunk_seconds", "20"), ("overlap_seconds", "5")],
                    file: SpeechRecordings.wav(recording.samples))
                let job = try #require(try accepted.json()["id"] as? String)
                let calling = await TestSupport.eventually(timeout: .seconds(30)) { asr.arrived.withLock { $0 } >= 1 }
                #expect(calling, "the job reached the ASR")
                #expect(
                    try await SpeechRecordings.send(port: gateway, "/v1/audio/jobs/\(job)", method: .GET).json()["state"] as? String
                        == "running")
                let cancelled = try await SpeechRecordings.send(port: gateway, "/v1/audio/jobs/\(job)", method: .DELETE)
                #expect(try cancelled.json()["state"] as? String == "cancelled", "\(cancelled.text.prefix(600))")
                #expect(dependencies.spool.entries().isEmpty)
                #expect(dependencies.gates.inFlight(serviceID: "asr") == 0, "the cancelled calls gave their slots back")
                let stored = try #require(try await AudioJobStore(store: dependencies.store).job(job))
                #expect(stored.state == .cancelled)
            }
            asr.released.withLock { $0 = true }
        }
    }

    @Test func anUnfinishedJobResumesFromItsSpoolAfterARestart() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await SpeechSimTests.threeVoices()
        let data = try TestSupport.temporaryDirectory()
        // What a crash mid-job leaves: the job stored as running, its upload in the spool.
        let before = try await Self.sparkDeck(asrPort: port, data: data)
        let request = try AudioJobRequest.parse(.diarization, fields: ["speaker_names": ["Ann,Ben,Cid"]], fileName: "call.wav")
        let now = Timestamp.now()
        var resumed = AudioJob(
            id: "audjob_resumed", request: request, state: .running, progress: AudioJobProgress(), createdAt: now, updatedAt: now)
        resumed.app = RequestApp(name: "call-recaps", isKey: true)
        try await AudioJobStore(store: before.store).save(resumed)
        try await AudioJobStore(store: before.store).save(
            AudioJob(id: "audjob_lost", request: request, state: .running, progress: AudioJobProgress(), createdAt: now, updatedAt: now))
        _ = try before.spool.folder(for: "audjob_resumed")
        try Data(SpeechRecordings.wav(recording.samples)).write(to: URL(fileURLWithPath: before.spool.uploadPath(for: "audjob_resumed")))
        _ = try before.spool.folder(for: "orphan")

        let after = try await Self.sparkDeck(asrPort: port, data: data)
        await after.audioJobs.resumeUnfinished()
        #expect(!after.spool.entries().contains("orphan"), "a folder no job owns is removed at start-up")
        let finished = await TestSupport.eventually(timeout: .seconds(60)) {
            (try? await after.audioJobs.job("audjob_resumed"))?.state.isFinished == true
        }
        #expect(finished)
        let job = try #require(try await after.audioJobs.job("audjob_resumed"))
        #expect(job.state == .succeeded, "\(job.errorMessage ?? "")")
        let result = try #require(job.result)
        let object = try #require(JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])
        #expect(object["speakers"] as? [String] == ["Ann", "Ben", "Cid"])
        let (groups, _) = try await after.apps.summary(minutes: 5, byRoute: true)
        let counted = groups.first { $0.key.app == "call-recaps" && $0.key.route == "diarizations" }?.value
        #expect((counted?.audioSeconds ?? 0) > 1, "the resumed job's audio counts to the app that sent it: \(groups.keys)")
        let lost = try #require(try await after.audioJobs.job("audjob_lost"))
        #expect(lost.state == .failed && lost.errorCode == "upload_lost")
    }

    @Test func badUploadsAreRefusedSayingWhatToFixAndLeaveNothingBehind() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await SpeechSimTests.threeVoices()
        let wav = SpeechRecordings.wav(recording.samples)
        let dependencies = try await Self.sparkDeck(asrPort: port) { $0.audioUploadLimit = 1024 * 1024 }
        let cases: [(name: String, fields: [(String, String)], file: [UInt8]?, status: UInt, param: String?, says: String)] = [
            ("empty", [], [], 400, "file", "empty"),
            ("text named .wav", [], Array("just some notes, not audio\n".utf8), 400, "file", "ffmpeg could not read"),
            ("truncated", [], Array(wav.prefix(wav.count / 3)), 400, "file", "ends early"),
            ("mono sent as dual", [("channel_mode", "dual")], wav, 400, "channel_mode", "stereo"),
            ("over the limit", [], [UInt8](repeating: 1, count: 1024 * 1024 + 10), 413, "file", "over 1 MB"),
            ("no file", [("model", "x")], nil, 400, "file", "no file part"),
            ("bad format", [("response_format", "mp3")], wav, 400, "response_format", "one of json"),
            ("bad chunking", [("chunk_seconds", "5")], wav, 400, "chunk_seconds", "between"),
            ("bad max speakers", [("max_speakers", "0")], wav, 400, "max_speakers", "whole number"),
        ]
        try await Self.app(dependencies).test(.live) { client in
            for item in cases {
                let answer = try await SpeechRecordings.upload(
                    port: try #require(client.port), "/v1/audio/diarizations", item.fields, file: item.file)
                #expect(answer.status == item.status, "\(item.name): \(answer.text.prefix(300))")
                let error = try answer.json()["error"] as? [String: Any]
                #expect(error?["param"] as? String == item.param, "\(item.name)")
                #expect((error?["message"] as? String ?? "").contains(item.says), "\(item.name): \(answer.text.prefix(300))")
                #expect(!answer.text.contains(dependencies.spool.root), "\(item.name): the spool path is SparkDeck's own")
                #expect(dependencies.spool.entries().isEmpty, "\(item.name) left something in the spool")
            }
        }
    }

    @Test func aTranscriptionPastTheASRLimitIsCutAndStitched() async throws {
        let (sim, port) = try await SpeechRecordings.start(["asr", "--load-seconds", "0"])
        defer { sim.signal(SIGKILL) }
        let recording = try await Self.fourVoices()
        let wav = SpeechRecordings.wav(recording.samples)
        let dependencies = try await Self.sparkDeck(asrPort: port)
        let router = Router()
        let long = AudioJobsController(
            jobs: dependencies.audioJobs, spool: dependencies.spool, inventory: dependencies.configuration.inventory,
            core: dependencies.core)
        // An ASR limit below this file's size, so the long path is taken.
        TranscriptionController(
            inventory: dependencies.configuration.inventory, core: dependencies.core, long: long, uploadLimit: wav.count / 4
        )
        .addRoutes(to: router)
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let answer = try await SpeechRecordings.upload(
                port: try #require(client.port), "/v1/audio/transcriptions",
                [
                    ("model", "parakeet"), ("response_format", "verbose_json"), ("timestamp_granularities[]", "word"),
                    ("chunk_seconds", "60"),
                ],
                file: wav)
            #expect(answer.status == 200, "\(answer.text.prefix(300))")
            let object = try answer.json()
            let words = try #require(object["words"] as? [[String: Any]])
            let whole = try await Self.wordsHeardWhole(port: port, wav)
            #expect(abs(words.count - whole) <= 8, "every word once across the cuts: \(words.count) vs \(whole) heard whole")
            let starts = words.compactMap { $0["start"] as? Double }
            #expect(starts == starts.sorted())
            #expect(abs((object["duration"] as? Double ?? 0) - Double(recording.samples.count) / 16_000) < 0.1)
        }
    }
}

@Suite("Audio job pieces")
struct AudioJobPieceTests {
    @Test func aChunkCallIsAskedAgainAfterABusyOrBrokenASRButNotAfterARefusal() {
        // (status, attempt) → asked again, with 8 attempts allowed.
        let cases: [(Int, Int, Bool)] = [
            (503, 1, true), (503, 7, true), (503, 8, false),
            (502, 1, true), (504, 2, true), (504, 3, false), (502, 3, false),
            (400, 1, false), (413, 1, false), (500, 1, false),
        ]
        for (status, attempt, again) in cases {
            #expect(ASRClient.mayRetry(status: status, attempt: attempt, of: 8) == again, "HTTP \(status), attempt \(attempt)")
        }
    }

    @Test func stitchingKeepsEachOverlapWordOnceFromThePieceThatHeardItAwayFromItsEdge() {
        let first = ChunkPlan.Chunk(start: 0, end: 60)
        let second = ChunkPlan.Chunk(start: 50, end: 110)
        // A word at 54-55 s is in both pieces; the boundary is at 55 s (the overlap's middle).
        let pieces: [(chunk: ChunkPlan.Chunk, words: [Transcript.Word])] = [
            (
                second,
                [.init(word: "late", start: 3.9, end: 4.9), .init(word: "next", start: 6, end: 7), .init(word: "end", start: 50, end: 51)]
            ),
            (
                first,
                [
                    .init(word: "start", start: 1, end: 2), .init(word: "late", start: 53.9, end: 54.9),
                    .init(word: "edge", start: 58, end: 59.5),
                ]
            ),
        ]
        let words = TranscriptStitch.words(pieces)
        #expect(words.map(\.word) == ["start", "late", "next", "end"])
        #expect(words.map(\.start) == [1, 53.9, 56, 100])
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("10.1.2.3", true), ("172.20.0.5", true), ("192.168.1.20", true), ("169.254.3.3", true),
        ("100.101.102.103", true), ("192.0.2.10", true), ("::1", true), ("[fd12::5]", true), ("fe80::1", true),
        ("localhost", true), ("spark-1", true), ("asr.internal", true), ("nas.home.arpa", true),
        ("8.8.8.8", false), ("172.32.0.1", false), ("100.128.0.1", false), ("2001:db8::1", false),
        ("api.example.com", false), ("spark-1.local.example.org", false), ("", false), ("10.0.0.256", false),
    ])
    func lanAddresses(host: String, lan: Bool) {
        #expect(LANAddress.isLAN(host) == lan, "\(host)")
    }

    @Test func anASRServiceOutsideTheLANIsRefusedAtLoad() throws {
        let yaml = """
            nodes:
              - id: spark-1
                host: 10.0.0.5
                transport: local
            services:
              - id: asr
                kind: asr
                node: spark-1
                url: http://speech.example.com:8000
              - id: vllm
                kind: vllm
                node: spark-1
                url: http://llm.example.com:8000
            """
        #expect(throws: InventoryError.self) { try InventoryLoader.parse(yaml, file: "inventory.yaml") }
        do {
            _ = try InventoryLoader.parse(yaml, file: "inventory.yaml")
        } catch {
            let text = "\(error)"
            #expect(text.contains("services[0].url") && text.contains("must not leave the LAN"), "\(text)")
            #expect(!text.contains("services[1]"), "an LLM may be anywhere the owner puts it")
        }
        let allowed = try InventoryLoader.parse(
            yaml.replacingOccurrences(
                of: "url: http://speech.example.com:8000", with: "url: http://speech.example.com:8000\n    allow_public_address: true"),
            file: "inventory.yaml")
        #expect(allowed.service("asr")?.baseURL == "http://speech.example.com:8000")
    }

    @Test func parakeetsWordSegmentsBecomeOpenAIsSentencesAndWords() throws {
        let upstream =
            #"{"task":"transcribe","language":"en","duration":3.2,"text":"hello there. how are you","#
            + #""segments":[{"id":0,"start":0.1,"end":0.4,"text":"hello"},{"id":1,"start":0.5,"end":0.9,"text":"there."},"#
            + #"{"id":2,"start":1.5,"end":1.7,"text":"how"},{"id":3,"start":1.8,"end":1.9,"text":"are"},{"id":4,"start":2.0,"end":2.3,"text":"you"}]}"#
        let (type, body) = TranscriptionAnswer.normalized(ByteBuffer(string: upstream), format: "verbose_json", words: true)
        #expect(type == "application/json")
        let object = try #require(JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        let segments = try #require(object["segments"] as? [[String: Any]])
        #expect(segments.map { $0["text"] as? String } == ["hello there.", "how are you"])
        #expect((object["words"] as? [[String: Any]])?.count == 5)
        let (_, plain) = TranscriptionAnswer.normalized(ByteBuffer(string: upstream), format: "verbose_json")
        #expect((try JSONSerialization.jsonObject(with: Data(buffer: plain)) as? [String: Any])?["words"] == nil)
        let odd = ByteBuffer(string: #"{"text":"a shape SparkDeck does not know"}"#)
        #expect(TranscriptionAnswer.normalized(odd, format: "verbose_json").body == odd, "an unknown shape passes unchanged")
        let whisper = ByteBuffer(
            string: #"{"task":"transcribe","language":"en","duration":3.0,"text":" Hello there. How are you?","#
                + #""segments":[{"id":0,"seek":0,"start":0.0,"end":1.2,"text":" Hello there.","tokens":[50364],"avg_logprob":-0.3},"#
                + #"{"id":1,"seek":0,"start":1.4,"end":2.6,"text":" How are you?","tokens":[50420],"avg_logprob":-0.2}]}"#)
        #expect(
            TranscriptionAnswer.normalized(whisper, format: "verbose_json", words: true).body == whisper,
            "segments already in sentences (a Whisper server, OpenAI's shape) pass unchanged")
    }

    @Test func aWAVHeaderSaysHowLongTheFileShouldBe() {
        let header = WAVFile.header(sampleRate: 16_000, dataBytes: 64_000)
        #expect(WAVFile.promisedDuration(header: header) == 2)
        #expect(WAVFile.promisedDuration(header: WAVFile.header(sampleRate: 16_000, dataBytes: 0)) == nil, "a streamed WAV leaves it open")
        // Streaming servers' placeholders: the data size at the maximum, or set so the RIFF size is.
        for placeholder in [0xFFFF_FFFF, 0xFFFF_FFFF - 36] {
            var streamed = WAVFile.header(sampleRate: 24_000, dataBytes: placeholder)
            #expect(WAVFile.promisedDuration(header: streamed) == nil, "data size \(placeholder)")
            streamed.replaceSubrange(4..<8, with: [0xFF, 0xFF, 0xFF, 0xFF])
            #expect(WAVFile.promisedDuration(header: streamed) == nil, "RIFF size 0xFFFFFFFF")
        }
        #expect(WAVFile.promisedDuration(header: Array("ID3 not a wav at all".utf8)) == nil)
    }

    @Test func formFieldsAreCheckedAndNamed() throws {
        func refusal(_ fields: [String: [String]]) -> String? {
            do {
                _ = try AudioJobRequest.parse(.diarization, fields: fields, fileName: "a.wav")
                return nil
            } catch let error as APIError {
                return error.param
            } catch {
                return "?"
            }
        }
        #expect(refusal(["channel_mode": ["stereo"]]) == "channel_mode")
        #expect(refusal(["speaker_names": ["Ann,,Ben"]]) == "speaker_names")
        #expect(refusal(["speaker_names": ["Ann,Ann"]]) == "speaker_names")
        #expect(refusal(["overlap_seconds": ["50"]]) == "overlap_seconds")
        #expect(refusal(["language": ["en; rm -rf"]]) == "language")
        #expect(refusal(["speaker_names": ["Ann, Ben"], "max_speakers": ["3"], "response_format": ["rttm"]]) == nil)
        let parsed = try AudioJobRequest.parse(.diarization, fields: ["speaker_names": [" Ann , Ben "]], fileName: nil)
        #expect(parsed.speakerNames == ["Ann", "Ben"])
        #expect(try AudioJobRequest.wantsJob(["async": ["true"]]))
        #expect(throws: APIError.self) { try AudioJobRequest.wantsJob(["async": ["soon"]]) }
    }
}
