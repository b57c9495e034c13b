import Foundation
import NIOCore

/// Cuts WAV clips out of decoded audio: the spans of a chunk, joined in order (a bridge window is several spans),
/// from one channel. Reads only the bytes a clip needs.
struct AudioClips: Sendable {
    let audio: DecodedAudio

    /// One channel of a stereo recording; nil takes a mono recording as it is.
    enum Channel: Int, Sendable {
        case left = 0
        case right = 1
    }

    func wav(for chunk: ChunkPlan.Chunk, channel: Channel? = nil) throws -> ByteBuffer {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: audio.path))
        defer { try? handle.close() }
        var samples: [UInt8] = []
        for span in chunk.spans {
            let first = max(0, min(audio.frames, Int((span.lowerBound * Double(DecodedAudio.sampleRate)).rounded())))
            let last = max(first, min(audio.frames, Int((span.upperBound * Double(DecodedAudio.sampleRate)).rounded())))
            try handle.seek(toOffset: UInt64(first * audio.bytesPerFrame))
            let bytes = try handle.read(upToCount: (last - first) * audio.bytesPerFrame) ?? Data()
            samples += Self.select(bytes, channels: audio.channels, channel: channel)
        }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(44 + samples.count)
        buffer.writeBytes(WAVFile.header(sampleRate: DecodedAudio.sampleRate, dataBytes: samples.count))
        buffer.writeBytes(samples)
        return buffer
    }

    /// Levels of both channels of a stereo recording, read through in pieces.
    func levels() throws -> ChannelLevels {
        var meter = ChannelLevelMeter(sampleRate: DecodedAudio.sampleRate)
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: audio.path))
        defer { try? handle.close() }
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { meter.add(piece) }
        return meter.finish()
    }

    /// The samples of one channel out of interleaved 16-bit frames (all of them when mono).
    static func select(_ bytes: Data, channels: Int, channel: Channel?) -> [UInt8] {
        guard channels > 1, let channel else { return Array(bytes) }
        let frame = 2 * channels
        var out = [UInt8](repeating: 0, count: bytes.count / frame * 2)
        bytes.withUnsafeBytes { raw in
            var index = 0
            var offset = channel.rawValue * 2
            while offset + 1 < raw.count {
                out[index] = raw[offset]
                out[index + 1] = raw[offset + 1]
                index += 2
                offset += frame
            }
        }
        return out
    }
}
