import Foundation

/// Where an audio job stands: audio decoded, chunks answered, seconds done, and an estimate of what is left.
public struct AudioJobProgress: Sendable, Equatable, Codable {
    public var stage: String = "queued"
    public var chunksDone = 0
    public var chunksPlanned = 0
    /// Seconds of the recording the job has been through.
    public var secondsDone = 0.0
    public var audioSeconds = 0.0
    public var etaSeconds: Double?

    public var json: JSONValue {
        .object([
            "stage": .string(stage), "chunks_done": .number(Double(chunksDone)), "chunks_planned": .number(Double(chunksPlanned)),
            "seconds_done": .number((secondsDone * 10).rounded() / 10), "audio_seconds": .number((audioSeconds * 10).rounded() / 10),
            "eta_seconds": .optional(etaSeconds.map { $0.rounded() }),
        ])
    }
}

/// One diarization or long transcription, from the spooled upload to the rendered answer: probe and decode with
/// ffmpeg, cut into chunks, ask the ASR about each (in parallel up to the audio cap), merge, render.
struct AudioWork: Sendable {
    let request: AudioJobRequest
    let upload: String
    let folder: String
    let asr: ASRClient
    let maxConcurrent: Int

    func run(progress report: @escaping @Sendable (AudioJobProgress) async -> Void) async throws -> TranscriptFormat.Rendered {
        let started = ContinuousClock.now
        let tracker = ProgressTracker(started: started, report: report)
        await tracker.stage("decoding")
        let probe = try await AudioDecoder.probe(upload)
        let dual = request.kind == .diarization && request.channelMode == .dual
        if dual, probe.channels != 2 {
            throw APIError.invalidRequest(
                "channel_mode=dual needs a stereo recording (left: the local microphone, right: the remote party); this one has "
                    + "\(probe.channels) channel\(probe.channels == 1 ? "" : "s"). Send it with channel_mode=mono.",
                param: "channel_mode")
        }
        let audio = try await AudioDecoder.decode(
            upload, to: (folder as NSString).appendingPathComponent("audio.pcm"), channels: dual ? 2 : 1, expected: probe.duration)
        await tracker.decoded(seconds: audio.duration)
        let clips = AudioClips(audio: audio)
        let transcript: Transcript
        switch request.kind {
        case .transcription:
            let words = try await transcribe(clips, channel: nil, tracker: tracker)
            transcript = Self.plainTranscript(words: words, duration: audio.duration, language: request.language)
        case .diarization where dual:
            let local = try await transcribe(clips, channel: .left, tracker: tracker)
            let remote = try await diarize(
                clips, channel: .right, names: Array(request.speakerNames.filter { $0 != request.localSpeaker }), tracker: tracker)
            let merged = DualChannelMerge(localSpeaker: request.localSpeaker).merge(
                localWords: local.map { DiarizedSegment(speaker: request.localSpeaker, start: $0.start, end: $0.end, text: $0.word) },
                remote: remote.segments, levels: try clips.levels())
            transcript = Transcript.diarized(
                merged.segments, speakers: [request.localSpeaker] + remote.speakers, duration: audio.duration,
                warnings: remote.warnings, language: request.language)
        case .diarization:
            let result = try await diarize(clips, channel: nil, names: request.speakerNames, tracker: tracker)
            transcript = Transcript.diarized(
                result.segments, speakers: result.speakers, duration: audio.duration, warnings: result.warnings,
                language: request.language)
        }
        await tracker.stage("done")
        return request.format.render(transcript, includeWords: request.words, recordingID: Self.recordingID(request.fileName))
    }

    /// The channel's words, from pieces transcribed in parallel and stitched.
    func transcribe(_ clips: AudioClips, channel: AudioClips.Channel?, tracker: ProgressTracker) async throws -> [Transcript.Word] {
        let plan =
            try request.kind == .transcription
            ? AudioJobRequest.transcriptionPlan(chunkSeconds: request.chunkSeconds, overlapSeconds: request.overlapSeconds)
            : AudioJobRequest.transcriptionPlan()
        let chunks = plan.chunks(duration: clips.audio.duration)
        await tracker.plan(chunks.count)
        let diarization = ChunkedDiarization(plan: plan, maxConcurrent: maxConcurrent)
        var pieces: [(chunk: ChunkPlan.Chunk, words: [Transcript.Word])] = []
        try await diarization.ask(chunks) { chunk in
            let clip = try clips.wav(for: chunk, channel: channel)
            let answer = try await asr.transcribe(clip, model: request.model, language: request.language, label: Self.label(chunk))
            return ChunkDiarization(
                chunk: chunk,
                segments: answer.transcript().words.map { DiarizedSegment(speaker: "", start: $0.start, end: $0.end, text: $0.word) })
        } each: { answer in
            pieces.append((answer.chunk, answer.segments.map { Transcript.Word(word: $0.text, start: $0.start, end: $0.end) }))
            await tracker.answered(seconds: answer.chunk.duration)
            return []
        }
        return TranscriptStitch.words(pieces)
    }

    /// The channel diarized chunk by chunk and merged onto the recording's speakers.
    func diarize(_ clips: AudioClips, channel: AudioClips.Channel?, names: [String], tracker: ProgressTracker) async throws
        -> SpeakerLabelMerge.Result
    {
        let plan = try request.plan()
        let diarization = ChunkedDiarization(plan: plan, maxConcurrent: maxConcurrent)
        let base = await tracker.current()
        return try await diarization.run(duration: clips.audio.duration, speakerNames: names) { state in
            await tracker.diarized(base: base, state)
        } diarize: { chunk in
            let clip = try clips.wav(for: chunk, channel: channel)
            let answer = try await asr.diarize(clip, maxSpeakers: request.maxSpeakers, label: Self.label(chunk))
            return answer.answer(for: chunk)
        }
    }

    static func plainTranscript(words: [Transcript.Word], duration: Double, language: String?) -> Transcript {
        UpstreamTranscript.Transcription(
            text: words.map(\.word).joined(separator: " "), language: language, duration: duration,
            segments: words.map { .init(start: $0.start, end: $0.end, text: $0.word) }
        ).transcript()
    }

    static func label(_ chunk: ChunkPlan.Chunk) -> String {
        "the chunk at \(AudioDecoder.seconds(chunk.start))-\(AudioDecoder.seconds(chunk.spans.last?.upperBound ?? chunk.end))"
    }

    /// RTTM's file column: the upload's name without its extension, with no spaces.
    static func recordingID(_ fileName: String) -> String {
        let base = (fileName as NSString).deletingPathExtension
        let cleaned = base.map { $0.isWhitespace ? "_" : $0 }
        return cleaned.isEmpty ? "audio" : String(cleaned)
    }
}

/// Adds up a job's progress over its stages and reports it with an ETA from the rate so far.
actor ProgressTracker {
    let started: ContinuousClock.Instant
    let report: @Sendable (AudioJobProgress) async -> Void
    var progress = AudioJobProgress()

    init(started: ContinuousClock.Instant, report: @escaping @Sendable (AudioJobProgress) async -> Void) {
        self.started = started
        self.report = report
    }

    func current() -> AudioJobProgress { progress }

    func stage(_ name: String) async {
        progress.stage = name
        if name == "done" { progress.etaSeconds = 0 }
        await report(progress)
    }

    func decoded(seconds: Double) async {
        progress.audioSeconds = seconds
        progress.stage = "processing"
        await report(progress)
    }

    func plan(_ chunks: Int) async {
        progress.chunksPlanned += chunks
        await report(progress)
    }

    func answered(seconds: Double) async {
        progress.chunksDone += 1
        progress.secondsDone += seconds
        estimate()
        await report(progress)
    }

    func diarized(base: AudioJobProgress, _ state: ChunkedDiarization.Progress) async {
        progress.chunksDone = base.chunksDone + state.chunksDone
        progress.chunksPlanned = base.chunksPlanned + state.chunksPlanned
        progress.secondsDone = base.secondsDone + state.secondsDone
        estimate()
        await report(progress)
    }

    private func estimate() {
        guard progress.chunksDone > 0 else { return }
        let elapsed = ContinuousClock.now - started
        let seconds = elapsed.seconds
        progress.etaSeconds = max(0, seconds / Double(progress.chunksDone) * Double(progress.chunksPlanned - progress.chunksDone))
    }
}
