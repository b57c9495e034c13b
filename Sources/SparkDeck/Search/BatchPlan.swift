/// Cuts `count` inputs into runs of at most `size`, in order, for an upstream that takes at most `size` a request.
/// Pure.
enum BatchPlan {
    static func ranges(count: Int, size: Int) -> [Range<Int>] {
        let size = max(1, size)
        return stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) }
    }

    /// Runs `work` on each range with at most `parallel` at a time and returns the results in the ranges' order.
    static func run<T: Sendable>(
        _ ranges: [Range<Int>], parallel: Int, _ work: @escaping @Sendable (Range<Int>) async throws -> T
    ) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: ranges.count)
            var next = 0
            for _ in 0..<min(max(1, parallel), ranges.count) {
                let (index, range) = (next, ranges[next])
                group.addTask { (index, try await work(range)) }
                next += 1
            }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < ranges.count {
                    let (index, range) = (next, ranges[next])
                    group.addTask { (index, try await work(range)) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
