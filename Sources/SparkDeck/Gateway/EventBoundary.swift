import NIOCore

/// Where complete server-sent events end in a stream's bytes. The gateway passes an event stream on up to its last
/// complete event and holds a partial one back until its end arrives: a client acts on an event only at its blank
/// line, so nothing reaches it later, and if the upstream breaks mid-event the error event that follows starts on
/// a clean boundary instead of being glued onto half an event. Pure.
enum EventBoundary {
    /// The most of a partial event held back; past it the bytes go on as they are.
    static let longestHeld = 64 * 1024

    /// The index just past the last blank line (`\n\n` or `\r\n\r\n`) in `bytes`, or nil when it has none.
    static func end(in bytes: ByteBufferView) -> ByteBufferView.Index? {
        var index = bytes.endIndex
        while index > bytes.startIndex {
            index = bytes.index(before: index)
            guard bytes[index] == UInt8(ascii: "\n"), index > bytes.startIndex else { continue }
            let before = bytes.index(before: index)
            if bytes[before] == UInt8(ascii: "\n") { return bytes.index(after: index) }
            if bytes[before] == UInt8(ascii: "\r"), before - bytes.startIndex >= 2,
               bytes[before - 1] == UInt8(ascii: "\n"), bytes[before - 2] == UInt8(ascii: "\r") {
                return bytes.index(after: index)
            }
        }
        return nil
    }
}
