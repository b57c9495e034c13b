/// What a terminal would show for one line of a container's log.
///
/// `docker logs` keeps what the program wrote for a terminal: ANSI colour codes (vLLM colours its worker tags), and
/// carriage returns from progress bars (tqdm starts each update with `\r`), which a terminal renders by writing
/// over the line. Pure; the raw line stays available to whoever needs the bytes.
public enum TerminalText {
    /// `line` without escape sequences, and with each carriage return writing over what came before it, as a
    /// terminal would (trailing carriage returns overwrite nothing).
    public static func visible(_ line: String) -> String {
        var shown = ""
        var segment = ""
        var scalars = line.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar {
            case "\u{1B}":
                skipEscape(&scalars)
            case "\r":
                if !segment.isEmpty { shown = overwrite(shown, with: segment) }
                segment = ""
            default:
                segment.unicodeScalars.append(scalar)
            }
        }
        return segment.isEmpty ? shown : overwrite(shown, with: segment)
    }

    /// A terminal writes `segment` from the start of the line: what was longer stays visible past its end.
    private static func overwrite(_ shown: String, with segment: String) -> String {
        guard shown.count > segment.count else { return segment }
        return segment + shown.dropFirst(segment.count)
    }

    /// Skips one escape sequence after ESC: CSI (`ESC [ params final`), OSC (`ESC ] ... BEL` or `ESC \`), or a
    /// two-character one.
    private static func skipEscape(_ scalars: inout String.UnicodeScalarView.Iterator) {
        guard let kind = scalars.next() else { return }
        switch kind {
        case "[":
            // Parameter and intermediate bytes run 0x20-0x3F; the final byte is 0x40-0x7E.
            while let next = scalars.next(), !(0x40...0x7E).contains(next.value) {}
        case "]":
            var previous: Unicode.Scalar = " "
            while let next = scalars.next() {
                if next == "\u{07}" || (previous == "\u{1B}" && next == "\\") { break }
                previous = next
            }
        default:
            break
        }
    }
}
