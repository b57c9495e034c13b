import Foundation
import Synchronization

/// How a simulated GPU service slows under load, so a capacity sweep has a knee to find. Up to `capacity` requests
/// in flight each take their own time; past it they share the GPU (each takes longer by in-flight / capacity, so
/// throughput stays flat); past `capacity + 1` a request also stalls 1 to 4 s, as the real ASR did when overloaded.
public struct SimCapacityModel: Sendable, Equatable {
    public var capacity: Int
    /// GPU time of a request alone: `fixedSeconds` plus `secondsPerAudioSecond` for each second of audio it carries.
    public var fixedSeconds: Double
    public var secondsPerAudioSecond: Double

    public init(capacity: Int, fixedSeconds: Double = 0.2, secondsPerAudioSecond: Double = 0.01) {
        self.capacity = max(1, capacity)
        self.fixedSeconds = fixedSeconds
        self.secondsPerAudioSecond = secondsPerAudioSecond
    }

    /// Seconds a request takes that arrives with `inFlight` requests running (itself included). `draw` in 0..<1
    /// picks the stall's length, so the model is deterministic for a given draw.
    public func seconds(audioSeconds: Double, inFlight: Int, draw: Double) -> Double {
        let alone = fixedSeconds + secondsPerAudioSecond * max(0, audioSeconds)
        let shared = alone * max(1, Double(inFlight) / Double(capacity))
        let stall = inFlight > capacity + 1 ? 1 + 3 * min(max(draw, 0), 1) : 0
        return shared + stall
    }
}

/// Counts the requests a sim serves at once and holds each for the time the model gives it.
final class SimCapacity: Sendable {
    let model: SimCapacityModel
    private let state = Mutex<(inFlight: Int, served: UInt64)>((0, 0))

    init(model: SimCapacityModel) { self.model = model }

    /// Runs `work` (which says how many seconds of audio the request carried), then waits out the rest of the
    /// request's GPU time, counted from its arrival.
    func serve<T: Sendable>(_ work: () async -> (T, audioSeconds: Double)) async -> T {
        let start = ContinuousClock.now
        let (inFlight, served) = state.withLock { state in
            state.inFlight += 1
            state.served &+= 1
            return (state.inFlight, state.served)
        }
        let (result, audioSeconds) = await work()
        // A fixed sequence of draws (the golden ratio's fractional parts): stalls of every length, the same each run.
        let draw = (Double(served) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1)
        let seconds = model.seconds(audioSeconds: audioSeconds, inFlight: inFlight, draw: draw)
        try? await Task.sleep(until: start + .milliseconds(Int(seconds * 1000)))
        state.withLock { $0.inFlight -= 1 }
        return result
    }
}
