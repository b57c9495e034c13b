import Foundation

/// Reads what the ASR service answers. parakeet-asr returns `text`, `srt` and `vtt` either as they are or quoted as
/// one JSON string (FastAPI's default response class), and its JSON answers in its own shapes; these turn both into
/// SparkDeck's types.
public enum UpstreamTranscript {
    /// The upstream's `text`/`srt`/`vtt` body as the text it stands for: a body that is one JSON string literal is
    /// decoded, anything else is taken as it is.
    public static func normalizedText(_ body: [UInt8]) -> String {
        var start = body.startIndex
        var end = body.endIndex
        while start < end, isSpace(body[start]) { start += 1 }
        while end > start, isSpace(body[end - 1]) { end -= 1 }
        if end - start >= 2, body[start] == 34, body[end - 1] == 34,
            let decoded = try? JSONStringLiteral.decode(body[start..<end])
        {
            return decoded
        }
        return String(decoding: body, as: UTF8.self)
    }

    /// parakeet-asr's `verbose_json` transcription: one segment per word.
    public struct Transcription: Decodable, Sendable, Equatable {
        public struct Segment: Decodable, Sendable, Equatable {
            public var start: Double
            public var end: Double
            public var text: String
        }

        public var text: String
        public var language: String?
        public var duration: Double?
        public var segments: [Segment]?

        /// As a plain transcript: the upstream's word segments become words, and sentences become segments.
        public func transcript() -> Transcript {
            let words = (segments ?? []).map { Transcript.Word(word: $0.text.trimmingSpaces, start: $0.start, end: $0.end) }
            var cues: [Transcript.Segment] = []
            for word in words {
                if var last = cues.last, !Self.endsSentence(last.text), word.start - last.end <= Transcript.turnGapSeconds,
                    word.end - last.start <= Transcript.maxCueSeconds
                {
                    last.end = word.end
                    last.text += " " + word.word
                    cues[cues.count - 1] = last
                } else {
                    cues.append(Transcript.Segment(start: word.start, end: word.end, text: word.word))
                }
            }
            return Transcript(
                language: language, duration: duration ?? words.last?.end ?? 0, text: text,
                segments: cues, words: words)
        }

        static func endsSentence(_ text: String) -> Bool {
            guard let last = text.last else { return false }
            return last == "." || last == "?" || last == "!"
        }
    }

    /// parakeet-asr's diarization answer.
    public struct Diarization: Decodable, Sendable, Equatable {
        public struct Segment: Decodable, Sendable, Equatable {
            public var speaker: String
            public var start: Double
            public var end: Double
            public var text: String?
        }

        public var duration: Double?
        public var segments: [Segment]

        enum CodingKeys: String, CodingKey { case duration, segments }

        /// As the answer for `chunk`: times stay relative to the chunk, as the merge expects.
        public func answer(for chunk: ChunkPlan.Chunk) -> ChunkDiarization {
            ChunkDiarization(
                chunk: chunk,
                segments: segments.map {
                    DiarizedSegment(speaker: $0.speaker, start: $0.start, end: $0.end, text: $0.text ?? "")
                })
        }
    }

    public static func transcription(_ body: [UInt8]) throws -> Transcription {
        try JSONDecoder().decode(Transcription.self, from: Data(body))
    }

    public static func diarization(_ body: [UInt8]) throws -> Diarization {
        try JSONDecoder().decode(Diarization.self, from: Data(body))
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 10 || byte == 13 || byte == 9 }
}
