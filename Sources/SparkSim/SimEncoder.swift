import Foundation

/// One ffmpeg process encoding 24 kHz mono PCM, written in pieces, into a compressed stream read as it is produced,
/// so a streamed TTS answer is one valid file that arrives sentence by sentence.
final class SimEncoder: @unchecked Sendable {
    static let arguments: [String: [String]] = [
        "mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
        "opus": ["-c:a", "libopus", "-b:a", "32k", "-f", "ogg"],
        "aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
        "flac": ["-c:a", "flac", "-f", "flac"],
    ]

    let output: AsyncStream<[UInt8]>
    private let process = Process()
    private let stdin = Pipe()
    private let writes = DispatchQueue(label: "sparksim.encoder.stdin")

    init(format: String, sampleRate: Int) throws {
        guard let codec = Self.arguments[format] else { throw SimSubprocess.NotFound(tool: "an encoder for \(format)") }
        guard let ffmpeg = SimSubprocess.find("ffmpeg") else { throw SimSubprocess.NotFound(tool: "ffmpeg") }
        process.executableURL = URL(fileURLWithPath: ffmpeg)
        process.arguments =
            [
                "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", "\(sampleRate)",
                "-ac", "1", "-i", "pipe:0",
            ] + codec + ["-flush_packets", "1", "pipe:1"]
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        var continuation: AsyncStream<[UInt8]>.Continuation!
        output = AsyncStream { continuation = $0 }
        try process.run()
        let sink = continuation!
        let reader = stdout.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                if data.isEmpty { break }
                sink.yield([UInt8](data))
            }
            sink.finish()
        }
    }

    /// Queues `samples` for the encoder; returns once they are written to its input.
    func write(_ samples: [Int16]) async {
        let bytes = Data(SimAudio.littleEndianBytes(samples))
        let handle = stdin.fileHandleForWriting
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writes.async {
                try? handle.write(contentsOf: bytes)
                done.resume()
            }
        }
    }

    /// Ends the input; the output stream ends when ffmpeg has flushed the rest.
    func finish() {
        let handle = stdin.fileHandleForWriting
        writes.async { try? handle.close() }
    }

    /// Stops ffmpeg early (the client went away).
    func cancel() {
        finish()
        if process.isRunning { process.terminate() }
    }
}
