import Testing

@testable import SparkDeck

@Suite("Speaker label merge (pure)")
struct SpeakerLabelMergeTests {
    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func tenMinutesOfSixSpeakersMergeBackToSixSpeakers(seed: UInt64) async throws {
        let truth = SpeechTimelines.conversation(seed: seed, duration: 600, speakers: 6)
        let result = try await SpeechTimelines.run(truth, duration: 600, plan: try ChunkPlan(), seed: seed)
        let agreement = SpeechTimelines.agreement(truth: truth, hypothesis: result.segments)
        print("label-merge seed \(seed): 10 min, 6 speakers, agreement \(agreement), speakers \(result.speakers.count)")
        #expect(agreement >= 0.95)
        #expect(result.speakers.count == 6)
    }

    @Test func everyWordIsKeptExactlyOnceAndInOrder() async throws {
        let truth = SpeechTimelines.conversation(seed: 11, duration: 400, speakers: 5)
        let result = try await SpeechTimelines.run(truth, duration: 400, plan: try ChunkPlan(), seed: 11)
        let texts = result.segments.map(\.text)
        #expect(texts.count == truth.count)
        #expect(Set(texts) == Set(truth.map(\.text)))
        #expect(result.segments.map(\.start) == result.segments.map(\.start).sorted())
    }

    @Test(arguments: [UInt64(13), 14])
    func turnLevelAnswersKeepEachWordOfAnOverlapOnce(seed: UInt64) async throws {
        let truth = SpeechTimelines.conversation(seed: seed, duration: 400, speakers: 5)
        let result = try await SpeechTimelines.run(truth, duration: 400, plan: try ChunkPlan(), seed: seed, asTurns: true)
        let words = SpeechTimelines.words(result.segments)
        let texts = Set(words.map(\.text))
        let truthTexts = Set(truth.map(\.text))
        #expect(words.count == texts.count, "no word kept twice")
        #expect(truthTexts.subtracting(texts).count <= 2, "a word spread across a cut may be lost")
        let agreement = SpeechTimelines.agreement(truth: truth, hypothesis: words)
        print("label-merge turns seed \(seed): agreement \(agreement)")
        withKnownIssue(
            "label merge: a speaker silent through a shared window can still be split or joined wrongly; see the speech report",
            isIntermittent: true
        ) {
            #expect(agreement >= 0.95)
        }
    }

    @Test func speakersAreNumberedByFirstAppearanceAndNamedWhenAsked() async throws {
        let truth = SpeechTimelines.conversation(seed: 12, duration: 300, speakers: 5)
        let plain = try await SpeechTimelines.run(truth, duration: 300, plan: try ChunkPlan(), seed: 12)
        var firsts: [String] = []
        for segment in plain.segments where !firsts.contains(segment.speaker) { firsts.append(segment.speaker) }
        #expect(firsts == plain.speakers)
        #expect(firsts == (0..<firsts.count).map { "speaker_\($0)" })

        let names = ["Ann", "Bo"]
        let answers = try ChunkPlan().chunks(duration: 300).map { SpeechTimelines.diarize(truth, chunk: $0, seed: 12) }
        let named = SpeakerLabelMerge().merge(answers, speakerNames: names)
        #expect(Array(named.speakers.prefix(2)) == names)
        #expect(named.speakers.dropFirst(2).allSatisfy { $0.hasPrefix("speaker_") })
    }

    @Test(arguments: [UInt64(21), 22, 23])
    func aSpeakerTalkingAcrossAChunkBoundaryKeepsOneLabel(seed: UInt64) async throws {
        // Speaker S9 talks without a pause from before the first chunk's overlap starts until after it ends.
        let plan = try ChunkPlan()
        let chunks = plan.chunks(duration: 240)
        var random = SeededGenerator(seed: seed)
        var truth = SpeechTimelines.conversation(seed: seed, duration: 240, speakers: 3)
            .filter { $0.end < chunks[1].start - 8 || $0.start > chunks[0].end + 8 }
        var long: [DiarizedSegment] = []
        SpeechTimelines.appendTurn(speaker: 9, from: chunks[1].start - 7, to: chunks[0].end + 7, into: &long, using: &random)
        truth += long.map { DiarizedSegment(speaker: $0.speaker, start: $0.start, end: $0.end, text: "long\($0.text)") }
        truth.sort { $0.start < $1.start }
        let result = try await SpeechTimelines.run(truth, duration: 240, plan: plan, seed: seed)
        let labels = Set(result.segments.filter { $0.text.hasPrefix("long") }.map(\.speaker))
        let agreement = SpeechTimelines.agreement(truth: truth, hypothesis: result.segments)
        print("label-merge boundary seed \(seed): labels on the long turn \(labels.count), agreement \(agreement)")
        withKnownIssue(
            "label merge: a speaker silent through a shared window can still be split or joined wrongly; see the speech report",
            isIntermittent: true
        ) {
            #expect(labels.count == 1)
            #expect(agreement >= 0.95)
        }
    }

    @Test(arguments: [UInt64(31), 32, 33])
    func aSpeakerHeardOnlyInAnOverlapIsOneSpeakerOfItsOwn(seed: UInt64) async throws {
        let plan = try ChunkPlan()
        let chunks = plan.chunks(duration: 300)
        let overlap = (chunks[1].start, chunks[0].end)
        var random = SeededGenerator(seed: seed)
        var truth = SpeechTimelines.conversation(seed: seed, duration: 300, speakers: 2, group: 2)
            .filter { $0.end < overlap.0 + 3 || $0.start > overlap.0 + 9 }
        var guest: [DiarizedSegment] = []
        SpeechTimelines.appendTurn(speaker: 7, from: overlap.0 + 3.2, to: overlap.0 + 8.5, into: &guest, using: &random)
        truth += guest.map { DiarizedSegment(speaker: $0.speaker, start: $0.start, end: $0.end, text: "guest\($0.text)") }
        truth.sort { $0.start < $1.start }
        let result = try await SpeechTimelines.run(truth, duration: 300, plan: plan, seed: seed)
        let guestLabels = Set(result.segments.filter { $0.text.hasPrefix("guest") }.map(\.speaker))
        let othersLabels = Set(result.segments.filter { !$0.text.hasPrefix("guest") }.map(\.speaker))
        print("label-merge overlap guest seed \(seed): guest labels \(guestLabels.count), speakers \(result.speakers.count)")
        withKnownIssue(
            "label merge: a speaker silent through a shared window can still be split or joined wrongly; see the speech report",
            isIntermittent: true
        ) {
            #expect(guestLabels.count == 1)
            #expect(guestLabels.isDisjoint(with: othersLabels))
            #expect(result.speakers.count == 3)
        }
        #expect(result.segments.filter { $0.text.hasPrefix("guest") }.count == guest.count)
    }

    @Test(arguments: [UInt64(41), 42, 43, 44])
    func fiveVoicesInsideOneChunkWindowGiveFiveSpeakersOrAWarning(seed: UInt64) async throws {
        // Four voices talk through the whole first chunk, a fifth joins in its second half.
        var random = SeededGenerator(seed: seed)
        var truth: [DiarizedSegment] = []
        var time = 0.5
        while time < 70 {
            let pool = time < 38 ? [0, 1, 2, 3] : [0, 1, 2, 3, 4, 4]
            let speaker = pool.randomElement(using: &random)!
            time =
                SpeechTimelines.appendTurn(
                    speaker: speaker, from: time, to: time + Double.random(in: 1...4, using: &random),
                    into: &truth, using: &random) + 0.3
        }
        let result = try await SpeechTimelines.run(truth, duration: 75, plan: try ChunkPlan(), seed: seed)
        let agreement = SpeechTimelines.agreement(truth: truth, hypothesis: result.segments)
        print(
            "label-merge five voices seed \(seed): speakers \(result.speakers.count), warnings \(result.warnings.count), agreement \(agreement)"
        )
        #expect((result.speakers.count == 5 && agreement >= 0.9) || !result.warnings.isEmpty)
    }

    @Test func fiveVoicesThatNoSplitCanSeparateGetAWarning() async throws {
        var random = SeededGenerator(seed: 51)
        var truth: [DiarizedSegment] = []
        var time = 0.5
        var speaker = 0
        while time < 74 {
            speaker = (speaker + Int.random(in: 1...4, using: &random)) % 5
            time = SpeechTimelines.appendTurn(speaker: speaker, from: time, to: time + 1, into: &truth, using: &random) + 0.2
        }
        let result = try await SpeechTimelines.run(truth, duration: 75, plan: try ChunkPlan(), seed: 51)
        #expect(!result.warnings.isEmpty)
        #expect(result.warnings.allSatisfy { $0.contains("4 speaker slots") })
    }

    @Test(arguments: [UInt64(61), 62, 63, 64, 65, 66])
    func anyChunkingOfATimelineGivesTheSameGlobalSpeakers(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed &* 7919)
        let truth = SpeechTimelines.conversation(seed: seed, duration: 420, speakers: 6)
        var results: [SpeakerLabelMerge.Result] = []
        for _ in 0..<3 {
            let chunkSeconds = Double.random(in: 45...90, using: &random).rounded()
            let overlapSeconds = Double.random(in: 8...min(20, chunkSeconds / 2), using: &random).rounded()
            let plan = try ChunkPlan(chunkSeconds: chunkSeconds, overlapSeconds: overlapSeconds)
            let result = try await SpeechTimelines.run(truth, duration: 420, plan: plan, seed: seed)
            let agreement = SpeechTimelines.agreement(truth: truth, hypothesis: result.segments)
            print("label-merge chunking \(chunkSeconds)/\(overlapSeconds) seed \(seed): agreement \(agreement)")
            withKnownIssue(
                "label merge: a speaker silent through a shared window can still be split or joined wrongly; see the speech report",
                isIntermittent: true
            ) {
                #expect(result.speakers.count == 6, "chunk \(chunkSeconds) s, overlap \(overlapSeconds) s")
                #expect(agreement >= 0.95, "chunk \(chunkSeconds) s, overlap \(overlapSeconds) s")
            }
            #expect(agreement >= 0.85, "chunk \(chunkSeconds) s, overlap \(overlapSeconds) s")
            results.append(result)
        }
        for other in results.dropFirst() {
            let between = SpeechTimelines.agreement(truth: results[0].segments, hypothesis: other.segments)
            withKnownIssue(
                "label merge: a speaker silent through a shared window can still be split or joined wrongly; see the speech report",
                isIntermittent: true
            ) {
                #expect(between >= 0.95)
            }
        }
    }

    @Test func theMappingIsOptimalWhereTheGreedyChoiceIsWrong() {
        // In the shared window 10-20 s the earlier chunk heard G0 (10-13, 16-18.8) and G1 (13-15.5). The later
        // call heard 10-15.5 as one voice A (3.0 s with G0, 2.5 s with G1) and 16-18.8 as B (2.8 s with G0).
        // Pairing the largest overlap first (A with G0) would leave B a stranger; the best total pairs A-G1, B-G0.
        let earlier = ChunkDiarization(
            chunk: ChunkPlan.Chunk(start: 0, end: 20),
            segments: [
                DiarizedSegment(speaker: "speaker_0", start: 2, end: 8, text: "a"),
                DiarizedSegment(speaker: "speaker_0", start: 10, end: 13, text: "b"),
                DiarizedSegment(speaker: "speaker_1", start: 13, end: 15.5, text: "c"),
                DiarizedSegment(speaker: "speaker_0", start: 16, end: 18.8, text: "d"),
            ])
        let later = ChunkDiarization(
            chunk: ChunkPlan.Chunk(start: 10, end: 30),
            segments: [
                DiarizedSegment(speaker: "speaker_0", start: 0, end: 5.5, text: "b c"),
                DiarizedSegment(speaker: "speaker_1", start: 6, end: 8.8, text: "d"),
                DiarizedSegment(speaker: "speaker_1", start: 12, end: 15, text: "e"),
            ])
        let shifted = later.segments.map {
            DiarizedSegment(speaker: $0.speaker, start: $0.start + 10, end: $0.end + 10, text: $0.text)
        }
        let pairs = SpeakerLabelMerge().pairs(earlier.segments, shifted, from: 10, to: 20).map { "\($0.0)=\($0.1)" }
        #expect(pairs.sorted() == ["speaker_0=speaker_1", "speaker_1=speaker_0"])
        let merged = SpeakerLabelMerge().merge([earlier, later])
        #expect(merged.speakers.count == 2)
        #expect(merged.segments.first { $0.text == "e" }?.speaker == "speaker_0", "B is G0, the first speaker")
    }
}

@Suite("Optimal assignment (pure)")
struct OptimalAssignmentTests {
    @Test func matchesExhaustiveSearchOnGeneratedMatrices() {
        var random = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            let rows = Int.random(in: 1...6, using: &random)
            let columns = Int.random(in: 1...6, using: &random)
            let weights = (0..<rows).map { _ in
                (0..<columns).map { _ in Bool.random(using: &random) ? 0 : Double(Int.random(in: 0...20, using: &random)) }
            }
            let pairing = OptimalAssignment.maximize(weights)
            let used = pairing.compactMap { $0 }
            #expect(Set(used).count == used.count, "one-to-one")
            #expect(pairing.count == rows)
            var total = 0.0
            for (row, column) in pairing.enumerated() { if let column { total += weights[row][column] } }
            #expect(total == SpeechTimelines.bestMapping(weights), "\(weights)")
            #expect(used.count == min(rows, columns), "everyone on the smaller side is paired")
        }
    }

    @Test func emptyMatricesPairNobody() {
        #expect(OptimalAssignment.maximize([]) == [])
        #expect(OptimalAssignment.maximize([[], []]) == [nil, nil])
    }
}
