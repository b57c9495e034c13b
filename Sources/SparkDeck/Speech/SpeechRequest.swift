import Foundation

/// `POST /v1/audio/speech`, as OpenAI defines it and Kokoro serves it, checked before anything is sent.
struct SpeechRequest: Codable, Sendable, Equatable {
    static let formats = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
    static let speeds = 0.25...4.0
    /// Longer text is split by the caller into several requests; Kokoro speaks a sentence at a time anyway.
    static let longestInput = 10_000

    var model: String
    var input: String
    var voice: String
    var responseFormat: String?
    var speed: Double?
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, input, voice, speed, stream
        case responseFormat = "response_format"
    }

    /// The request as the upstream gets it (defaults filled in), or a 400 that says what to fix.
    func validated(voices: VoiceCatalog?) throws -> SpeechRequest {
        var checked = self
        guard !model.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw APIError.invalidRequest("`model` must name the TTS model, e.g. `kokoro` or `tts-1`.", param: "model")
        }
        guard !input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError.invalidRequest("`input` is empty: give the text to speak.", param: "input")
        }
        guard input.count <= Self.longestInput else {
            throw APIError.invalidRequest(
                "`input` is \(input.count) characters; at most \(Self.longestInput) per request (split longer text).",
                param: "input")
        }
        let format = responseFormat ?? "mp3"
        guard Self.formats.contains(format) else {
            throw APIError.invalidRequest(
                "`response_format` must be one of \(Self.formats.joined(separator: ", ")), got `\(format)`.",
                param: "response_format")
        }
        checked.responseFormat = format
        let speed = self.speed ?? 1.0
        guard Self.speeds.contains(speed) else {
            throw APIError.invalidRequest("`speed` must be from 0.25 to 4.0, got \(speed).", param: "speed")
        }
        checked.speed = speed
        if let voices {
            let unknown = VoiceCatalog.components(of: voice).filter { !voices.contains($0) }
            guard unknown.isEmpty else {
                throw APIError.invalidRequest(
                    "Unknown voice \(unknown.map { "`\($0)`" }.joined(separator: ", ")); this TTS has \(voices.ids.joined(separator: ", ")). A mix is written `af_bella(2)+af_sky(1)`.",
                    param: "voice")
            }
        }
        return checked
    }
}

/// The voices a TTS service offers, read from either shape Kokoro has answered `/v1/audio/voices` with:
/// `{"voices":[{"id","name"}]}` or `{"voices":["af_bella",...]}`. Pure.
struct VoiceCatalog: Sendable, Equatable {
    struct Voice: Codable, Sendable, Equatable {
        var id: String
        var name: String
    }

    var voices: [Voice]

    var ids: [String] { voices.map(\.id) }

    func contains(_ id: String) -> Bool { voices.contains { $0.id == id } }

    /// The answer SparkDeck gives, whatever the upstream's version.
    var json: JSONValue {
        .object(["voices": .array(voices.map { .object(["id": .string($0.id), "name": .string($0.name)]) })])
    }

    init(voices: [Voice]) {
        self.voices = voices
    }

    /// Nil when the bytes are neither shape.
    init?(upstreamAnswer data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let list = object["voices"] as? [Any]
        else { return nil }
        var voices: [Voice] = []
        for entry in list {
            if let id = entry as? String {
                voices.append(Voice(id: id, name: id))
            } else if let entry = entry as? [String: Any], let id = entry["id"] as? String ?? entry["name"] as? String {
                voices.append(Voice(id: id, name: entry["name"] as? String ?? id))
            } else {
                return nil
            }
        }
        self.voices = voices
    }

    /// The voices a mix names: `af_bella(2)+af_sky(1)` -> `af_bella`, `af_sky`.
    static func components(of voice: String) -> [String] {
        voice.split(separator: "+").map { part in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasSuffix(")"), let open = trimmed.lastIndex(of: "("),
                Double(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)]) != nil
            else { return trimmed }
            return String(trimmed[..<open])
        }
    }
}
