/// A transcript as SparkDeck answers it, plain or diarized, before it is rendered in a response format.
public struct Transcript: Sendable, Equatable {
    /// One word with its time; `speaker` set in a diarized transcript.
    public struct Word: Sendable, Equatable {
        public var word: String
        public var start: Double
        public var end: Double
        public var speaker: String?
        public var channel: String?

        public init(word: String, start: Double, end: Double, speaker: String? = nil, channel: String? = nil) {
            self.word = word
            self.start = start
            self.end = end
            self.speaker = speaker
            self.channel = channel
        }
    }

    /// A run of speech shown as one cue: a sentence of a plain transcript, or one speaker's turn.
    public struct Segment: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var text: String
        public var speaker: String?
        public var channel: String?

        public init(start: Double, end: Double, text: String, speaker: String? = nil, channel: String? = nil) {
            self.start = start
            self.end = end
            self.text = text
            self.speaker = speaker
            self.channel = channel
        }
    }

    public var language: String?
    public var duration: Double
    public var text: String
    public var segments: [Segment]
    public var words: [Word]
    /// Empty for a plain transcript.
    public var speakers: [String]
    public var warnings: [String]

    public init(
        language: String? = nil, duration: Double, text: String, segments: [Segment], words: [Word] = [],
        speakers: [String] = [], warnings: [String] = []
    ) {
        self.language = language
        self.duration = duration
        self.text = text
        self.segments = segments
        self.words = words
        self.speakers = speakers
        self.warnings = warnings
    }

    public var isDiarized: Bool { !speakers.isEmpty }

    // A pause this long, or a turn this long, starts a new cue: subtitles stay readable and a turn's timing close.
    public static let turnGapSeconds = 1.0
    public static let maxCueSeconds = 20.0

    /// A diarized transcript from merged segments (words or turns): consecutive segments of one speaker on one
    /// channel become one turn; words come from the segments, a multi-word segment's time shared out by length.
    public static func diarized(
        _ units: [DiarizedSegment], speakers: [String], duration: Double,
        warnings: [String] = [], language: String? = nil
    ) -> Transcript {
        let ordered = units.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var words: [Word] = []
        for unit in ordered {
            words += spread(unit.text, start: unit.start, end: unit.end).map {
                Word(word: $0.word, start: $0.start, end: $0.end, speaker: unit.speaker, channel: unit.channel)
            }
        }
        var segments: [Segment] = []
        for unit in ordered {
            let text = unit.text.trimmingSpaces
            if var last = segments.last, last.speaker == unit.speaker, last.channel == unit.channel,
                unit.start - last.end <= turnGapSeconds, unit.end - last.start <= maxCueSeconds
            {
                last.end = max(last.end, unit.end)
                last.text = text.isEmpty ? last.text : (last.text.isEmpty ? text : last.text + " " + text)
                segments[segments.count - 1] = last
            } else {
                segments.append(Segment(start: unit.start, end: unit.end, text: text, speaker: unit.speaker, channel: unit.channel))
            }
        }
        let text = segments.map(\.text).filter { !$0.isEmpty }.joined(separator: " ")
        return Transcript(
            language: language, duration: duration, text: text, segments: segments, words: words,
            speakers: speakers, warnings: warnings)
    }

    /// The words of `text` over `[start, end]`, each given time in proportion to its length.
    static func spread(_ text: String, start: Double, end: Double) -> [(word: String, start: Double, end: Double)] {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init)
        guard parts.count > 1 else { return parts.map { ($0, start, end) } }
        let total = Double(parts.reduce(0) { $0 + $1.count })
        var cursor = start
        return parts.map { part in
            let share = (end - start) * Double(part.count) / total
            defer { cursor += share }
            return (part, cursor, cursor + share)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
