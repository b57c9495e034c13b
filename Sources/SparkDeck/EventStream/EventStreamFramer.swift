import NIOCore

/// Passes an event stream on in whole events, wherever the network chunks end: the bytes of an event that is not
/// complete yet are held until its end arrives, so a stream that breaks off never leaves half an event in front of
/// the error event that follows it. Bytes pass through unchanged (a slice of the chunk when nothing is held). Pure.
public struct EventStreamFramer: Sendable {
    /// The most of a partial event held back: an upstream that never writes a blank line still streams past it.
    public static let longestHeld = 64 * 1024

    private var scanner = EventStreamScanner()
    private var held = ByteBuffer()
    /// An event ended with a CR just before the end of what was scanned: a following LF belongs to it.
    private var endedOnCR = false

    public init() {}

    /// The bytes to send for `chunk`: every complete event so far (with what was held before it), or nil while none
    /// is complete.
    public mutating func feed(_ chunk: ByteBuffer) -> ByteBuffer? {
        var lastEnd: Int?
        var scanner = self.scanner
        var endedOnCR = self.endedOnCR
        chunk.withUnsafeReadableBytes { bytes in
            for index in bytes.indices {
                let byte = bytes[index]
                if endedOnCR {
                    endedOnCR = false
                    if byte == UInt8(ascii: "\n") {
                        _ = scanner.step(byte)
                        lastEnd = index + 1
                        continue
                    }
                }
                if case .lineEnd(endsEvent: true) = scanner.step(byte) {
                    lastEnd = index + 1
                    endedOnCR = byte == UInt8(ascii: "\r")
                }
            }
        }
        self.scanner = scanner
        self.endedOnCR = endedOnCR
        guard let lastEnd else {
            if held.readableBytes + chunk.readableBytes > Self.longestHeld {
                return take(appending: chunk)
            }
            hold(chunk)
            return nil
        }
        let complete = chunk.getSlice(at: chunk.readerIndex, length: lastEnd) ?? chunk
        let output = take(appending: complete)
        if lastEnd < chunk.readableBytes, let rest = chunk.getSlice(at: chunk.readerIndex + lastEnd, length: chunk.readableBytes - lastEnd)
        {
            hold(rest)
        }
        return output
    }

    /// The end of the stream: what is held (an event without its blank line), if anything.
    public mutating func finish() -> ByteBuffer? {
        held.readableBytes > 0 ? take(appending: ByteBuffer()) : nil
    }

    private mutating func hold(_ bytes: ByteBuffer) {
        if held.readableBytes == 0 {
            held = bytes
        } else {
            var bytes = bytes
            held.writeBuffer(&bytes)
        }
    }

    private mutating func take(appending bytes: ByteBuffer) -> ByteBuffer {
        guard held.readableBytes > 0 else { return bytes }
        var output = held
        var bytes = bytes
        output.writeBuffer(&bytes)
        held = ByteBuffer()
        return output
    }
}
