import Foundation

/// Audio in and out of the speech sims: decoding any upload with ffmpeg, WAV and raw PCM written by hand (no ffmpeg
/// needed for those), compressed formats through ffmpeg.
enum SimAudio {
    struct DecodeFailed: Error, CustomStringConvertible {
        var description: String
    }

    /// The upload as 16 kHz mono signed 16-bit samples. ffmpeg reads it from a private temporary file (some
    /// containers need to seek), which is removed at once.
    static func decode(_ file: [UInt8], sampleRate: Int = 16_000) async throws -> [Int16] {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("sparksim-\(UUID().uuidString).audio")
        guard FileManager.default.createFile(atPath: path, contents: Data(file), attributes: [.posixPermissions: 0o600]) else {
            throw DecodeFailed(description: "cannot write a temporary file")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = try await SimSubprocess.run(
            "ffmpeg",
            [
                "-nostdin", "-hide_banner", "-loglevel", "error", "-i", path,
                "-vn", "-ac", "1", "-ar", "\(sampleRate)", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1",
            ])
        guard output.status == 0 else {
            let reason = output.stderr.split(separator: "\n").last.map(String.init) ?? "ffmpeg exited with \(output.status)"
            throw DecodeFailed(description: reason)
        }
        return samples(fromLittleEndian: output.stdout)
    }

    static func samples(fromLittleEndian data: Data) -> [Int16] {
        var samples = [Int16](repeating: 0, count: data.count / 2)
        data.withUnsafeBytes { raw in
            for index in samples.indices {
                samples[index] = Int16(bitPattern: UInt16(raw[2 * index]) | UInt16(raw[2 * index + 1]) << 8)
            }
        }
        return samples
    }

    static func littleEndianBytes(_ samples: [Int16]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: samples.count * 2)
        for (index, sample) in samples.enumerated() {
            let bits = UInt16(bitPattern: sample)
            bytes[2 * index] = UInt8(bits & 0xff)
            bytes[2 * index + 1] = UInt8(bits >> 8)
        }
        return bytes
    }

    /// A RIFF/WAVE header for 16-bit mono; `dataBytes` nil for a stream of unknown length (sizes set to the
    /// maximum, as streaming servers write them).
    static func wavHeader(sampleRate: Int, dataBytes: Int?) -> [UInt8] {
        let size = UInt32(clamping: dataBytes ?? Int(UInt32.max - 36))
        var header: [UInt8] = Array("RIFF".utf8)
        header += le32(size &+ 36) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1)
        header += le32(UInt32(sampleRate)) + le32(UInt32(sampleRate * 2)) + le16(2) + le16(16)
        header += Array("data".utf8) + le32(size)
        return header
    }

    /// The samples of a 16-bit mono WAV file (espeak-ng's output), resampled to `sampleRate`.
    static func samples(fromWAV data: Data, sampleRate: Int) -> [Int16] {
        let bytes = [UInt8](data)
        var offset = 12
        var rate = sampleRate
        while offset + 8 <= bytes.count {
            let id = String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self)
            let size = Int(
                UInt32(bytes[offset + 4]) | UInt32(bytes[offset + 5]) << 8 | UInt32(bytes[offset + 6]) << 16
                    | UInt32(bytes[offset + 7]) << 24)
            if id == "fmt ", offset + 16 <= bytes.count {
                rate = Int(
                    UInt32(bytes[offset + 12]) | UInt32(bytes[offset + 13]) << 8 | UInt32(bytes[offset + 14]) << 16
                        | UInt32(bytes[offset + 15]) << 24)
            }
            if id == "data" {
                // A streamed WAV's data size is a placeholder: take what is there.
                let end = size > 0 && offset + 8 + size <= bytes.count ? offset + 8 + size : bytes.count
                let body = Data(bytes[(offset + 8)..<end])
                return resample(samples(fromLittleEndian: body), from: rate, to: sampleRate)
            }
            offset += 8 + size + (size & 1)
        }
        return []
    }

    /// Linear interpolation: plenty for a simulator's voice.
    static func resample(_ samples: [Int16], from source: Int, to target: Int) -> [Int16] {
        guard source != target, source > 0, !samples.isEmpty else { return samples }
        let count = samples.count * target / source
        let step = Double(source) / Double(target)
        return (0..<count).map { index in
            let position = Double(index) * step
            let left = Int(position)
            let right = min(samples.count - 1, left + 1)
            let fraction = position - Double(left)
            return Int16(clamping: Int((Double(samples[left]) * (1 - fraction) + Double(samples[right]) * fraction).rounded()))
        }
    }

    private static func le32(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }
    private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
}
