import Foundation
import Testing

@testable import SparkDeck

/// A generated two-channel call: who said what when, the per-window levels both microphones picked up, and what an
/// ASR on the local channel would transcribe (the local speaker's words and the louder bleed words).
struct SyntheticCall {
    var localWords: [DiarizedSegment] = []
    var quietLocal: Set<String> = []
    var remoteWords: [DiarizedSegment] = []
    var levels = ChannelLevels(windowSeconds: 0.02, local: [], remote: [])
    var localTranscript: [DiarizedSegment] = []
    var bleedTexts: Set<String> = []
    /// Bleed words said while the local speaker was talking too.
    var doubleTalkBleed: Set<String> = []

    // The local ASR transcribes bleed louder than this.
    static let hearingThreshold = 0.006
    static let noise = 0.002

    init(seed: UInt64, coupling: Double, duration: Double = 240) {
        var random = SeededGenerator(seed: seed)
        var time = 0.5
        var local = Bool.random(using: &random)
        var lastEnd = 0.0
        var amplitude: [String: Double] = [:]
        var quiet = local && Double.random(in: 0..<1, using: &random) < 0.25
        while time < duration - 10 {
            var words: [DiarizedSegment] = []
            let remoteSpeaker = Int.random(in: 0...1, using: &random)
            lastEnd = SpeechTimelines.appendTurn(
                speaker: local ? 0 : remoteSpeaker, from: time,
                to: time + Double.random(in: 1...8, using: &random), into: &words, using: &random)
            for word in words {
                let text = (local ? "L" : "R") + "\(localWords.count + remoteWords.count)"
                let level = quiet ? Double.random(in: 0.01...0.03, using: &random) : Double.random(in: 0.08...0.3, using: &random)
                amplitude[text] = level
                if local {
                    localWords.append(DiarizedSegment(speaker: "local", start: word.start, end: word.end, text: text))
                    if quiet { quietLocal.insert(text) }
                } else {
                    remoteWords.append(DiarizedSegment(speaker: "speaker_\(remoteSpeaker)", start: word.start, end: word.end, text: text))
                }
            }
            local.toggle()
            let nextQuiet = local && Double.random(in: 0..<1, using: &random) < 0.25
            // Now and then the next turn starts before this one ends (double talk), never around a quiet local turn.
            if Double.random(in: 0..<1, using: &random) < 0.15 && !quiet && !nextQuiet {
                time = lastEnd - Double.random(in: 0.3...1.0, using: &random)
            } else {
                time = lastEnd + Double.random(in: 0.2...1.2, using: &random)
            }
            quiet = nextQuiet
        }
        // Quiet local turns never overlap the remote; this only guards the generator.
        let remoteIntervals = remoteWords.map { ($0.start, $0.end) }
        quietLocal = quietLocal.filter { text in
            let word = localWords.first { $0.text == text }!
            return !remoteIntervals.contains { $0.0 < word.end + 0.3 && $0.1 > word.start - 0.3 }
        }

        let windows = Int((duration / 0.02).rounded(.up))
        var localPower = [Double](repeating: Self.noise * Self.noise, count: windows)
        var remoteLevel = [Double](repeating: 0, count: windows)
        var remotePower = [Double](repeating: Self.noise * Self.noise, count: windows)
        for word in localWords {
            for window in Int(word.start / 0.02)..<min(windows, Int(word.end / 0.02)) {
                let level = amplitude[word.text]! * Double.random(in: 0.7...1.3, using: &random)
                localPower[window] += level * level
            }
        }
        for word in remoteWords {
            for window in Int(word.start / 0.02)..<min(windows, Int(word.end / 0.02)) {
                let level = amplitude[word.text]! * Double.random(in: 0.7...1.3, using: &random)
                remotePower[window] += level * level
                remoteLevel[window] = level
                // The room path varies a little from moment to moment.
                let bleed = coupling * level * Double.random(in: 0.9...1.1, using: &random)
                localPower[window] += bleed * bleed
            }
        }
        levels = ChannelLevels(
            windowSeconds: 0.02, local: localPower.map { $0.squareRoot() },
            remote: remotePower.map { $0.squareRoot() })

        func jittered(_ word: DiarizedSegment) -> DiarizedSegment {
            let start = max(0, word.start + Double.random(in: -0.03...0.03, using: &random))
            return DiarizedSegment(
                speaker: "?", start: start, end: max(start + 0.05, word.end + Double.random(in: -0.03...0.03, using: &random)),
                text: word.text)
        }
        localTranscript = localWords.map(jittered)
        let localIntervals = localWords.map { ($0.start, $0.end) }
        for word in remoteWords where coupling * amplitude[word.text]! >= Self.hearingThreshold {
            localTranscript.append(jittered(word))
            // Bleed heard while the local speaker talks too stands above the bleed prediction by design: kept apart.
            if localIntervals.contains(where: { $0.0 < word.end && $0.1 > word.start }) {
                doubleTalkBleed.insert(word.text)
            } else {
                bleedTexts.insert(word.text)
            }
        }
        localTranscript.sort { $0.start < $1.start }
    }
}

@Suite("Dual-channel merge (pure)")
struct DualChannelMergeTests {
    @Test(arguments: [0.05, 0.1, 0.2, 0.35, 0.5, 0.7])
    func bleedIsDroppedAndLocalWordsAreKept(coupling: Double) {
        var recalls: [Double] = []
        var rejections: [Double] = []
        for seed in UInt64(1)...4 {
            let call = SyntheticCall(seed: seed &* 1000 &+ UInt64(coupling * 100), coupling: coupling)
            let result = DualChannelMerge(localSpeaker: "agent")
                .merge(localWords: call.localTranscript, remote: call.remoteWords, levels: call.levels)
            let keptLocal = Set(result.segments.filter { $0.channel == "local" }.map(\.text))
            let localTexts = Set(call.localWords.map(\.text))
            let recall = Double(localTexts.intersection(keptLocal).count) / Double(localTexts.count)
            let rejection =
                call.bleedTexts.isEmpty
                ? 1
                : Double(call.bleedTexts.subtracting(keptLocal).count) / Double(call.bleedTexts.count)
            recalls.append(recall)
            rejections.append(rejection)
            #expect(recall >= 0.98, "coupling \(coupling), seed \(seed)")
            #expect(rejection >= 0.95, "coupling \(coupling), seed \(seed): \(call.bleedTexts.count) bleed words")
            #expect(call.quietLocal.isSubset(of: keptLocal), "quiet local words while the remote is silent")
            #expect(result.segments.filter { $0.channel == "local" }.allSatisfy { $0.speaker == "agent" })
            #expect(result.segments.filter { $0.channel == "remote" }.count == call.remoteWords.count)
            #expect(result.segments.map(\.start) == result.segments.map(\.start).sorted())
            if let estimate = result.coupling, coupling >= 0.1 {
                #expect(abs(estimate - coupling) / coupling < 0.25, "coupling estimate \(estimate) for \(coupling)")
            }
        }
        print("dual-channel coupling \(coupling): local recall min \(recalls.min()!), bleed rejected min \(rejections.min()!)")
    }

    @Test func aCallWithQuietLocalWordsUnderLoudBleedKeepsThemAll() {
        let call = SyntheticCall(seed: 77, coupling: 0.8)
        #expect(call.quietLocal.count >= 10, "the generator made quiet words")
        let result = DualChannelMerge().merge(localWords: call.localTranscript, remote: call.remoteWords, levels: call.levels)
        let kept = Set(result.segments.filter { $0.channel == "local" }.map(\.text))
        #expect(call.quietLocal.isSubset(of: kept))
        // Louder than most of them, the bleed is still dropped.
        #expect(Double(call.bleedTexts.subtracting(kept).count) >= 0.95 * Double(call.bleedTexts.count))
    }

    @Test func aLocalWordWellAboveTheBleedIsKeptWhileTheRemoteSpeaks() {
        // Remote talks 0-10 s at 0.2; coupling 0.3 (bleed 0.06). A local word at 4-4.5 s at 0.15 over it.
        let window = 0.02
        var local = [Double](repeating: 0.002, count: 600)
        var remote = [Double](repeating: 0.002, count: 600)
        for index in 0..<500 {
            remote[index] = 0.2
            local[index] = 0.06
        }
        for index in 200..<225 { local[index] = (0.06 * 0.06 + 0.15 * 0.15).squareRoot() }
        let levels = ChannelLevels(windowSeconds: window, local: local, remote: remote)
        let remoteSegments = [DiarizedSegment(speaker: "speaker_0", start: 0, end: 10, text: "long remote turn")]
        let words = [
            DiarizedSegment(speaker: "", start: 2, end: 2.5, text: "bleed"),
            DiarizedSegment(speaker: "", start: 4, end: 4.5, text: "mine"),
            DiarizedSegment(speaker: "", start: 11, end: 11.3, text: "after"),
        ]
        let result = DualChannelMerge().merge(localWords: words, remote: remoteSegments, levels: levels)
        #expect(result.droppedAsBleed.map(\.text) == ["bleed"])
        #expect(result.segments.filter { $0.channel == "local" }.map(\.text) == ["mine", "after"])
        #expect(abs(result.coupling! - 0.3) < 0.01)
    }

    @Test func withNoRemoteSpeechNothingIsDropped() {
        let levels = ChannelLevels(
            windowSeconds: 0.02, local: Array(repeating: 0.1, count: 100), remote: Array(repeating: 0.001, count: 100))
        let words = [DiarizedSegment(speaker: "", start: 0.2, end: 0.5, text: "hello")]
        let result = DualChannelMerge().merge(localWords: words, remote: [], levels: levels)
        #expect(result.coupling == nil)
        #expect(result.segments.map(\.text) == ["hello"])
    }
}

@Suite("Channel level meter (pure)")
struct ChannelLevelMeterTests {
    @Test func measuresEachChannelsRMSFromInterleavedSamplesFedInAnySize() {
        // Left: a 440 Hz sine at 0.5 (RMS 0.354); right: a 300 Hz sine at 0.1 for the first half second, then silence.
        var bytes: [UInt8] = []
        for frame in 0..<16_000 {
            let t = Double(frame) / 16_000
            let left = Int16((0.5 * sin(2 * Double.pi * 440 * t) * 32767).rounded())
            let right = Int16((frame < 8000 ? 0.1 * sin(2 * Double.pi * 300 * t) : 0) * 32767)
            for sample in [left, right] {
                let bits = UInt16(bitPattern: sample)
                bytes += [UInt8(bits & 0xff), UInt8(bits >> 8)]
            }
        }
        var meter = ChannelLevelMeter(sampleRate: 16_000, windowSeconds: 0.05)
        var random = SeededGenerator(seed: 3)
        var index = 0
        while index < bytes.count {
            let size = min(bytes.count - index, Int.random(in: 1...997, using: &random))
            meter.add(bytes[index..<(index + size)])
            index += size
        }
        let levels = meter.finish()
        #expect(levels.count == 20)
        #expect(levels.local.allSatisfy { abs($0 - 0.5 / 2.squareRoot()) < 0.01 })
        #expect(levels.remote.prefix(10).allSatisfy { abs($0 - 0.1 / 2.squareRoot()) < 0.005 })
        #expect(levels.remote.suffix(10).allSatisfy { $0 < 0.0001 })
        #expect(levels.windows(from: 0.12, to: 0.26) == 2..<6)
    }
}
