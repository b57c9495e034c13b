import Foundation
import Synchronization

/// What ffmpeg made of an upload: signed 16-bit little-endian PCM at 16 kHz (interleaved when stereo), in the
/// job's spool folder.
public struct DecodedAudio: Sendable, Equatable {
    public static let sampleRate = 16_000

    public var path: String
    public var channels: Int
    public var frames: Int

    public var duration: Double { Double(frames) / Double(Self.sampleRate) }
    var bytesPerFrame: Int { 2 * channels }
}

/// Reads uploads with `ffprobe` and decodes them with `ffmpeg`, run as child processes with argument lists (no
/// shell; the only paths given are SparkDeck's own spool files). What they refuse becomes a 400 saying what to fix.
enum AudioDecoder {
    struct Probe: Sendable, Equatable {
        var channels: Int
        /// What the container says, when it says (a WAV's header; an MP3 without one is estimated).
        var duration: Double?
    }

    /// Channels and length of the upload's first audio stream.
    static func probe(_ path: String) async throws -> Probe {
        let run = try await Self.run(
            "ffprobe",
            ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=channels:format=duration", "-of", "json", path])
        struct Answer: Decodable {
            struct Stream: Decodable { var channels: Int? }
            struct Format: Decodable { var duration: String? }
            var streams: [Stream]?
            var format: Format?
        }
        let start = run.output.firstIndex(of: "{") ?? run.output.endIndex
        guard run.status == 0, let answer = try? JSONDecoder().decode(Answer.self, from: Data(run.output[start...].utf8)) else {
            throw unreadable(run.output, path: path)
        }
        guard let channels = answer.streams?.first?.channels, channels > 0 else {
            throw APIError.invalidRequest(
                "The file holds no audio that ffmpeg can read. Send a recording (wav, mp3, m4a, ogg, flac, webm, ...).",
                param: "file")
        }
        return Probe(channels: channels, duration: answer.format?.duration.flatMap(Double.init))
    }

    /// Decodes the first audio stream to 16 kHz PCM with `channels` channels (1 mixes down; 2 keeps left and
    /// right), written to `pcm`. A file whose decoded length falls well short of what its header promises was cut
    /// short, and is refused rather than half transcribed.
    static func decode(_ path: String, to pcm: String, channels: Int, expected: Double?) async throws -> DecodedAudio {
        let run = try await Self.run(
            "ffmpeg",
            [
                "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", path, "-map", "0:a:0", "-ac", "\(channels)", "-ar",
                "\(DecodedAudio.sampleRate)", "-acodec", "pcm_s16le", "-f", "s16le", pcm,
            ])
        let bytes = (try? FileManager.default.attributesOfItem(atPath: pcm)[.size] as? Int) ?? 0
        let decoded = DecodedAudio(path: pcm, channels: channels, frames: bytes / (2 * channels))
        guard run.status == 0, decoded.frames > 0 else { throw unreadable(run.output, path: path) }
        // A WAV header's length is exact; a container's estimate (a VBR MP3's) may be off by a few percent.
        let (promised, share) = WAVFile.promisedDuration(ofFileAt: path).map { ($0, 0.98) } ?? (expected, 0.9)
        if let promised, promised > 1, decoded.duration < promised * share - 0.5 {
            throw APIError.invalidRequest(
                "The file ends early: its header promises \(Self.seconds(promised)) of audio but only \(Self.seconds(decoded.duration)) "
                    + "could be decoded. Upload the whole file again.",
                param: "file")
        }
        return decoded
    }

    /// ffmpeg's first complaint, with the spool path (SparkDeck's, not the client's business) taken out.
    static func unreadable(_ output: String, path: String) -> APIError {
        let reason =
            output.replacingOccurrences(of: path + ": ", with: "").replacingOccurrences(of: path, with: "the file")
            .split(separator: "\n").first.map { ": \($0.prefix(200))" } ?? ""
        return APIError.invalidRequest(
            "ffmpeg could not read the file as audio\(reason). Send a recording (wav, mp3, m4a, ogg, flac, webm, ...).",
            param: "file")
    }

    static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }

    /// Runs a tool found on PATH to its end; its output and error together. A cancelled caller stops it.
    static func run(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        guard let executable = executablePath(tool) else {
            throw APIError(
                .internalServerError, type: "server_error", code: "\(tool)_missing",
                message: "\(tool) is not installed on the SparkDeck host; install ffmpeg (it brings \(tool)) to process audio.")
        }
        let lines = Mutex<[String]>([])
        let process = try await SpawnedProcess.start(
            executable, arguments: arguments,
            output: .lines { line in lines.withLock { if $0.count < 200 { $0.append(line) } } })
        let status = try await withTaskCancellationHandler {
            try await process.waitForExit()
        } onCancel: {
            process.terminate()
        }
        try Task.checkCancellation()
        return (status, lines.withLock { $0.joined(separator: "\n") })
    }

    /// The first executable named `tool` on PATH.
    static func executablePath(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
