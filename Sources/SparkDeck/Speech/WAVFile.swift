import Foundation

/// A canonical PCM WAV header: 16-bit little-endian samples, the form SparkDeck sends audio clips to the ASR in; and
/// what a received WAV's header promises, to tell a file cut short (ffmpeg decodes what is there without a word).
enum WAVFile {
    /// The seconds of audio a PCM WAV file's header promises; nil for anything else, or a header that leaves its
    /// length open. Streaming servers write that in several ways: a size of 0, 0xFFFFFFFF, or the data size that
    /// makes the RIFF size 0xFFFFFFFF (0xFFFFFFFF - 36, as Kokoro-style streams do).
    static func promisedDuration(ofFileAt path: String) -> Double? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4096) else { return nil }
        return promisedDuration(header: Array(head))
    }

    static func promisedDuration(header bytes: [UInt8]) -> Double? {
        func text(_ at: Int) -> String { String(decoding: bytes[at..<at + 4], as: UTF8.self) }
        func uint32(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24 }
        guard bytes.count >= 12, text(0) == "RIFF", text(8) == "WAVE" else { return nil }
        // No real file is within 64 KiB of 4 GiB: such a size is a placeholder.
        func isOpen(_ size: Int) -> Bool { size == 0 || size >= 0xFFFF_FFFF - 65_536 }
        guard !isOpen(uint32(4)) else { return nil }
        var offset = 12
        var byteRate: Int?
        while offset + 8 <= bytes.count {
            let size = uint32(offset + 4)
            switch text(offset) {
            case "fmt " where offset + 20 <= bytes.count: byteRate = uint32(offset + 16)
            case "data":
                guard let byteRate, byteRate > 0, !isOpen(size) else { return nil }
                return Double(size) / Double(byteRate)
            default: break
            }
            offset += 8 + size + (size & 1)
        }
        return nil
    }

    static func header(sampleRate: Int, channels: Int = 1, dataBytes: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(44)
        func append(_ text: String) { bytes += Array(text.utf8) }
        func append32(_ value: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian) { bytes += $0 } }
        func append16(_ value: Int) { withUnsafeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian) { bytes += $0 } }
        append("RIFF")
        append32(36 + dataBytes)
        append("WAVE")
        append("fmt ")
        append32(16)
        append16(1)
        append16(channels)
        append32(sampleRate)
        append32(sampleRate * channels * 2)
        append16(channels * 2)
        append16(16)
        append("data")
        append32(dataBytes)
        return bytes
    }
}
