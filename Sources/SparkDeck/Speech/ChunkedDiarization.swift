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
        var pending = plan.chunks(duration: duration)
        var answers: [ChunkDiarization] = []
        var splitAnswers: [ChunkDiarization] = []
        var state = Progress(chunksDone: 0, chunksPlanned: pending.count, secondsDone: 0)
        while !pending.isEmpty {
            let round = pending
            pending = []
            try await ask(round, diarize: diarize) { answer in
                state.chunksDone += 1
                if answer.fillsAllSlots(slots), let halves = plan.split(answer.chunk) {
                    splitAnswers.append(answer)
                    pending += halves
                    state.chunksPlanned += halves.count
                } else {
                    answers.append(answer)
                    state.secondsDone += answer.chunk.duration
                }
                await progress(state)
            }
        }
        // One round of bridge windows for speakers no shared window could place; bounded by their number.
        let windows = merge.bridges(for: answers, context: splitAnswers, duration: duration, chunkSeconds: plan.chunkSeconds)
        state.chunksPlanned += windows.count
        var bridges: [ChunkDiarization] = []
        try await ask(windows, diarize: diarize) { answer in
            bridges.append(answer)
            state.chunksDone += 1
            await progress(state)
        }
        return merge.merge(answers, bridges: bridges, context: splitAnswers, speakerNames: speakerNames, slots: slots)
    }

    /// Asks about `chunks`, at most `maxConcurrent` calls at once, handing each answer to `each` as it arrives.
    func ask(
        _ chunks: [ChunkPlan.Chunk], diarize: @escaping @Sendable (ChunkPlan.Chunk) async throws -> ChunkDiarization,
        each: (ChunkDiarization) async -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: ChunkDiarization.self) { group in
            var next = chunks.makeIterator()
            for _ in 0..<min(maxConcurrent, chunks.count) {
                if let chunk = next.next() { group.addTask { try await diarize(chunk) } }
            }
            while let answer = try await group.next() {
                if let chunk = next.next() { group.addTask { try await diarize(chunk) } }
                await each(answer)
            }
        }
    }
}
