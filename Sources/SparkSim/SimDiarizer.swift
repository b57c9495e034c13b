import Foundation

/// The ASR sim's diarizer, shaped like Sortformer: words are clustered by pitch, in order of first speech, into at
/// most four slots (a further voice joins the nearest slot), and past ~90 s of input the labels start to wander,
/// more the longer the call, as the real model's do on inputs longer than its training sessions.
enum SimDiarizer {
    static let slots = 4
    static let trainedSeconds = 90.0
    // Runs within this distance (in octaves, about 21%) of a speaker's mean pitch are that speaker: espeak-ng's
    // pitch settings 40 apart differ by about 0.45 octave, while one voice's sentences spread by up to 0.25 (a
    // tighter bound split the lowest voices' sentences into two speakers).
    static let sameSpeakerOctaves = 0.28

    /// The slot (0-based, numbered by first speech) of each word. Words closer than `runGapSeconds` form a run
    /// (one breath of one speaker) labelled as a whole by its median pitch: a voice's intonation moves single
    /// words by 10-15%, a run's median far less.
    static func slots(for words: [SimSpeechAnalysis.Word], duration: Double, maxSpeakers: Int?) -> [Int] {
        let limit = max(1, min(slots, maxSpeakers ?? slots))
        var runs: [Range<Int>] = []
        for index in words.indices {
            if let last = runs.last, words[index].start - words[index - 1].end < runGapSeconds {
                runs[runs.count - 1] = last.lowerBound..<(index + 1)
            } else {
                runs.append(index..<(index + 1))
            }
        }
        var centres: [(sum: Double, count: Double)] = []
        var result = [Int](repeating: 0, count: words.count)
        var previous = 0
        for run in runs {
            let pitches = run.compactMap { words[$0].pitch }.sorted()
            var slot = previous
            if !pitches.isEmpty {
                let octave = log2(pitches[pitches.count / 2])
                func distance(_ index: Int) -> Double { abs(centres[index].sum / centres[index].count - octave) }
                let nearest = centres.indices.min { distance($0) < distance($1) }
                if let nearest, distance(nearest) <= sameSpeakerOctaves || centres.count >= limit {
                    slot = nearest
                    centres[nearest].sum += octave
                    centres[nearest].count += 1
                } else {
                    slot = centres.count
                    centres.append((octave, 1))
                }
            }
            for index in run { result[index] = slot }
            previous = slot
        }
        return degrade(result, words: words, duration: duration, speakers: centres.count)
    }

    static let runGapSeconds = 0.5

    /// Past the trained length, a share of the words after it get another label: none at 90 s, 25% at 2 minutes,
    /// half from 3 minutes. Deterministic: the same call degrades the same way.
    static func degrade(_ slots: [Int], words: [SimSpeechAnalysis.Word], duration: Double, speakers: Int) -> [Int] {
        guard duration > trainedSeconds, speakers > 1 else { return slots }
        let rate = min(0.5, (duration - trainedSeconds) / 120)
        return slots.enumerated().map { index, slot in
            guard words[index].start > trainedSeconds else { return slot }
            var hash = UInt64(index) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: Int64((words[index].start * 1000).rounded()))
            hash = (hash ^ (hash >> 31)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            let draw = Double(hash % 10_000) / 10_000
            return draw < rate ? (slot + 1 + Int(hash >> 40) % (speakers - 1)) % speakers : slot
        }
    }

    /// Deterministic stand-in words: the sim recognises no speech, but the same audio always reads the same.
    static func text(for word: SimSpeechAnalysis.Word, index: Int) -> String {
        let bucket = Int(((word.pitch ?? 0) / 8).rounded())
        let length = Int((word.end - word.start) * 20)
        return vocabulary[(index &* 7 &+ bucket &* 3 &+ length) % vocabulary.count]
    }

    static let vocabulary = [
        "so", "we", "can", "start", "the", "meeting", "now", "yes", "I", "think", "that", "plan", "works", "for",
        "me", "what", "about", "budget", "next", "week", "right", "okay", "let's", "check", "numbers", "again",
        "they", "said", "friday", "is", "fine", "good", "thanks", "everyone", "call", "later", "sounds", "great",
    ]
}
