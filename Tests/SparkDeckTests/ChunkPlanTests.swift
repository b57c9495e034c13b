import Testing

@testable import SparkDeck

@Suite("Chunk plan (pure)")
struct ChunkPlanTests {
    @Test func chunksCoverTheRecordingWithAtLeastTheOverlapAndEqualLengths() throws {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let chunkSeconds = Double.random(in: 20...300, using: &random)
            let overlapSeconds = Double.random(in: 2...(chunkSeconds / 2), using: &random)
            let plan = try ChunkPlan(chunkSeconds: chunkSeconds, overlapSeconds: overlapSeconds)
            let duration = Double.random(in: 0.5...7200, using: &random)
            let chunks = plan.chunks(duration: duration)
            #expect(chunks.first?.start == 0)
            #expect(abs(chunks.last!.end - duration) < 1e-9)
            if duration <= chunkSeconds {
                #expect(chunks.count == 1)
                continue
            }
            for chunk in chunks { #expect(abs(chunk.duration - chunkSeconds) < 1e-6) }
            for (a, b) in zip(chunks, chunks.dropFirst()) {
                #expect(a.end - b.start >= overlapSeconds - 1e-6, "each chunk shares the overlap with the next")
                #expect(b.start > a.start)
            }
            // Spread evenly, never further apart than the stride.
            let spacing = chunks[1].start - chunks[0].start
            for (a, b) in zip(chunks, chunks.dropFirst()) {
                #expect(abs((b.start - a.start) - spacing) < 1e-6)
                #expect(b.start - a.start <= chunkSeconds - overlapSeconds + 1e-6)
            }
            // No more chunks than the stride needs.
            let stride = chunkSeconds - overlapSeconds
            #expect(Double(chunks.count - 1) * stride < duration - overlapSeconds + 1e-6)
        }
    }

    @Test func theDefaultsStayUnderTheDiarizersTrainingLength() throws {
        let plan = try ChunkPlan()
        #expect(plan.chunkSeconds < 90)
        #expect(plan.chunkSeconds == ChunkPlan.defaultChunkSeconds && plan.overlapSeconds == ChunkPlan.defaultOverlapSeconds)
        let twoHours = plan.chunks(duration: 7200)
        #expect(twoHours.count == 120)
    }

    @Test func badValuesNameTheFieldToFix() {
        let cases: [(Double?, Double?, String)] = [
            (10, nil, "chunk_seconds"), (-5, nil, "chunk_seconds"), (.nan, nil, "chunk_seconds"), (601, nil, "chunk_seconds"),
            (60, 1, "overlap_seconds"), (60, 31, "overlap_seconds"), (60, .infinity, "overlap_seconds"),
        ]
        for (chunk, overlap, field) in cases {
            #expect(throws: ChunkPlan.Invalid.self) { try ChunkPlan(chunkSeconds: chunk, overlapSeconds: overlap) }
            do {
                _ = try ChunkPlan(chunkSeconds: chunk, overlapSeconds: overlap)
            } catch {
                #expect(error.parameter == field)
                #expect(error.message.contains(field))
            }
        }
        // A short chunk with no overlap given gets one that fits.
        #expect(throws: Never.self) { try ChunkPlan(chunkSeconds: 20) }
    }

    @Test func splittingHalvesAChunkWithTheOverlapAndStopsAtTheDepthLimit() throws {
        let plan = try ChunkPlan()
        var pieces = [ChunkPlan.Chunk(start: 60, end: 135)]
        var rounds = 0
        while true {
            let next = pieces.compactMap { plan.split($0) }
            guard next.count == pieces.count else {
                #expect(next.isEmpty)
                break
            }
            for (piece, halves) in zip(pieces, next) {
                #expect(halves[0].start == piece.start && halves[1].end == piece.end)
                #expect(halves[0].end - halves[1].start >= min(plan.overlapSeconds, piece.duration / 2) - 1e-9)
                #expect(halves.allSatisfy { $0.depth == piece.depth + 1 && $0.duration < piece.duration })
            }
            pieces = next.flatMap { $0 }
            rounds += 1
            #expect(rounds <= ChunkPlan.maxSplitDepth)
            if rounds > 10 { break }
        }
        #expect(rounds == ChunkPlan.maxSplitDepth)
        // Too short to advance: not split.
        #expect(plan.split(ChunkPlan.Chunk(start: 0, end: 12)) == nil)
    }
}
