import Foundation

/// What a diarization or long transcription was asked to do: the form's fields, checked, in the form a job stores
/// and a restart resumes from.
public struct AudioJobRequest: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case diarization, transcription
    }

    public enum ChannelMode: String, Sendable, Codable, CaseIterable {
        case mono, dual
    }

    public var kind: Kind
    public var responseFormat: String
    public var channelMode: ChannelMode = .mono
    /// The label of the local microphone's speaker in a dual-channel call.
    public var localSpeaker: String = "local"
    public var maxSpeakers: Int?
    public var speakerNames: [String] = []
    public var chunkSeconds: Double?
    public var overlapSeconds: Double?
    public var language: String?
    /// The `model` field as the client sent it, passed on to the ASR.
    public var model: String?
    /// `verbose_json` lists words (always for a diarization; for a transcription when
    /// `timestamp_granularities[]` holds `word`).
    public var words: Bool = false
    public var fileName: String = "audio"

    public var format: TranscriptFormat { TranscriptFormat(rawValue: responseFormat) ?? .json }

    static let diarizationFormats: [TranscriptFormat] = [.json, .verboseJSON, .srt, .vtt, .rttm]
    static let transcriptionFormats: [TranscriptFormat] = [.json, .verboseJSON, .text, .srt, .vtt]
    static let maxNames = 32
    static let longestName = 64

    /// Reads and checks the form's text fields; every refusal names its field.
    public static func parse(_ kind: Kind, fields: [String: [String]], fileName: String?) throws -> AudioJobRequest {
        func field(_ name: String) -> String? {
            fields[name]?.last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let formats = kind == .diarization ? diarizationFormats : transcriptionFormats
        let format = field("response_format") ?? "json"
        guard let parsed = TranscriptFormat(rawValue: format), formats.contains(parsed) else {
            throw APIError.invalidRequest(
                "response_format must be one of \(formats.map(\.rawValue).joined(separator: ", ")); got '\(format.prefix(40))'.",
                param: "response_format")
        }
        var request = AudioJobRequest(kind: kind, responseFormat: parsed.rawValue)
        request.fileName = fileName.map { String($0.prefix(200)) } ?? "audio"
        request.model = field("model").map { String($0.prefix(200)) }
        request.language = try field("language").map { language in
            guard language.count <= 16, language.allSatisfy({ $0.isLetter || $0 == "-" || $0 == "_" }) else {
                throw APIError.invalidRequest("language must be a language code such as 'en' or 'de'.", param: "language")
            }
            return language
        }
        let granularities = (fields["timestamp_granularities[]"] ?? []) + (fields["timestamp_granularities"] ?? [])
        request.words = kind == .diarization || granularities.contains("word")
        guard kind == .diarization else {
            try request.checkChunking(chunk: field("chunk_seconds"), overlap: field("overlap_seconds"))
            return request
        }
        if let mode = field("channel_mode") {
            guard let parsedMode = ChannelMode(rawValue: mode.lowercased()) else {
                throw APIError.invalidRequest("channel_mode must be 'mono' or 'dual'; got '\(mode.prefix(40))'.", param: "channel_mode")
            }
            request.channelMode = parsedMode
        }
        if let local = field("local_speaker") {
            guard local.count <= longestName else {
                throw APIError.invalidRequest("local_speaker must be at most \(longestName) characters.", param: "local_speaker")
            }
            request.localSpeaker = local
        }
        if let text = field("max_speakers") {
            guard let count = Int(text), (1...maxNames).contains(count) else {
                throw APIError.invalidRequest(
                    "max_speakers must be a whole number from 1 to \(maxNames); got '\(text.prefix(40))'.", param: "max_speakers")
            }
            request.maxSpeakers = count
        }
        if let names = field("speaker_names") {
            let list = names.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard list.count <= maxNames, list.allSatisfy({ !$0.isEmpty && $0.count <= longestName }) else {
                throw APIError.invalidRequest(
                    "speaker_names must be a comma-separated list of at most \(maxNames) names of 1-\(longestName) characters.",
                    param: "speaker_names")
            }
            guard Set(list).count == list.count else {
                throw APIError.invalidRequest("speaker_names lists a name twice.", param: "speaker_names")
            }
            request.speakerNames = list
        }
        try request.checkChunking(chunk: field("chunk_seconds"), overlap: field("overlap_seconds"))
        return request
    }

    mutating func checkChunking(chunk: String?, overlap: String?) throws {
        func number(_ text: String?, _ name: String) throws -> Double? {
            guard let text else { return nil }
            guard let value = Double(text), value.isFinite else {
                throw APIError.invalidRequest("\(name) must be a number of seconds; got '\(text.prefix(40))'.", param: name)
            }
            return value
        }
        chunkSeconds = try number(chunk, "chunk_seconds")
        overlapSeconds = try number(overlap, "overlap_seconds")
        do {
            _ = try kind == .diarization ? plan() : Self.transcriptionPlan(chunkSeconds: chunkSeconds, overlapSeconds: overlapSeconds)
        } catch {
            throw APIError.invalidRequest(error.message, param: error.parameter)
        }
    }

    /// The chunking a diarization uses: the request's, or the defaults for a diarizer trained on ~90 s sessions.
    func plan() throws(ChunkPlan.Invalid) -> ChunkPlan {
        try ChunkPlan(chunkSeconds: chunkSeconds, overlapSeconds: overlapSeconds)
    }

    /// The pieces a long transcription is cut into: long ones (the ASR transcribes long audio well; only its
    /// upload limit and the wish for progress call for pieces), overlapping a little so no word is cut in two.
    static func transcriptionPlan(chunkSeconds: Double? = nil, overlapSeconds: Double? = nil) throws(ChunkPlan.Invalid) -> ChunkPlan {
        try ChunkPlan(chunkSeconds: chunkSeconds ?? 600, overlapSeconds: overlapSeconds ?? 10)
    }

    /// Whether a form field asks for a job (`async=true`) rather than an answer in the same call.
    static func wantsJob(_ fields: [String: [String]]) throws -> Bool {
        guard let text = fields["async"]?.last?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no", "": return false
        default: throw APIError.invalidRequest("async must be true or false; got '\(text.prefix(40))'.", param: "async")
        }
    }
}
