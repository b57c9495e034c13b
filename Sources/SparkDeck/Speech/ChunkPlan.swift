/// How a long recording is cut into overlapping chunks for the diarizer, and how a chunk whose answer filled every
/// speaker slot is split again. Pure: durations in, chunk windows out.
public struct ChunkPlan: Sendable, Equatable {
    /// One window of the recording, in seconds from its start; or, for a comparison, a few stretches of it sent
    /// as one clip, one after another (`parts`).
    public struct Chunk: Sendable, Equatable, Hashable {
        public var start: Double
        public var end: Double
        /// 0 for a chunk of the plan, 1 for a half of one, and so on.
        public var depth: Int
        /// Empty for a plain window. Otherwise the stretches, in order, whose audio is joined into the clip the
        /// diarizer hears; its answer's times run along the joined clip.
        public var parts: [ClosedRange<Double>]

        public init(start: Double, end: Double, depth: Int = 0) {
            self.start = start
            self.end = end
            self.depth = depth
            self.parts = []
        }

        /// A clip of `parts` (in time order, not overlapping) joined together.
        public init(joining parts: [ClosedRange<Double>]) {
            self.start = parts.first?.lowerBound ?? 0
            self.end = parts.last?.upperBound ?? 0
            self.depth = 0
            self.parts = parts
        }

        /// The stretches of the recording the clip holds.
        public var spans: [ClosedRange<Double>] { parts.isEmpty ? [start...end] : parts }

        /// Seconds of audio sent.
        public var duration: Double { spans.reduce(0) { $0 + $1.upperBound - $1.lowerBound } }

        /// Where `seconds` into the clip lies in the recording, and the stretch (index into `spans`) holding it.
        public func recordingTime(_ seconds: Double) -> (time: Double, span: Int) {
            var offset = 0.0
            for (index, span) in spans.enumerated() {
                let length = span.upperBound - span.lowerBound
                if seconds < offset + length || index == spans.count - 1 {
                    return (span.lowerBound + seconds - offset, index)
                }
                offset += length
            }
            return (start + seconds, 0)
        }
    }

    /// A `chunk_seconds`/`overlap_seconds` pair that cannot be planned, with the field to fix.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        /// The request field at fault (`chunk_seconds` or `overlap_seconds`).
        public var parameter: String
        public var message: String
        public var description: String { message }
    }

    // Sortformer was trained on ~90 s sessions and degrades past them, so a chunk stays well under that (75 s),
    // leaving room for the diarizer's own edge effects. The overlap is what the label merge matches speakers on:
    // 15 s holds several turns of a normal conversation, so each speaker talking across a boundary has seconds of
    // shared speech to be recognised by, while the extra upstream time stays at 25% (a 60 s stride).
    public static let defaultChunkSeconds = 75.0
    public static let defaultOverlapSeconds = 15.0
    public static let chunkSecondsRange = 20.0...600.0
    public static let minimumOverlapSeconds = 2.0
    // Two halvings turn a 75 s chunk into pieces of about 30 s: enough to separate a fifth voice that speaks for a
    // while, and a bound on how many extra calls one crowded stretch can cost (at most 2 + 4).
    public static let maxSplitDepth = 2
    // A piece must still advance this far past its neighbour, or splitting only re-asks about the same audio.
    public static let minimumSplitStrideSeconds = 5.0

    public let chunkSeconds: Double
    public let overlapSeconds: Double

    public init(chunkSeconds: Double? = nil, overlapSeconds: Double? = nil) throws(Invalid) {
        let chunk = chunkSeconds ?? Self.defaultChunkSeconds
        guard chunk.isFinite, Self.chunkSecondsRange.contains(chunk) else {
            throw Invalid(
                parameter: "chunk_seconds",
                message: "chunk_seconds must be between "
                    + "\(Self.format(Self.chunkSecondsRange.lowerBound)) and \(Self.format(Self.chunkSecondsRange.upperBound)) "
                    + "seconds (the diarizer works best under 90); got \(Self.format(chunk))")
        }
        let overlap = overlapSeconds ?? min(Self.defaultOverlapSeconds, chunk / 2)
        guard overlap.isFinite, overlap >= Self.minimumOverlapSeconds else {
            throw Invalid(
                parameter: "overlap_seconds",
                message: "overlap_seconds must be at least "
                    + "\(Self.format(Self.minimumOverlapSeconds)) seconds, or speakers cannot be matched across chunks; "
                    + "got \(Self.format(overlap))")
        }
        guard overlap <= chunk / 2 else {
            throw Invalid(
                parameter: "overlap_seconds",
                message: "overlap_seconds must be at most half of chunk_seconds "
                    + "(\(Self.format(chunk / 2)) here), or one moment would fall in three chunks; got \(Self.format(overlap))")
        }
        self.chunkSeconds = chunk
        self.overlapSeconds = overlap
    }

    /// Chunks covering `[0, duration]`: one when it fits, otherwise equal chunks of `chunkSeconds` spread so that
    /// each shares at least `overlapSeconds` with the next and the last one ends exactly at `duration`.
    public func chunks(duration: Double) -> [Chunk] {
        guard duration > chunkSeconds else { return [Chunk(start: 0, end: max(0, duration))] }
        let stride = chunkSeconds - overlapSeconds
        let count = Int(((duration - overlapSeconds) / stride).rounded(.up))
        let spacing = (duration - chunkSeconds) / Double(count - 1)
        return (0..<count).map { index in
            let start = index == count - 1 ? duration - chunkSeconds : Double(index) * spacing
            return Chunk(start: start, end: index == count - 1 ? duration : start + chunkSeconds)
        }
    }

    /// The two halves to ask about instead of `chunk` when its answer used every speaker slot, overlapping by
    /// `overlapSeconds` around its middle; nil when the chunk may not be split again (depth or length).
    public func split(_ chunk: Chunk) -> [Chunk]? {
        guard chunk.depth < Self.maxSplitDepth else { return nil }
        let overlap = min(overlapSeconds, chunk.duration / 2)
        guard (chunk.duration - overlap) / 2 >= Self.minimumSplitStrideSeconds else { return nil }
        let middle = (chunk.start + chunk.end) / 2
        return [
            Chunk(start: chunk.start, end: middle + overlap / 2, depth: chunk.depth + 1),
            Chunk(start: middle - overlap / 2, end: chunk.end, depth: chunk.depth + 1),
        ]
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
    }
}
