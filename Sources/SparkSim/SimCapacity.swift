import Foundation
import Synchronization

/// How a simulated GPU service slows under load, so a capacity sweep has a knee to find. Up to `capacity` requests
/// in flight each take their own time; past it they share the GPU (each takes longer by in-flight / capacity, so
/// throughput stays flat); past `capacity + 1` a request also stalls 1 to 4 s, as the real ASR did when overloaded.
public struct SimCapacityModel: Sendable, Equatable {
    public var capacity: Int
    /// GPU time of a request alone: `fixedSeconds` plus `secondsPerUnit` for each unit of work it carries (a second
    /// of audio to transcribe).
    public var fixedSeconds: Double
    public var secondsPerUnit: Double

    public init(capacity: Int, fixedSeconds: Double = 0.2, secondsPerUnit: Double = 0.01) {
        self.capacity = max(1, capacity)
        self.fixedSeconds = fixedSeconds
        self.secondsPerUnit = secondsPerUnit
    }

    /// Seconds a request takes that arrives with `inFlight` requests running (itself included). `draw` in 0..<1
    /// picks the stall's length, so the model is deterministic for a given draw.
    public func seconds(units: Double, inFlight: Int, draw: Double) -> Double {
        let alone = fixedSeconds + secondsPerUnit * max(0, units)
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

    /// Runs `work` (the CPU part: reading and decoding the request; it says how many units of work it held), then
    /// holds the request for its GPU time. Added, not overlapped: the real service decodes first, then runs its
    /// models, and a slow CPU (a debug build of the sim) must not hide the GPU's capacity.
    func serve<T: Sendable>(_ work: () async throws -> (T, units: Double)) async rethrows -> T {
        let (inFlight, served) = state.withLock { state in
            state.inFlight += 1
            state.served &+= 1
            return (state.inFlight, state.served)
        }
        let result: T
        let units: Double
        do {
            (result, units) = try await work()
        } catch {
            state.withLock { $0.inFlight -= 1 }
            throw error
        }
        // A fixed sequence of draws (the golden ratio's fractional parts): stalls of every length, the same each run.
        let draw = (Double(served) * 0.618_033_988_75).truncatingRemainder(dividingBy: 1)
        let seconds = model.seconds(units: units, inFlight: inFlight, draw: draw)
        try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        state.withLock { $0.inFlight -= 1 }
        return result
    }
}
