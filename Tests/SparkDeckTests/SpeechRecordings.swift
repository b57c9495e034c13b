import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import SparkDeck
@testable import SparkSim

/// Recordings made in the tests with espeak-ng voices at known pitches, with known speakers and times, and the HTTP
/// plumbing to send them to the speech sims.
enum SpeechRecordings {
    static let sampleRate = 16_000

    /// One spoken turn of a generated recording, as it was made.
    struct Turn {
        var speaker: String
        var start: Double
        var end: Double
        var words: Int
    }

    /// `text` spoken by espeak-ng at `pitch` (0-99) with clear gaps between words, as 16 kHz samples; `voice` picks
    /// another espeak-ng voice or variant (`en+f4`: a higher, female one).
    static func espeak(_ text: String, pitch: Int, voice: String? = nil) async throws -> [Int16] {
        let output = try await SimSubprocess.run(
            "espeak-ng", (voice.map { ["-v", $0] } ?? []) + ["-p", "\(pitch)", "-g", "20", "-s", "160", "--stdout", "--stdin"],
            input: Data(text.utf8))
        try #require(output.status == 0, "espeak-ng failed: \(output.stderr)")
        return SimAudio.samples(fromWAV: output.stdout, sampleRate: sampleRate)
    }

    /// The turns spoken one after another with `gap` seconds of silence between; each turn's times are where its
    /// samples rise above silence, measured on the samples themselves.
    static func conversation(
        _ turns: [(speaker: String, pitch: Int, text: String)], gap: Double = 0.7, voices: [String: String] = [:]
    ) async throws
        -> (samples: [Int16], turns: [Turn])
    {
        var samples = [Int16](repeating: 0, count: Int(0.3 * Double(sampleRate)))
        var made: [Turn] = []
        var rendered: [String: [Int16]] = [:]
        for turn in turns {
            let key = "\(turn.pitch)|\(turn.text)"
            let speech: [Int16]
            if let cached = rendered[key] {
                speech = cached
            } else {
                speech = try await espeak(turn.text, pitch: turn.pitch, voice: voices[turn.speaker])
                rendered[key] = speech
            }
            let loud = speech.indices.filter { abs(Int(speech[$0])) > 600 }
            let first = loud.first ?? 0
            let last = loud.last ?? 0
            let offset = samples.count
            made.append(
                Turn(
                    speaker: turn.speaker, start: Double(offset + first) / Double(sampleRate),
                    end: Double(offset + last) / Double(sampleRate),
                    words: turn.text.split(separator: " ").count))
            samples += speech.prefix(last + 1)
            samples += [Int16](repeating: 0, count: Int(gap * Double(sampleRate)))
        }
        return (samples, made)
    }

    static func wav(_ samples: [Int16], sampleRate: Int = sampleRate) -> [UInt8] {
        SimAudio.wavHeader(sampleRate: sampleRate, dataBytes: samples.count * 2) + SimAudio.littleEndianBytes(samples)
    }

    /// A `multipart/form-data` body with `fields` and, when given, the file part.
    static func form(_ fields: [(String, String)], file: [UInt8]?, filename: String = "audio.wav") -> (body: [UInt8], contentType: String) {
        let boundary = "sparkdeck-test-\(UUID().uuidString)"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        if let file {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += file + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    struct Answer {
        var status: UInt
        var headers: [(String, String)]
        var body: [UInt8]
        /// The body in the pieces it arrived in.
        var pieces: Int
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func json() throws -> [String: Any] {
            try #require(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text.prefix(300))")
        }
    }

    /// A client that waits as long as each call's own timeout allows.
    static let patientClient = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(1800))))

    static func send(
        port: Int, _ path: String, method: HTTPMethod = .POST, body: [UInt8]? = nil,
        contentType: String? = nil, timeout: TimeAmount = .seconds(60), key: String? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // The shared client gives up on a read after a minute of silence; a synchronous diarization may think longer.
        let response = try await (timeout > .seconds(60) ? patientClient : HTTPClient.shared).execute(request, timeout: timeout)
        var bytes: [UInt8] = []
        var pieces = 0
        for try await piece in response.body {
            bytes += Array(buffer: piece)
            pieces += 1
        }
        return Answer(status: response.status.code, headers: response.headers.map { ($0.name, $0.value) }, body: bytes, pieces: pieces)
    }

    static func upload(
        port: Int, _ path: String, _ fields: [(String, String)], file: [UInt8]?,
        filename: String = "audio.wav", key: String? = nil
    ) async throws -> Answer {
        let form = form(fields, file: file, filename: filename)
        return try await send(port: port, path, body: form.body, contentType: form.contentType, key: key)
    }

    /// Starts a sim and waits until `readyPath` answers 200.
    static func start(_ arguments: [String], readyPath: String = "/health") async throws -> (SpawnedProcess, Int) {
        let port = try FreePort.find(count: 1)[0]
        let log = try TestSupport.temporaryDirectory() + "/\(arguments[0]).log"
        let sim = try await TestSupport.startSim(arguments + ["--port", "\(port)"], log: log)
        let ready = await TestSupport.eventually(timeout: .seconds(20)) {
            guard let answer = try? await send(port: port, readyPath, method: .GET, timeout: .seconds(2)) else { return false }
            return answer.status == 200 && !answer.text.contains("\"loading\"")
        }
        if !ready { sim.signal(SIGKILL) }
        try #require(ready, "the \(arguments[0]) sim never became ready")
        return (sim, port)
    }

    /// The label most of each turn's time carries among `segments` (dictionaries with speaker/start/end).
    static func labels(of turns: [Turn], in segments: [[String: Any]]) -> [String?] {
        turns.map { turn in
            var time: [String: Double] = [:]
            for segment in segments {
                guard let speaker = segment["speaker"] as? String, let start = segment["start"] as? Double,
                    let end = segment["end"] as? Double
                else { continue }
                time[speaker, default: 0] += max(0, min(end, turn.end) - max(start, turn.start))
            }
            return time.filter { $0.value > 0 }.max { $0.value < $1.value }?.key
        }
    }

    /// ffprobe's codec name for an audio file, and its length as ffmpeg decodes it.
    static func probe(_ bytes: [UInt8]) async throws -> (codec: String, duration: Double) {
        let path = try TestSupport.temporaryDirectory() + "/probe.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let output = try await SimSubprocess.run(
            "ffprobe",
            [
                "-v", "error", "-show_entries", "stream=codec_name",
                "-of", "default=noprint_wrappers=1", path,
            ])
        let lines = String(decoding: output.stdout, as: UTF8.self).split(separator: "\n")
        let codec = lines.first { $0.hasPrefix("codec_name=") }.map { String($0.dropFirst(11)) } ?? ""
        let samples = try await SimAudio.decode(bytes)
        return (codec, Double(samples.count) / Double(sampleRate))
    }
}
