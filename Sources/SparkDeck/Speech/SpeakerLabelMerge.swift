/// Stitches per-chunk diarizer answers into one recording-wide speaker timeline. Each call numbers at most four
/// speakers by its own first appearance; a chunk's labels are mapped onto the global speakers heard so far by how
/// long they speak together in the window the chunk shares with earlier ones (an optimal one-to-one assignment), a
/// chunk speaker with no match is a new global speaker, and what lies in an overlap is kept once. Pure.
public struct SpeakerLabelMerge: Sendable {
    /// The stitched timeline.
    public struct Result: Sendable, Equatable {
        /// Recording time, sorted by start, labelled with `speakers`.
        public var segments: [DiarizedSegment]
        /// Global speakers in order of first speech in the whole recording.
        public var speakers: [String]
        public var warnings: [String]
    }

    // A pairing needs this much shared speech to count, so a few mis-timed words cannot chain two strangers.
    public var minimumMatchSeconds: Double
    // ... and this share of the speech either label has in the shared time: the same voice heard by two calls
    // speaks about as long in both, while a voice paired only because the assignment had to pair it shares little.
    public var minimumMatchShare: Double

    public init(minimumMatchSeconds: Double = 0.5, minimumMatchShare: Double = 0.4) {
        self.minimumMatchSeconds = minimumMatchSeconds
        self.minimumMatchShare = minimumMatchShare
    }

    /// Merges `chunks` (any order; chunks must not nest inside one another). Global speakers are named from
    /// `speakerNames` in order of first speech, `speaker_N` past the names given. The caller splits what it can
    /// (`ChunkPlan.split`) before merging, so a chunk that still fills every slot here could not be split: it gets a
    /// warning, since a further voice in it may have been merged into another. `bridges` are answers for extra
    /// windows (see `bridges(for:...)`), used only as evidence of who is who. `context` holds answers that filled
    /// every slot (a chunk before it was split, a crowded bridge): a label there may be two voices, so their matches
    /// count only after all the others, where they join what nothing else could.
    public func merge(
        _ chunks: [ChunkDiarization], bridges: [ChunkDiarization] = [], context: [ChunkDiarization] = [],
        speakerNames: [String] = [], slots: Int = DiarizerLimits.speakerSlots
    ) -> Result {
        let ordered = chunks.sorted { ($0.chunk.start, $0.chunk.end) < ($1.chunk.start, $1.chunk.end) }
        let graph = link(
            ordered + bridges.filter { !$0.fillsAllSlots(slots) },
            context: context + bridges.filter { $0.fillsAllSlots(slots) })
        var kept: [Labelled] = []
        var coveredEnd = -Double.infinity
        var warnings: [String] = []
        for (index, chunk) in ordered.enumerated() {
            let labelled = graph.absolute[index].map { Labelled(segment: $0, global: graph.speaker(index, $0.speaker)) }
            let window = (from: chunk.chunk.start, to: min(coveredEnd, chunk.chunk.end))
            let cut =
                window.to > window.from
                ? Self.cut(from: window.from, to: window.to, earlier: kept, later: labelled) : chunk.chunk.start
            kept = Self.words(kept, across: cut).filter { $0.segment.middle < cut }
            kept += Self.words(labelled, across: cut).filter { $0.segment.middle >= cut }
            coveredEnd = max(coveredEnd, chunk.chunk.end)
            if chunk.fillsAllSlots(slots) {
                warnings.append(
                    "the diarizer used all \(slots) speaker slots in "
                        + "\(Self.clock(chunk.chunk.start))–\(Self.clock(chunk.chunk.end)) and that stretch could not be "
                        + "split further; a further voice there may be merged into another speaker")
            }
        }
        kept.sort { ($0.segment.start, $0.segment.end) < ($1.segment.start, $1.segment.end) }
        var order: [Int: Int] = [:]
        for item in kept where order[item.global] == nil { order[item.global] = order.count }
        let names = (0..<order.count).map { $0 < speakerNames.count ? speakerNames[$0] : "speaker_\($0)" }
        let segments = kept.map { item -> DiarizedSegment in
            var segment = item.segment
            segment.speaker = names[order[item.global]!]
            return segment
        }
        return Result(segments: segments, speakers: names, warnings: warnings)
    }

    /// Clips worth asking about once more: a chunk speaker matched with nobody heard before may be someone who was
    /// silent through the shared window, or who comes back after a long silence. For each earlier speaker never
    /// heard beside it, one clip joins that speaker's last few seconds before it and its own first few seconds:
    /// with two voices at most in it, the diarizer's answer says whether they are one person, however far apart.
    public func bridges(
        for chunks: [ChunkDiarization], context: [ChunkDiarization] = [], duration: Double,
        chunkSeconds: Double
    ) -> [ChunkPlan.Chunk] {
        let ordered = chunks.sorted { ($0.chunk.start, $0.chunk.end) < ($1.chunk.start, $1.chunk.end) }
        let graph = link(ordered, context: context)
        let margin = 1.0
        let evidenceSeconds = 3.0
        var clips: [ChunkPlan.Chunk] = []
        for (index, chunk) in ordered.enumerated() where index > 0 {
            let earlier = ordered.indices.filter { ordered[$0].chunk.start < chunk.chunk.start }
            for label in chunk.labelsByFirstSpeech {
                let speaker = graph.speaker(index, label)
                let heardBefore = earlier.contains { other in
                    ordered[other].labelsByFirstSpeech.contains { graph.speaker(other, $0) == speaker }
                }
                let own = graph.absolute[index].filter { $0.speaker == label }
                guard !heardBefore, let first = own.first else { continue }
                // Its first few seconds of speech (a stray mislabelled word is no evidence).
                var spoken = 0.0
                var until = first.end
                for segment in own where spoken < evidenceSeconds {
                    spoken += segment.duration
                    until = segment.end
                }
                guard spoken >= evidenceSeconds else { continue }
                let later = max(0, first.start - margin)...min(duration, until + margin)
                // Each earlier speaker not heard beside this one, with its speech before `first`.
                var before: [Int: [DiarizedSegment]] = [:]
                for other in earlier {
                    for segment in graph.absolute[other] where segment.end <= first.start {
                        let candidate = graph.speaker(other, segment.speaker)
                        guard !graph.heardTogether(candidate, speaker) else { continue }
                        before[candidate, default: []].append(segment)
                    }
                }
                for (_, segments) in before.sorted(by: { $0.key < $1.key }) {
                    let latest = segments.sorted { $0.start > $1.start }
                    var heard = 0.0
                    var from = first.start
                    for segment in latest where heard < evidenceSeconds {
                        heard += segment.duration
                        from = segment.start
                    }
                    guard heard >= evidenceSeconds, let last = latest.first else { continue }
                    let earlierPart = max(0, from - margin)...min(later.lowerBound, last.end + margin)
                    let parts =
                        later.lowerBound - earlierPart.upperBound < 1
                        ? [earlierPart.lowerBound...later.upperBound] : [earlierPart, later]
                    let clip = ChunkPlan.Chunk(joining: parts)
                    guard clip.duration <= chunkSeconds, !clips.contains(clip) else { continue }
                    clips.append(clip)
                }
            }
        }
        return clips
    }

    struct Labelled: Sendable {
        var segment: DiarizedSegment
        var global: Int
    }

    /// The answers' labels joined into speakers: every two answers that share time are matched on it, label to
    /// label (`pairs`), and the matches are applied strongest first, except one that would make two labels of the
    /// same answer one speaker (the diarizer told them apart).
    func link(_ trusted: [ChunkDiarization], context: [ChunkDiarization] = []) -> SpeakerGraph {
        let answers = trusted + context
        let absolute = answers.map { answer in
            answer.segments.map { segment -> DiarizedSegment in
                // Into recording time, kept inside the stretch its middle falls in.
                var shifted = segment
                let (middle, index) = answer.chunk.recordingTime(segment.middle)
                let span = answer.chunk.spans[index]
                shifted.start = max(span.lowerBound, middle - segment.duration / 2)
                shifted.end = min(span.upperBound, middle + segment.duration / 2)
                return shifted
            }
        }
        let graph = SpeakerGraph(answers: answers, absolute: absolute)
        var links: [(tier: Int, seconds: Double, a: (Int, String), b: (Int, String))] = []
        for a in answers.indices {
            for b in answers.indices where b > a {
                var windows: [(Double, Double)] = []
                for x in answers[a].chunk.spans {
                    for y in answers[b].chunk.spans where min(x.upperBound, y.upperBound) > max(x.lowerBound, y.lowerBound) {
                        windows.append((max(x.lowerBound, y.lowerBound), min(x.upperBound, y.upperBound)))
                    }
                }
                guard !windows.isEmpty else { continue }
                for (left, right, seconds) in pairs(absolute[a], absolute[b], windows: windows) {
                    links.append((b >= trusted.count ? 1 : 0, seconds, (a, left), (b, right)))
                }
            }
        }
        for link in links.sorted(by: { ($0.tier, -$0.seconds) < ($1.tier, -$1.seconds) }) {
            graph.join(link.a, link.b)
        }
        return graph
    }

    /// The labels of `a` and `b` that are one speaker by their speech together in `[from, to]`: an optimal
    /// one-to-one assignment on seconds spoken together, each pair with enough of it.
    func pairs(_ a: [DiarizedSegment], _ b: [DiarizedSegment], from: Double, to: Double) -> [(String, String, Double)] {
        pairs(a, b, windows: [(from, to)])
    }

    /// The same over several shared stretches at once.
    func pairs(_ a: [DiarizedSegment], _ b: [DiarizedSegment], windows: [(Double, Double)]) -> [(String, String, Double)] {
        func inside(_ segment: DiarizedSegment) -> Double { windows.reduce(0) { $0 + segment.overlap(from: $1.0, to: $1.1) } }
        let left = a.filter { inside($0) > 0 }
        let right = b.filter { inside($0) > 0 }
        let leftLabels = Array(Set(left.map(\.speaker))).sorted()
        let rightLabels = Array(Set(right.map(\.speaker))).sorted()
        guard !leftLabels.isEmpty, !rightLabels.isEmpty else { return [] }
        let leftIndex = Dictionary(uniqueKeysWithValues: leftLabels.enumerated().map { ($1, $0) })
        let rightIndex = Dictionary(uniqueKeysWithValues: rightLabels.enumerated().map { ($1, $0) })
        var together = [[Double]](repeating: [Double](repeating: 0, count: rightLabels.count), count: leftLabels.count)
        var leftSpoken = [Double](repeating: 0, count: leftLabels.count)
        var rightSpoken = [Double](repeating: 0, count: rightLabels.count)
        for segment in right { rightSpoken[rightIndex[segment.speaker]!] += inside(segment) }
        for segment in left {
            let row = leftIndex[segment.speaker]!
            leftSpoken[row] += inside(segment)
            for (from, to) in windows {
                let lo = max(segment.start, from)
                let hi = min(segment.end, to)
                guard hi > lo else { continue }
                for other in right { together[row][rightIndex[other.speaker]!] += other.overlap(from: lo, to: hi) }
            }
        }
        var result: [(String, String, Double)] = []
        for (row, column) in OptimalAssignment.maximize(together).enumerated() {
            guard let column else { continue }
            let seconds = together[row][column]
            if seconds >= minimumMatchSeconds && seconds >= minimumMatchShare * max(leftSpoken[row], rightSpoken[column]) {
                result.append((leftLabels[row], rightLabels[column], seconds))
            }
        }
        return result
    }

    /// `items` with each multi-word segment that spans `cut` broken into its words (time shared out by length), so
    /// the hand-over keeps each word of a long turn from exactly one side.
    static func words(_ items: [Labelled], across cut: Double) -> [Labelled] {
        items.flatMap { item -> [Labelled] in
            guard item.segment.start < cut, item.segment.end > cut else { return [item] }
            let parts = Transcript.spread(item.segment.text, start: item.segment.start, end: item.segment.end)
            guard parts.count > 1 else { return [item] }
            return parts.map { part in
                var segment = item.segment
                segment.text = part.word
                segment.start = part.start
                segment.end = part.end
                return Labelled(segment: segment, global: item.global)
            }
        }
    }

    /// Where the overlap `[from, to]` hands over from the earlier chunks to the later one: the middle of the longest
    /// silence that both sides agree on within the overlap's middle half, or the overlap's middle when speech is
    /// continuous, so a word said near the boundary is kept from exactly one side.
    static func cut(from: Double, to: Double, earlier: [Labelled], later: [Labelled]) -> Double {
        let middle = (from + to) / 2
        let lo = from + (to - from) / 4
        let hi = to - (to - from) / 4
        let speech = (earlier + later).map(\.segment).filter { $0.end > lo && $0.start < hi }
            .map { (max($0.start, lo), min($0.end, hi)) }.sorted { $0.0 < $1.0 }
        var best: (length: Double, at: Double)? = nil
        var cursor = lo
        for (start, end) in speech + [(hi, hi)] {
            if start > cursor {
                let length = start - cursor
                let at = (start + cursor) / 2
                // Longest silence wins; among equal ones, the one nearer the middle.
                if length >= 0.2,
                    best == nil || length > best!.length + 1e-9
                        || (abs(length - best!.length) <= 1e-9 && abs(at - middle) < abs(best!.at - middle))
                {
                    best = (length, at)
                }
            }
            cursor = max(cursor, end)
        }
        return best?.at ?? middle
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 3600
            ? "\(whole / 3600):\(pad(whole / 60 % 60)):\(pad(whole % 60))"
            : "\(whole / 60):\(pad(whole % 60))"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// Speakers as sets of (answer, label) pairs, joined by union-find; a join that would put two labels of one answer
/// in one speaker is refused.
final class SpeakerGraph {
    let absolute: [[DiarizedSegment]]
    private var ids: [String: Int] = [:]
    private var parent: [Int] = []
    private var answersOf: [Set<Int>] = []

    init(answers: [ChunkDiarization], absolute: [[DiarizedSegment]]) {
        self.absolute = absolute
        for (index, answer) in answers.enumerated() {
            for label in answer.labelsByFirstSpeech {
                ids[key(index, label)] = parent.count
                parent.append(parent.count)
                answersOf.append([index])
            }
        }
    }

    /// The speaker (a component id) of `label` in answer `index`.
    func speaker(_ index: Int, _ label: String) -> Int { root(ids[key(index, label)]!) }

    /// Whether the two speakers have labels in one answer (the diarizer told them apart there).
    func heardTogether(_ x: Int, _ y: Int) -> Bool {
        x == y || !answersOf[root(x)].isDisjoint(with: answersOf[root(y)])
    }

    func join(_ a: (Int, String), _ b: (Int, String)) {
        let x = speaker(a.0, a.1)
        let y = speaker(b.0, b.1)
        guard x != y, answersOf[x].isDisjoint(with: answersOf[y]) else { return }
        let (keep, drop) = x < y ? (x, y) : (y, x)
        parent[drop] = keep
        answersOf[keep].formUnion(answersOf[drop])
    }

    private func root(_ node: Int) -> Int {
        var node = node
        while parent[node] != node {
            parent[node] = parent[parent[node]]
            node = parent[node]
        }
        return node
    }

    private func key(_ index: Int, _ label: String) -> String { "\(index)\u{1}\(label)" }
}
