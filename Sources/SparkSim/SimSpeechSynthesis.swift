import Foundation

/// The TTS sim's voice: each sentence spoken by espeak-ng at a pitch that follows the Kokoro voice asked for, or,
/// where espeak-ng is not installed, a tone per word at that pitch (still words and a speaker to the ASR sim).
/// Output: 16-bit mono samples at 24 kHz, Kokoro's rate.
enum SimSpeechSynthesis {
    static let sampleRate = 24_000

    /// A voice or a mix (`af_bella(2)+af_sky(1)`), reduced to what the synthesiser needs.
    struct Voice: Sendable, Equatable {
        /// espeak-ng's pitch setting, 0-99.
        var pitch: Int
        var language: String

        /// Tone frequency for the same pitch setting, close to espeak-ng's own voice (p10 ~ 73 Hz, p99 ~ 174 Hz).
        var toneHertz: Double { 65 + Double(pitch) * 1.1 }
    }

    /// Parses a voice expression; nil names the first part that is not a known voice.
    static func voice(_ expression: String, known: [String]) -> Result<Voice, VoiceError> {
        var parts: [(name: String, weight: Double)] = []
        for piece in expression.split(separator: "+") {
            var name = piece.trimmingCharacters(in: .whitespaces)
            var weight = 1.0
            if name.hasSuffix(")"), let open = name.firstIndex(of: "(") {
                guard let value = Double(name[name.index(after: open)..<name.index(before: name.endIndex)]), value > 0 else {
                    return .failure(VoiceError(name: name))
                }
                weight = value
                name = String(name[..<open])
            }
            guard known.contains(name) else { return .failure(VoiceError(name: name)) }
            parts.append((name, weight))
        }
        guard !parts.isEmpty else { return .failure(VoiceError(name: expression)) }
        let total = parts.reduce(0) { $0 + $1.weight }
        let pitch = parts.reduce(0.0) { $0 + Double(basePitch($1.name)) * $1.weight } / total
        let language = parts.max { $0.weight < $1.weight }!.name.hasPrefix("b") ? "en-gb" : "en-us"
        return .success(Voice(pitch: Int(pitch.rounded()), language: language))
    }

    struct VoiceError: Error {
        var name: String
    }

    /// Kokoro's naming: second letter f (female) or m (male); each voice gets its own pitch in its range.
    static func basePitch(_ name: String) -> Int {
        let female = name.dropFirst().first == "f"
        let offset = Int(name.utf8.reduce(UInt32(7)) { ($0 &* 31) &+ UInt32($1) } % 21)
        return (female ? 60 : 10) + offset
    }

    static func sentences(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            current.append(character)
            let ends = ".!?;\n".contains(character)
            let next = index + 1 < characters.count ? characters[index + 1] : " "
            if ends && (next.isWhitespace || index + 1 == characters.count) {
                let sentence = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !sentence.isEmpty { result.append(sentence) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { result.append(rest) }
        return result
    }

    static var espeakAvailable: Bool { SimSubprocess.find("espeak-ng") != nil }

    /// One sentence as samples. The text reaches espeak-ng on its standard input, never as an argument.
    static func speak(_ sentence: String, voice: Voice, speed: Double, useEspeak: Bool) async -> [Int16] {
        if useEspeak {
            let wordsPerMinute = Int(min(450, max(80, 175 * speed)).rounded())
            if let output = try? await SimSubprocess.run(
                "espeak-ng",
                [
                    "-v", voice.language, "-p", "\(voice.pitch)", "-s", "\(wordsPerMinute)", "-g", "8", "-b", "1",
                    "--stdout", "--stdin",
                ], input: Data(sentence.utf8)), output.status == 0
            {
                let samples = SimAudio.samples(fromWAV: output.stdout, sampleRate: sampleRate)
                if !samples.isEmpty { return samples + [Int16](repeating: 0, count: sampleRate / 5) }
            }
        }
        return tones(sentence, voice: voice, speed: speed)
    }

    /// A tone per word, as long as the word is, at the voice's pitch with two harmonics, then a pause.
    static func tones(_ sentence: String, voice: Voice, speed: Double) -> [Int16] {
        var samples: [Int16] = []
        let rate = Double(sampleRate)
        for word in sentence.split(whereSeparator: { $0.isWhitespace }) {
            let seconds = (0.12 + 0.05 * Double(word.count)) / max(0.25, speed)
            let count = Int(seconds * rate)
            for index in 0..<count {
                let t = Double(index) / rate
                let envelope = min(1, min(t, seconds - t) / 0.02)
                let phase = 2 * Double.pi * voice.toneHertz * t
                let value = 0.3 * envelope * (sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase))
                samples.append(Int16(clamping: Int(value * 32767 / 1.75)))
            }
            samples += [Int16](repeating: 0, count: Int(0.12 / max(0.25, speed) * rate))
        }
        return samples + [Int16](repeating: 0, count: sampleRate / 5)
    }
}
