import Foundation

@testable import SparkDeck

/// Generated conversations with known speakers, a stand-in for a few-slot diarizer, and an independent scorer, for
/// the label-merge suites. Every number comes from a seed, none is fitted by hand.
enum SpeechTimelines {
    /// A conversation where a small group talks at a time and the group drifts: every `sceneSeconds` one member
    /// leaves for good and another joins, until all `speakers` have been heard; neighbouring chunks share most
    /// voices. (A voice that comes back after minutes of silence cannot be recognised from overlaps alone.)
    /// Words are `DiarizedSegment`s labelled `S<k>` with unique texts `w<n>`.
    static func conversation(
        seed: UInt64, duration: Double, speakers: Int, group: Int = 3,
        sceneSeconds: ClosedRange<Double> = 80...140
    ) -> [DiarizedSegment] {
        var random = SeededGenerator(seed: seed)
        var members = Array(0..<min(group, speakers))
        var waiting = Array(min(group, speakers)..<speakers)
        var sceneEnd = Double.random(in: sceneSeconds, using: &random)
        var words: [DiarizedSegment] = []
        var time = 0.5
        var previous = -1
        while time < duration - 1 {
            if time >= sceneEnd, !waiting.isEmpty {
                let leaving = Int.random(in: 0..<members.count, using: &random)
                members[leaving] = waiting.removeFirst()
                sceneEnd = time + Double.random(in: sceneSeconds, using: &random)
            }
            var speaker = members.randomElement(using: &random)!
            if speaker == previous, members.count > 1 { speaker = members.filter { $0 != previous }.randomElement(using: &random)! }
            previous = speaker
            let turnEnd = min(duration - 0.5, time + Double.random(in: 1...12, using: &random))
            time = appendTurn(speaker: speaker, from: time, to: turnEnd, into: &words, using: &random)
            time += Double.random(in: 0.15...1.2, using: &random)
        }
        return words
    }

    /// Words for one speaker from `from` until about `to`; returns where the last word ends.
    @discardableResult
    static func appendTurn(
        speaker: Int, from: Double, to: Double, into words: inout [DiarizedSegment],
        using random: inout SeededGenerator
    ) -> Double {
        var time = from
        repeat {
            let length = Double.random(in: 0.2...0.6, using: &random)
            words.append(DiarizedSegment(speaker: "S\(speaker)", start: time, end: time + length, text: "w\(words.count)"))
            time += length + Double.random(in: 0.04...0.2, using: &random)
        } while time < to
        return words.last!.end
    }

    /// What a diarizer with `slots` speaker slots answers for `chunk`: the words whose middle lies in it, times
    /// relative to the chunk and jittered a little, labels numbered by first appearance in the call; a voice past
    /// the slots is folded into an existing slot (as Sortformer does), and a small share of words is mislabelled.
    static func diarize(
        _ truth: [DiarizedSegment], chunk: ChunkPlan.Chunk, seed: UInt64, slots: Int = 4,
        jitter: Double = 0.06, confusion: Double = 0.01, asTurns: Bool = false
    ) -> ChunkDiarization {
        var random = SeededGenerator(
            seed: seed ^ UInt64(bitPattern: Int64((chunk.start * 1000).rounded())) &* 31
                ^ UInt64(chunk.depth))
        var slotOf: [String: Int] = [:]
        var segments: [DiarizedSegment] = []
        var offset = 0.0
        var heard: [(word: DiarizedSegment, shift: Double, span: ClosedRange<Double>)] = []
        for span in chunk.spans {
            for word in truth where word.middle >= span.lowerBound && word.middle < span.upperBound {
                heard.append((word, offset - span.lowerBound, span))
            }
            offset += span.upperBound - span.lowerBound
        }
        for (word, shift, span) in heard {
            if slotOf[word.speaker] == nil {
                slotOf[word.speaker] = slotOf.count < slots ? slotOf.count : Int.random(in: 0..<slots, using: &random)
            }
            var slot = slotOf[word.speaker]!
            let used = Set(slotOf.values).count
            if used > 1, Double.random(in: 0..<1, using: &random) < confusion {
                slot = (slot + Int.random(in: 1..<used, using: &random)) % used
            }
            let start = max(span.lowerBound, word.start + Double.random(in: -jitter...jitter, using: &random))
            let end = min(span.upperBound, max(start + 0.05, word.end + Double.random(in: -jitter...jitter, using: &random)))
            segments.append(
                DiarizedSegment(
                    speaker: "speaker_\(slot)", start: start + shift,
                    end: end + shift, text: word.text))
        }
        guard asTurns else { return ChunkDiarization(chunk: chunk, segments: segments) }
        // One segment per run of one label, its text the words said, as a turn-level diarizer answers.
        var turns: [DiarizedSegment] = []
        for segment in segments {
            if var last = turns.last, last.speaker == segment.speaker, segment.start - last.end < 1.5 {
                last.end = segment.end
                last.text += " " + segment.text
                turns[turns.count - 1] = last
            } else {
                turns.append(segment)
            }
        }
        return ChunkDiarization(chunk: chunk, segments: turns)
    }

    /// The hypothesis as one segment per word, for scoring turn-level answers.
    static func words(_ segments: [DiarizedSegment]) -> [DiarizedSegment] {
        segments.flatMap { segment in
            Transcript.spread(segment.text, start: segment.start, end: segment.end).map {
                DiarizedSegment(speaker: segment.speaker, start: $0.start, end: $0.end, text: $0.word)
            }
        }
    }

    /// Runs the chunked diarization over `truth` with the stand-in diarizer.
    static func run(
        _ truth: [DiarizedSegment], duration: Double, plan: ChunkPlan, seed: UInt64,
        slots: Int = 4, asTurns: Bool = false
    ) async throws -> SpeakerLabelMerge.Result {
        try await ChunkedDiarization(plan: plan, maxConcurrent: 2, slots: slots).run(duration: duration) { chunk in
            diarize(truth, chunk: chunk, seed: seed, slots: slots, asTurns: asTurns)
        }
    }

    /// Share of the truth's speech time whose word carries the hypothesis label that the best one-to-one mapping
    /// of hypothesis labels onto true speakers gives it. Words are matched by their unique text; a word missing
    /// from the hypothesis counts as wrong. The mapping is found by exhaustive search, independent of the code
    /// under test.
    static func agreement(truth: [DiarizedSegment], hypothesis: [DiarizedSegment]) -> Double {
        let labelByText = Dictionary(hypothesis.map { ($0.text, $0.speaker) }, uniquingKeysWith: { first, _ in first })
        let trueSpeakers = Array(Set(truth.map(\.speaker))).sorted()
        let hypSpeakers = Array(Set(hypothesis.map(\.speaker))).sorted()
        var together = [[Double]](repeating: [Double](repeating: 0, count: trueSpeakers.count), count: hypSpeakers.count)
        let trueIndex = Dictionary(uniqueKeysWithValues: trueSpeakers.enumerated().map { ($1, $0) })
        let hypIndex = Dictionary(uniqueKeysWithValues: hypSpeakers.enumerated().map { ($1, $0) })
        var total = 0.0
        for word in truth {
            total += word.duration
            if let label = labelByText[word.text] { together[hypIndex[label]!][trueIndex[word.speaker]!] += word.duration }
        }
        return bestMapping(together) / max(total, 1e-9)
    }

    /// The largest sum of `weights[row][column]` over one-to-one pairings, by dynamic programming over the subsets
    /// of the smaller side (exact, and independent of the Hungarian method under test).
    static func bestMapping(_ weights: [[Double]]) -> Double {
        guard let width = weights.first?.count, width > 0 else { return 0 }
        let matrix = width <= weights.count ? weights : (0..<width).map { column in weights.map { $0[column] } }
        let columns = matrix[0].count
        var best = [Double](repeating: -1, count: 1 << columns)
        best[0] = 0
        for row in matrix {
            var next = best
            for mask in 0..<(1 << columns) where best[mask] >= 0 {
                for column in 0..<columns where mask & (1 << column) == 0 {
                    next[mask | (1 << column)] = max(next[mask | (1 << column)], best[mask] + row[column])
                }
            }
            best = next
        }
        return best.max() ?? 0
    }
}
