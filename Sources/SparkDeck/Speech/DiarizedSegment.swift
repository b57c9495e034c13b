/// A stretch of speech attributed to one speaker: a word or a turn, as the diarizer answers it.
public struct DiarizedSegment: Sendable, Equatable, Codable {
    public var speaker: String
    public var start: Double
    public var end: Double
    public var text: String
    /// `local` or `remote` in a dual-channel recording; nil otherwise.
    public var channel: String?

    public init(speaker: String, start: Double, end: Double, text: String = "", channel: String? = nil) {
        self.speaker = speaker
        self.start = start
        self.end = end
        self.text = text
        self.channel = channel
    }

    public var duration: Double { max(0, end - start) }
    public var middle: Double { (start + end) / 2 }

    /// Seconds this segment shares with `[from, to]`.
    public func overlap(from: Double, to: Double) -> Double {
        max(0, min(end, to) - max(start, from))
    }
}

/// One diarizer call's answer for one chunk of the recording.
public struct ChunkDiarization: Sendable, Equatable {
    public var chunk: ChunkPlan.Chunk
    /// Times relative to the chunk's start, as the upstream answers them; labels local to this call.
    public var segments: [DiarizedSegment]

    public init(chunk: ChunkPlan.Chunk, segments: [DiarizedSegment]) {
        self.chunk = chunk
        self.segments = segments
    }

    /// The distinct labels in the order they first speak.
    public var labelsByFirstSpeech: [String] {
        var seen: Set<String> = []
        return segments.sorted { $0.start < $1.start }.compactMap { seen.insert($0.speaker).inserted ? $0.speaker : nil }
    }

    /// Whether the call used every speaker slot the diarizer has, so a further voice may have been merged.
    public func fillsAllSlots(_ slots: Int = DiarizerLimits.speakerSlots) -> Bool {
        labelsByFirstSpeech.count >= slots
    }
}

/// What the production diarizer (Sortformer in parakeet-asr) can do in one call.
public enum DiarizerLimits {
    public static let speakerSlots = 4
}
