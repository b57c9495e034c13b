import Foundation

/// Merges a call recorded on two channels: the local microphone's words (one speaker) and the remote channel's
/// diarized segments, by time. The remote party bleeds into the local microphone, so the local transcript also holds
/// the remote's words, fainter; a local word is dropped only when the remote is speaking then and the word's level
/// is what the bleed alone would give. The bleed coupling (local level / remote level) is measured on the stretches
/// where only the remote talks. Pure.
public struct DualChannelMerge: Sendable {
    /// The merged call.
    public struct Result: Sendable, Equatable {
        /// Both channels, sorted by start: local words with `channel: "local"`, remote segments with `"remote"`.
        public var segments: [DiarizedSegment]
        /// Local words taken for bleed of the remote.
        public var droppedAsBleed: [DiarizedSegment]
        /// Local level per unit of remote level on remote-only stretches; nil when the remote never spoke.
        public var coupling: Double?
    }

    public var localSpeaker: String
    // A local word overlapping the remote's speech for less than this share of its time is the local speaker's: the
    // bleed cannot be louder than the speech it comes from, and the edges of turns overlap a little.
    public var remoteSpeakingShare: Double
    // How far (in dB of power) a word must stand above the bleed prediction to be kept while the remote speaks: twice
    // the predicted power, well past the window-to-window spread of a bleed path, yet low enough that the local
    // speaker talking as loud as the bleed over the remote is kept.
    public var keepMarginDB: Double

    public init(localSpeaker: String = "local", remoteSpeakingShare: Double = 0.3, keepMarginDB: Double = 3) {
        self.localSpeaker = localSpeaker
        self.remoteSpeakingShare = remoteSpeakingShare
        self.keepMarginDB = keepMarginDB
    }

    /// `localWords`' speaker is ignored (they are all `localSpeaker`); `remote` keeps its labels.
    public func merge(localWords: [DiarizedSegment], remote: [DiarizedSegment], levels: ChannelLevels) -> Result {
        let remoteSpeech = Self.union(remote.map { ($0.start, $0.end) })
        let coupling = Self.coupling(levels: levels, remoteSpeech: remoteSpeech)
        let localFloor = Self.quantile(levels.local.prefix(levels.count).filter { $0 > 0 }, 0.1) ?? 0
        let margin = Self.power(fromDB: keepMarginDB)
        var kept: [DiarizedSegment] = []
        var dropped: [DiarizedSegment] = []
        for word in localWords {
            var segment = word
            segment.speaker = localSpeaker
            segment.channel = "local"
            if let coupling, Self.covered(remoteSpeech, from: word.start, to: word.end) >= remoteSpeakingShare * max(word.duration, 1e-6) {
                var heard = 0.0
                var predicted = 0.0
                for window in levels.windows(from: word.start, to: word.end) {
                    heard += levels.local[window] * levels.local[window]
                    let bleed = coupling * levels.remote[window]
                    predicted += bleed * bleed + localFloor * localFloor
                }
                if heard < predicted * margin {
                    dropped.append(segment)
                    continue
                }
            }
            kept.append(segment)
        }
        let remoteSegments = remote.map { segment -> DiarizedSegment in
            var copy = segment
            copy.channel = "remote"
            return copy
        }
        let segments = (kept + remoteSegments).sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        return Result(segments: segments, droppedAsBleed: dropped, coupling: coupling)
    }

    /// The bleed coupling: the typical local/remote level ratio over windows where the remote speaks and the local
    /// microphone holds nothing but its bleed. Those are found without a local transcript (which transcribes bleed
    /// too): a first low guess (the lower quartile of all remote-speech ratios, since the local speaker only ever
    /// adds level) selects the windows within 6 dB of it, and their median is the estimate.
    static func coupling(levels: ChannelLevels, remoteSpeech: [(Double, Double)]) -> Double? {
        let remoteFloor = quantile(levels.remote.prefix(levels.count).filter { $0 > 0 }, 0.1) ?? 0
        var ratios: [Double] = []
        for (start, end) in remoteSpeech {
            for window in levels.windows(from: start, to: end) {
                let windowStart = levels.startTime(ofWindow: window)
                // Only windows wholly inside the remote's speech, and clearly above its own noise.
                guard windowStart >= start, windowStart + levels.windowSeconds <= end + 1e-9 else { continue }
                let remote = levels.remote[window]
                guard remote > 0, remote >= 4 * remoteFloor else { continue }
                ratios.append(levels.local[window] / remote)
            }
        }
        guard let first = quantile(ratios, 0.25) else { return nil }
        let bleedOnly = ratios.filter { $0 <= first * 2 }
        return quantile(bleedOnly, 0.5) ?? first
    }

    /// Seconds of `[from, to]` inside the sorted, disjoint `intervals`.
    static func covered(_ intervals: [(Double, Double)], from: Double, to: Double) -> Double {
        intervals.reduce(0) { $0 + max(0, min($1.1, to) - max($1.0, from)) }
    }

    static func union(_ intervals: [(Double, Double)]) -> [(Double, Double)] {
        var merged: [(Double, Double)] = []
        for (start, end) in intervals.sorted(by: { $0.0 < $1.0 }) where end > start {
            if let last = merged.last, start <= last.1 {
                merged[merged.count - 1].1 = max(last.1, end)
            } else {
                merged.append((start, end))
            }
        }
        return merged
    }

    static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count - 1) * q).rounded())))]
    }

    static func power(fromDB decibels: Double) -> Double {
        pow(10, decibels / 10)
    }
}
