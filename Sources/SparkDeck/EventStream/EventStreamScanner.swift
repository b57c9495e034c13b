/// The byte-level grammar of a `text/event-stream`, one byte at a time: a line ends with LF, CRLF or CR, and an
/// empty line ends an event. Pure; the one place SparkDeck decides where lines and events end, for the framer that
/// relays streams and the splitter that reads them.
public struct EventStreamScanner: Sendable {
    /// What one byte is.
    public enum Step: Equatable, Sendable {
        /// A byte of the current line.
        case content
        /// The end of a line; `endsEvent` when the line was empty.
        case lineEnd(endsEvent: Bool)
        /// The LF of a CRLF: its CR already ended the line.
        case none
    }

    private var afterCR = false
    private var lineIsEmpty = true

    public init() {}

    public mutating func step(_ byte: UInt8) -> Step {
        switch byte {
        case UInt8(ascii: "\n"):
            if afterCR {
                afterCR = false
                return .none
            }
            return endLine()
        case UInt8(ascii: "\r"):
            let step = endLine()
            afterCR = true
            return step
        default:
            afterCR = false
            lineIsEmpty = false
            return .content
        }
    }

    private mutating func endLine() -> Step {
        afterCR = false
        defer { lineIsEmpty = true }
        return .lineEnd(endsEvent: lineIsEmpty)
    }
}
