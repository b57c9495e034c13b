import DequeModule

/// Diarizes a long recording through a diarizer with few speaker slots: asks about each chunk of the plan (a bounded
/// number at once), asks again about the halves of a chunk whose answer filled every slot while the plan allows,
/// then merges the answers. The calls themselves come in as a closure, so this holds no IO.
public struct ChunkedDiarization: Sendable {
    /// Where a run stands, after each answer.
    public struct Progress: Sendable, Equatable {
        public var chunksDone: Int
        /// Grows when a crowded chunk is split.
        public var chunksPlanned: Int
        /// Audio seconds sent whose answer is final (an overlap counts in each of its chunks; a chunk that was split
        /// again counts only through its halves).
        public var secondsDone: Double
    }

    public var plan: ChunkPlan
    public var merge: SpeakerLabelMerge
    public var maxConcurrent: Int
    public var slots: Int

    public init(
        plan: ChunkPlan, merge: SpeakerLabelMerge = SpeakerLabelMerge(), maxConcurrent: Int = 2,
        slots: Int = DiarizerLimits.speakerSlots
    ) {
        self.plan = plan
        self.merge = merge
        self.maxConcurrent = max(1, maxConcurrent)
        self.slots = slots
    }

    public func run(
        duration: Double, speakerNames: [String] = [],
        progress: @Sendable (Progress) async -> Void = { _ in },
        diarize: @escaping @Sendable (ChunkPlan.Chunk) async throws -> ChunkDiarization
    )
        async throws -> SpeakerLabelMerge.Result
    {
        let chunks = plan.chunks(duration: duration)
        var answers: [ChunkDiarization] = []
        var splitAnswers: [ChunkDiarization] = []
        var state = Progress(chunksDone: 0, chunksPlanned: chunks.count, secondsDone: 0)
        // One rolling queue: the halves of a crowded chunk are asked as soon as its answer comes, so the cap stays
        // full instead of waiting for a round's slowest call.
        try await ask(chunks, diarize: diarize) { answer in
            state.chunksDone += 1
            var more: [ChunkPlan.Chunk] = []
            if answer.fillsAllSlots(slots), let halves = plan.split(answer.chunk) {
                splitAnswers.append(answer)
                more = halves
                state.chunksPlanned += halves.count
            } else {
                answers.append(answer)
                state.secondsDone += answer.chunk.duration
            }
            await progress(state)
            return more
        }
        // One round of bridge windows for speakers no shared window could place; bounded by their number.
        let windows = merge.bridges(for: answers, context: splitAnswers, duration: duration, chunkSeconds: plan.chunkSeconds)
        state.chunksPlanned += windows.count
        var bridges: [ChunkDiarization] = []
        try await ask(windows, diarize: diarize) { answer in
            bridges.append(answer)
            state.chunksDone += 1
            await progress(state)
            return []
        }
        return merge.merge(answers, bridges: bridges, context: splitAnswers, speakerNames: speakerNames, slots: slots)
    }

    /// Asks about `chunks`, at most `maxConcurrent` calls at once, handing each answer to `each` as it arrives; what
    /// `each` returns is asked about too, before the chunks not yet started.
    func ask(
        _ chunks: [ChunkPlan.Chunk], diarize: @escaping @Sendable (ChunkPlan.Chunk) async throws -> ChunkDiarization,
        each: (ChunkDiarization) async -> [ChunkPlan.Chunk]
    ) async throws {
        try await withThrowingTaskGroup(of: ChunkDiarization.self) { group in
            var queue = Deque(chunks)
            var running = 0
            func fill() {
                while running < maxConcurrent, let chunk = queue.popFirst() {
                    group.addTask { try await diarize(chunk) }
                    running += 1
                }
            }
            fill()
            while let answer = try await group.next() {
                running -= 1
                for chunk in await each(answer).reversed() { queue.prepend(chunk) }
                fill()
            }
        }
    }
}
