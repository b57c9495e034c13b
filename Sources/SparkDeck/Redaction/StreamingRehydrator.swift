/// Rehydrates a streamed answer chunk by chunk. It holds back any tail that could still become a placeholder
/// (`<PERS`, `[PERSON_1`, a word that might be `PERSON_1`), so a placeholder split across chunks is never sent in
/// pieces and never sent unfilled.
public struct StreamingRehydrator: Sendable {
    let session: ScrubSession
    private var pending = ""
    /// A held-back tail longer than this cannot be a placeholder any more.
    static let longestPlaceholder = 64

    public init(session: ScrubSession) {
        self.session = session
    }

    /// Takes the next chunk; returns the text that is safe to send now.
    public mutating func feed(_ chunk: String) -> String {
        pending += chunk
        let split = Self.safePrefixEnd(pending)
        let ready = String(pending[..<split])
        pending = String(pending[split...])
        return Rehydrator.rehydrate(ready, session: session).text
    }

    /// The end of the stream: everything left, rehydrated.
    public mutating func finish() -> String {
        defer { pending = "" }
        return Rehydrator.rehydrate(pending, session: session).text
    }

    /// Where the part of `text` that cannot be the start of an unfinished placeholder ends.
    static func safePrefixEnd(_ text: String) -> String.Index {
        var hold = text.endIndex
        // An opening bracket not closed yet.
        if let open = text.lastIndex(where: { "<[{".contains($0) }),
            !text[open...].contains(where: { ">]}".contains($0) }),
            text.distance(from: open, to: text.endIndex) <= longestPlaceholder
        {
            hold = open
        }
        // A trailing word (letters, digits, '_') may still grow into `PERSON_1`.
        var start = text.endIndex
        while start > text.startIndex {
            let previous = text.index(before: start)
            let character = text[previous]
            guard character.isLetter || character.isNumber || character == "_" else { break }
            start = previous
        }
        if start < text.endIndex, text.distance(from: start, to: text.endIndex) <= longestPlaceholder, start < hold {
            hold = start
        }
        return hold
    }
}
