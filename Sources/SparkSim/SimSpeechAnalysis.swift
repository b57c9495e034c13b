/// What the ASR sim "hears" in 16 kHz mono audio: voice activity by frame energy, words from voiced runs, and each
/// word's dominant pitch by autocorrelation, the speaker signature its diarizer clusters on. Deterministic: the same
/// samples always give the same words.
enum SimSpeechAnalysis {
    static let sampleRate = 16_000
    static let frameSamples = 320 // 20 ms

    /// One voiced run taken for a word.
    struct Word: Sendable, Equatable {
        var start: Double
        var end: Double
        /// Median fundamental frequency over the run, in Hz; nil when no frame was periodic.
        var pitch: Double?
        /// Mean RMS of the run (full scale 1).
        var level: Double
    }

    static func frameLevels(_ samples: [Int16]) -> [Double] {
        samples.withUnsafeBufferPointer { buffer in
            stride(from: 0, to: buffer.count, by: frameSamples).map { start in
                let end = min(buffer.count, start + frameSamples)
                var sum = 0.0
                for index in start..<end {
                    let value = Double(buffer[index]) / 32768
                    sum += value * value
                }
                return (sum / Double(max(1, end - start))).squareRoot()
            }
        }
    }

    // Gaps shorter than this inside a run are a stop consonant, not a word boundary; espeak-ng's `-g` word gap
    // (10 ms units) is longer.
    static let bridgeFrames = 4
    static let minimumWordFrames = 3
    // A run longer than this is connected speech: it is cut at its quietest frame until the pieces are word-sized.
    static let longestWordFrames = 60

    static func words(_ samples: [Int16]) -> [Word] {
        let levels = frameLevels(samples)
        guard !levels.isEmpty else { return [] }
        let sorted = levels.sorted()
        let floor = sorted[sorted.count / 10]
        let peak = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        // 10 dB over the noise floor and no more than 22 dB under the loud frames.
        let threshold = max(floor * 3.2, peak * 0.08, 100.0 / 32768)
        var runs: [Range<Int>] = []
        var runStart: Int? = nil
        var quiet = 0
        for (index, level) in levels.enumerated() {
            if level >= threshold {
                if runStart == nil { runStart = index }
                quiet = 0
            } else if let start = runStart {
                quiet += 1
                if quiet > bridgeFrames {
                    runs.append(start..<(index - quiet + 1))
                    runStart = nil
                    quiet = 0
                }
            }
        }
        if let start = runStart { runs.append(start..<(levels.count - quiet)) }
        let pieces = runs.filter { $0.count >= minimumWordFrames }.flatMap { split($0, levels: levels) }
        let downsampled = halfRate(samples)
        return pieces.map { run in
            let start = Double(run.lowerBound * frameSamples) / Double(sampleRate)
            let end = Double(run.upperBound * frameSamples) / Double(sampleRate)
            let level = run.reduce(0) { $0 + levels[$1] } / Double(run.count)
            return Word(start: start, end: end, pitch: pitch(downsampled, run: run, levels: levels, threshold: threshold), level: level)
        }
    }

    static func split(_ run: Range<Int>, levels: [Double]) -> [Range<Int>] {
        guard run.count > longestWordFrames else { return [run] }
        let inner = (run.lowerBound + run.count / 5)..<(run.upperBound - run.count / 5)
        let cut = inner.min { levels[$0] < levels[$1] } ?? (run.lowerBound + run.count / 2)
        return split(run.lowerBound..<cut, levels: levels) + split((cut + 1)..<run.upperBound, levels: levels)
    }

    /// 8 kHz by averaging sample pairs, which is low-pass enough for pitch and halves the work.
    static func halfRate(_ samples: [Int16]) -> [Float] {
        samples.withUnsafeBufferPointer { buffer in
            (0..<(buffer.count / 2)).map { Float(Int(buffer[2 * $0]) + Int(buffer[2 * $0 + 1])) / 65536 }
        }
    }

    // Lags for 40-400 Hz at 8 kHz (espeak-ng's lowest voices fall to about 50 Hz at a sentence's end); the first
    // lag within 90% of the best correlation is taken, so a period's multiples (an octave down) do not win by a hair.
    static let lags = 20...200

    static func pitch(_ eight: [Float], run: Range<Int>, levels: [Double], threshold: Double) -> Double? {
        var estimates: [Double] = []
        let window = 320 // 40 ms at 8 kHz
        eight.withUnsafeBufferPointer { buffer in
            var frame = run.lowerBound
            while frame < run.upperBound {
                defer { frame += 2 }
                guard levels[frame] >= threshold * 1.5 else { continue }
                let start = frame * frameSamples / 2
                guard start + window + lags.upperBound <= buffer.count else { continue }
                var correlations = [Float](repeating: 0, count: lags.count)
                var energy0: Float = 0
                for index in start..<(start + window) { energy0 += buffer[index] * buffer[index] }
                guard energy0 > 0 else { continue }
                for (slot, lag) in lags.enumerated() {
                    var product: Float = 0
                    var energy1: Float = 0
                    for index in start..<(start + window) {
                        let shifted = buffer[index + lag]
                        product += buffer[index] * shifted
                        energy1 += shifted * shifted
                    }
                    correlations[slot] = energy1 > 0 ? product / (energy0 * energy1).squareRoot() : 0
                }
                guard let best = correlations.max(), best >= 0.5 else { continue }
                let slot = correlations.firstIndex { $0 >= best * 0.9 }!
                // The local peak at or after the first qualifying lag.
                var peakSlot = slot
                while peakSlot + 1 < correlations.count, correlations[peakSlot + 1] > correlations[peakSlot] { peakSlot += 1 }
                estimates.append(8000 / Double(lags.lowerBound + peakSlot))
            }
        }
        guard !estimates.isEmpty else { return nil }
        return estimates.sorted()[estimates.count / 2]
    }
}
