/// The RMS level of each channel of a two-channel call recording in fixed windows (linear, 1 = full scale), the
/// evidence the dual-channel merge weighs bleed with.
public struct ChannelLevels: Sendable, Equatable {
    public var windowSeconds: Double
    /// The local microphone (the left channel).
    public var local: [Double]
    /// The remote party (the right channel).
    public var remote: [Double]

    public init(windowSeconds: Double, local: [Double], remote: [Double]) {
        self.windowSeconds = windowSeconds
        self.local = local
        self.remote = remote
    }

    public var count: Int { min(local.count, remote.count) }

    /// Indices of the windows that overlap `[from, to]` (at least the one holding `from`).
    public func windows(from: Double, to: Double) -> Range<Int> {
        guard count > 0, windowSeconds > 0 else { return 0..<0 }
        let first = min(count - 1, max(0, Int(from / windowSeconds)))
        let last = min(count, max(first + 1, Int((to / windowSeconds).rounded(.up))))
        return first..<last
    }

    public func startTime(ofWindow index: Int) -> Double { Double(index) * windowSeconds }
}

/// Measures `ChannelLevels` from interleaved signed 16-bit little-endian stereo, the form `ffmpeg -ac 2 -f s16le`
/// writes, fed in pieces of any size as the decoder produces them.
public struct ChannelLevelMeter: Sendable {
    public let sampleRate: Int
    public let windowSeconds: Double
    private let framesPerWindow: Int
    private var carry: [UInt8] = []
    private var sums = (local: 0.0, remote: 0.0)
    private var frames = 0
    private var local: [Double] = []
    private var remote: [Double] = []

    /// `windowSeconds` defaults to 20 ms: short enough to follow syllables, long enough for a stable RMS.
    public init(sampleRate: Int = 16_000, windowSeconds: Double = 0.02) {
        self.sampleRate = sampleRate
        self.windowSeconds = windowSeconds
        self.framesPerWindow = max(1, Int((Double(sampleRate) * windowSeconds).rounded()))
    }

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        carry.append(contentsOf: bytes)
        let whole = carry.count / 4 * 4
        var index = 0
        while index < whole {
            let left = Double(Int16(bitPattern: UInt16(carry[index]) | UInt16(carry[index + 1]) << 8)) / 32768
            let right = Double(Int16(bitPattern: UInt16(carry[index + 2]) | UInt16(carry[index + 3]) << 8)) / 32768
            sums.local += left * left
            sums.remote += right * right
            frames += 1
            if frames == framesPerWindow { closeWindow() }
            index += 4
        }
        carry.removeFirst(whole)
    }

    /// The levels so far, a last partial window included.
    public func finish() -> ChannelLevels {
        var copy = self
        if copy.frames > 0 { copy.closeWindow() }
        return ChannelLevels(windowSeconds: Double(framesPerWindow) / Double(sampleRate), local: copy.local, remote: copy.remote)
    }

    private mutating func closeWindow() {
        local.append((sums.local / Double(frames)).squareRoot())
        remote.append((sums.remote / Double(frames)).squareRoot())
        sums = (0, 0)
        frames = 0
    }
}
