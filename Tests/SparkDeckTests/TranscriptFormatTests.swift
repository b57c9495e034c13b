import Foundation
import Testing

@testable import SparkDeck

@Suite("Transcript formats (pure)")
struct TranscriptFormatTests {
    static let units = [
        DiarizedSegment(speaker: "Ann Lee", start: 0.5, end: 0.9, text: "Hello"),
        DiarizedSegment(speaker: "Ann Lee", start: 1.0, end: 1.6, text: "there."),
        DiarizedSegment(speaker: "speaker_1", start: 2.1, end: 3.3, text: "Hi, Ann"),
        DiarizedSegment(speaker: "Ann Lee", start: 3661.25, end: 3662.5, text: "Later."),
    ]
    static var diarized: Transcript {
        Transcript.diarized(units, speakers: ["Ann Lee", "speaker_1"], duration: 3663, warnings: ["crowded"])
    }

    static func object(_ rendered: TranscriptFormat.Rendered) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(rendered.body.utf8)) as? [String: Any])
    }

    @Test func turnsGroupOneSpeakersWordsAndWordsAreSharedOutByLength() {
        let transcript = Self.diarized
        #expect(transcript.segments.map(\.text) == ["Hello there.", "Hi, Ann", "Later."])
        #expect(transcript.segments.map(\.speaker) == ["Ann Lee", "speaker_1", "Ann Lee"])
        #expect(transcript.words.map(\.word) == ["Hello", "there.", "Hi,", "Ann", "Later."])
        let hi = transcript.words[2]
        let ann = transcript.words[3]
        #expect(hi.start == 2.1 && abs(hi.end - 2.7) < 1e-9 && abs(ann.start - 2.7) < 1e-9 && ann.end == 3.3)
        #expect(transcript.words.allSatisfy { $0.speaker != nil })
        #expect(transcript.text == "Hello there. Hi, Ann Later.")
    }

    @Test func diarizedJSONHasTheAPIShape() throws {
        let object = try Self.object(TranscriptFormat.json.render(Self.diarized))
        #expect(object["speakers"] as? [String] == ["Ann Lee", "speaker_1"])
        #expect(object["duration"] as? Double == 3663)
        let segments = try #require(object["segments"] as? [[String: Any]])
        #expect(segments.count == 3)
        #expect(segments[0]["speaker"] as? String == "Ann Lee" && segments[0]["start"] as? Double == 0.5)
        #expect(segments[0]["channel"] == nil)
        #expect(object["warnings"] as? [String] == ["crowded"])
        let plain = try Self.object(TranscriptFormat.json.render(Transcript(duration: 1, text: "hi", segments: [])))
        #expect(plain.keys.sorted() == ["text"])
    }

    @Test func verboseJSONIsOpenAIsShapeWithWordsOnlyWhenAsked() throws {
        let without = try Self.object(TranscriptFormat.verboseJSON.render(Self.diarized))
        #expect(without["words"] == nil)
        let object = try Self.object(TranscriptFormat.verboseJSON.render(Self.diarized, includeWords: true))
        for key in ["task", "language", "duration", "text", "segments", "words"] { #expect(object[key] != nil, "\(key)") }
        let segment = try #require((object["segments"] as? [[String: Any]])?.first)
        for key in ["id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio", "no_speech_prob"] {
            #expect(segment[key] != nil, "segment.\(key)")
        }
        let words = try #require(object["words"] as? [[String: Any]])
        #expect(words.count == 5)
        #expect(words.map { $0["speaker"] as? String } == ["Ann Lee", "Ann Lee", "speaker_1", "speaker_1", "Ann Lee"])
        #expect(words[4]["start"] as? Double == 3661.25)
    }

    @Test func subtitlesCarryTimesPastAnHourAndTheSpeaker() {
        let srt = TranscriptFormat.srt.render(Self.diarized).body
        #expect(srt.hasPrefix("1\n00:00:00,500 --> 00:00:01,600\nAnn Lee: Hello there.\n\n2\n"))
        #expect(srt.contains("3\n01:01:01,250 --> 01:01:02,500\nAnn Lee: Later.\n"))
        let vtt = TranscriptFormat.vtt.render(Self.diarized).body
        #expect(vtt.hasPrefix("WEBVTT\n\n00:00:00.500 --> 00:00:01.600\n<v Ann Lee>Hello there.\n"))
        #expect(vtt.contains("01:01:01.250 --> 01:01:02.500\n<v Ann Lee>Later."))
        let plain = Transcript(duration: 2, text: "Hello.", segments: [Transcript.Segment(start: 0, end: 1.9996, text: "Hello.")])
        #expect(TranscriptFormat.srt.render(plain).body == "1\n00:00:00,000 --> 00:00:02,000\nHello.\n")
    }

    @Test func rttmHasOneSpeakerLineOfTenFieldsPerTurn() {
        let rttm = TranscriptFormat.rttm.render(Self.diarized, recordingID: "team call").body
        let lines = rttm.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "SPEAKER team_call 1 0.500 1.100 <NA> <NA> Ann_Lee <NA> <NA>")
        #expect(lines.allSatisfy { $0.split(separator: " ").count == 10 })
    }

    @Test func textIsPlainOrOneLinePerTurn() {
        #expect(TranscriptFormat.text.render(Self.diarized).body == "Ann Lee: Hello there.\nspeaker_1: Hi, Ann\nAnn Lee: Later.\n")
        #expect(TranscriptFormat.text.render(Transcript(duration: 1, text: "just this", segments: [])).body == "just this")
        #expect(TranscriptFormat.allCases.map(\.rawValue) == ["json", "verbose_json", "srt", "vtt", "rttm", "text"])
    }

    @Test func upstreamTextThatComesBackJSONQuotedIsUnquoted() {
        let srt = "1\n00:00:00,000 --> 00:00:01,000\nSay \"hi\".\n"
        let quoted = String(decoding: JSONValue.string(srt).encoded(), as: UTF8.self)
        #expect(UpstreamTranscript.normalizedText(Array(quoted.utf8)) == srt)
        #expect(UpstreamTranscript.normalizedText(Array((" " + quoted + "\n").utf8)) == srt)
        #expect(UpstreamTranscript.normalizedText(Array(srt.utf8)) == srt)
        // Text that merely starts and ends with a quote mark but is no JSON string stays as it is.
        let speech = "\"Yes\" she said \"no\""
        #expect(UpstreamTranscript.normalizedText(Array(speech.utf8)) == speech)
    }

    @Test func upstreamVerboseJSONBecomesWordsAndSentences() throws {
        let body =
            #"{"task":"transcribe","language":"en","duration":3.0,"text":"Hi there. Bye.","segments":[{"start":0.1,"end":0.4,"text":"Hi"},{"start":0.5,"end":0.9,"text":" there."},{"start":1.2,"end":1.5,"text":"Bye."}]}"#
        let transcript = try UpstreamTranscript.transcription(Array(body.utf8)).transcript()
        #expect(transcript.words.map(\.word) == ["Hi", "there.", "Bye."])
        #expect(transcript.segments.map(\.text) == ["Hi there.", "Bye."])
        #expect(transcript.duration == 3)
        let diarization =
            #"{"task":"diarize","duration":9.5,"num_speakers":2,"backend":"sortformer","segments":[{"speaker":"speaker_0","start":0.2,"end":1.0,"text":"hello"},{"speaker":"speaker_1","start":1.1,"end":2.0}]}"#
        let answer = try UpstreamTranscript.diarization(Array(diarization.utf8)).answer(for: ChunkPlan.Chunk(start: 60, end: 135))
        #expect(answer.labelsByFirstSpeech == ["speaker_0", "speaker_1"])
        #expect(answer.segments[1].text == "")
        #expect(answer.chunk.start == 60)
    }
}
