import Foundation

/// The response formats a transcript can be rendered in, and the rendering.
public enum TranscriptFormat: String, Sendable, CaseIterable {
    case json
    case verboseJSON = "verbose_json"
    case srt
    case vtt
    case rttm
    case text

    /// A rendered transcript and the content type to send it with.
    public struct Rendered: Sendable, Equatable {
        public var body: String
        public var contentType: String
    }

    public var contentType: String {
        switch self {
        case .json, .verboseJSON: "application/json"
        case .srt: "application/x-subrip; charset=utf-8"
        case .vtt: "text/vtt; charset=utf-8"
        case .rttm, .text: "text/plain; charset=utf-8"
        }
    }

    /// `includeWords` adds `words` to `verbose_json` (OpenAI's `timestamp_granularities[]=word`); `recordingID` is
    /// RTTM's file column.
    public func render(_ transcript: Transcript, includeWords: Bool = false, recordingID: String = "audio") -> Rendered {
        let body: String
        switch self {
        case .json: body = Self.string(Self.json(transcript))
        case .verboseJSON: body = Self.string(Self.verboseJSON(transcript, includeWords: includeWords))
        case .srt: body = Self.srt(transcript)
        case .vtt: body = Self.vtt(transcript)
        case .rttm: body = Self.rttm(transcript, recordingID: recordingID)
        case .text: body = Self.text(transcript)
        }
        return Rendered(body: body, contentType: contentType)
    }

    /// A plain transcript: OpenAI's `{"text"}`. A diarized one: `{duration, speakers, segments, text, warnings?}`.
    static func json(_ transcript: Transcript) -> JSONValue {
        guard transcript.isDiarized else { return .object(["text": .string(transcript.text)]) }
        var object: [String: JSONValue] = [
            "duration": .number(milliseconds(transcript.duration)),
            "speakers": .array(transcript.speakers.map(JSONValue.string)),
            "segments": .array(
                transcript.segments.map { segment in
                    var fields: [String: JSONValue] = [
                        "speaker": .optional(segment.speaker), "start": .number(milliseconds(segment.start)),
                        "end": .number(milliseconds(segment.end)), "text": .string(segment.text),
                    ]
                    if let channel = segment.channel { fields["channel"] = .string(channel) }
                    return .object(fields)
                }),
            "text": .string(transcript.text),
        ]
        if !transcript.warnings.isEmpty { object["warnings"] = .array(transcript.warnings.map(JSONValue.string)) }
        return .object(object)
    }

    /// OpenAI's verbose transcription shape; speakers (and channels) ride along on segments and words.
    static func verboseJSON(_ transcript: Transcript, includeWords: Bool) -> JSONValue {
        var object: [String: JSONValue] = [
            "task": .string(transcript.isDiarized ? "diarize" : "transcribe"),
            "language": .string(transcript.language ?? "english"),
            "duration": .number(milliseconds(transcript.duration)),
            "text": .string(transcript.text),
            "segments": .array(
                transcript.segments.enumerated().map { index, segment in
                    var fields: [String: JSONValue] = [
                        "id": .number(Double(index)), "seek": .number(0), "start": .number(milliseconds(segment.start)),
                        "end": .number(milliseconds(segment.end)), "text": .string(segment.text), "tokens": .array([]),
                        "temperature": .number(0), "avg_logprob": .number(0), "compression_ratio": .number(0),
                        "no_speech_prob": .number(0),
                    ]
                    if let speaker = segment.speaker { fields["speaker"] = .string(speaker) }
                    if let channel = segment.channel { fields["channel"] = .string(channel) }
                    return .object(fields)
                }),
        ]
        if includeWords {
            object["words"] = .array(
                transcript.words.map { word in
                    var fields: [String: JSONValue] = [
                        "word": .string(word.word), "start": .number(milliseconds(word.start)),
                        "end": .number(milliseconds(word.end)),
                    ]
                    if let speaker = word.speaker { fields["speaker"] = .string(speaker) }
                    if let channel = word.channel { fields["channel"] = .string(channel) }
                    return .object(fields)
                })
        }
        if transcript.isDiarized { object["speakers"] = .array(transcript.speakers.map(JSONValue.string)) }
        if !transcript.warnings.isEmpty { object["warnings"] = .array(transcript.warnings.map(JSONValue.string)) }
        return .object(object)
    }

    static func srt(_ transcript: Transcript) -> String {
        transcript.segments.enumerated().map { index, segment in
            "\(index + 1)\n\(timestamp(segment.start, separator: ",")) --> \(timestamp(segment.end, separator: ","))\n"
                + (segment.speaker.map { "\($0): " } ?? "") + segment.text + "\n"
        }.joined(separator: "\n")
    }

    // WebVTT's voice span names the speaker in a way players understand.
    static func vtt(_ transcript: Transcript) -> String {
        "WEBVTT\n\n"
            + transcript.segments.map { segment in
                "\(timestamp(segment.start, separator: ".")) --> \(timestamp(segment.end, separator: "."))\n"
                    + (segment.speaker.map { "<v \($0)>" } ?? "") + segment.text + "\n"
            }.joined(separator: "\n")
    }

    // RTTM columns are separated by spaces, so spaces inside a name or file id become underscores.
    static func rttm(_ transcript: Transcript, recordingID: String) -> String {
        let file = fieldSafe(recordingID.isEmpty ? "audio" : recordingID)
        return transcript.segments.map { segment in
            let start = String(format: "%.3f", segment.start)
            let duration = String(format: "%.3f", max(0, segment.end - segment.start))
            return "SPEAKER \(file) 1 \(start) \(duration) <NA> <NA> \(fieldSafe(segment.speaker ?? "speaker_0")) <NA> <NA>\n"
        }.joined()
    }

    static func text(_ transcript: Transcript) -> String {
        guard transcript.isDiarized else { return transcript.text }
        return transcript.segments.map { "\($0.speaker ?? ""): \($0.text)" }.joined(separator: "\n") + "\n"
    }

    /// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (VTT).
    static func timestamp(_ seconds: Double, separator: String) -> String {
        let total = Int((max(0, seconds) * 1000).rounded())
        let hours = total / 3_600_000
        let minutes = total / 60_000 % 60
        let secs = total / 1000 % 60
        let millis = total % 1000
        return String(format: "%02d:%02d:%02d", hours, minutes, secs) + separator + String(format: "%03d", millis)
    }

    static func milliseconds(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }

    static func fieldSafe(_ value: String) -> String {
        String(value.map { $0.isWhitespace ? "_" : $0 })
    }

    static func string(_ value: JSONValue) -> String { String(decoding: value.encoded(), as: UTF8.self) }
}
