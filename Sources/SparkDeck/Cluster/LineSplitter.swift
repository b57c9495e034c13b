/// Cuts a byte stream into lines: at `\n`, without a `\r` just before it, and at `maxLineBytes` when a line runs
/// longer (a program that never ends its line must not grow memory without bound). Pure.
public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    private var pending: [UInt8] = []

    public init(maxLineBytes: Int = 64 * 1024) {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
    }

    /// The lines `bytes` completes.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [String] {
        var lines: [String] = []
        for byte in bytes {
            if byte == 10 {
                lines.append(Self.text(pending.last == 13 ? pending.dropLast() : pending[...]))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
                if pending.count >= maxLineBytes {
                    lines.append(Self.text(pending[...]))
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }
        return lines
    }

    /// What is left when the stream ends: a last line without its `\n`, if any.
    public mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : Self.text(pending[...])
    }

    // A cut can fall inside a UTF-8 sequence; decoding repairs it with U+FFFD rather than failing.
    private static func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
}
