extension PatternScanner {
    /// Whether a legal form (`Inc`, `GmbH`, ...) starts a word within `distance` bytes after `index`; `next` keeps the
    /// next one found, so the text is searched once in all.
    func legalFormWithin(
        _ distance: Int, of index: Int, in bytes: UnsafeBufferPointer<UInt8>, prefixes: [Bool],
        after next: inout Int
    ) -> Bool {
        if next < index {
            next = Int.max
            var position = index + 1
            while position + 1 < bytes.count {
                if prefixes[Int(bytes[position]) << 8 | Int(bytes[position + 1])], !bytes[position - 1].isWord,
                    legalFormEnd(position) != nil
                {
                    next = position
                    break
                }
                position += 1
            }
        }
        return next != Int.max && next - index <= distance
    }

    static let legalForms: [[UInt8]] = [
        "Inc", "LLC", "L.L.C.", "Ltd", "Limited", "GmbH", "Corp", "Corporation", "Company",
        "Co", "AG", "SA", "S.A.", "PLC", "LLP", "BV", "B.V.", "Pty", "KG", "SARL", "SpA",
        "S.p.A.", "NV", "N.V.",
    ].map { Array($0.utf8) }
    /// Which bytes start a legal form.
    static let legalFormInitials: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for form in legalForms { table[Int(form[0])] = true }
        return table
    }()

    /// Which pairs of bytes start a legal form (`In`, `LL`, `Gm`, `S.`, ...), indexed by first << 8 | second.
    static let legalFormPrefixes: [Bool] = {
        var table = [Bool](repeating: false, count: 1 << 16)
        for form in legalForms { table[Int(form[0]) << 8 | Int(form[1])] = true }
        return table
    }()

    /// The end of a legal form at `at` (`Inc`, `GmbH`, `S.p.A.`...), with a full stop after it if there is one.
    func legalFormEnd(_ at: Int) -> Int? {
        guard Self.legalFormInitials[Int(t[at])] else { return nil }
        for bytes in Self.legalForms where bytes[0] == t[at] {
            guard (0..<bytes.count).allSatisfy({ t[at + $0] == bytes[$0] }) else { continue }
            let end = at + bytes.count
            if bytes.last == .dot {
                guard !t[end].isAlnum else { continue }
                return end
            }
            guard !t[end].isWord else { continue }
            return t[end] == .dot ? end + 1 : end
        }
        return nil
    }

    /// One to six capitalised words (commas, "and", "&" between them) and a legal form: `Tanner, Stevens and Young Corp.`
    mutating func organization(startingAt index: Int) -> Int? {
        guard let end = organization(at: index) else { return nil }
        add(.organization, index..<end)
        return end
    }

    func organization(at start: Int) -> Int? {
        var p = start
        var found: Int?
        for _ in 0..<6 {
            guard t[p].isUpper else { break }
            let wordEnd = t.end(from: p + 1) { $0.isWord || $0 == .ampersand || $0 == .apostrophe || $0 == .hyphen }
            // The separator: `,? [ \t]+ (and|&)?` or `[ \t]*&[ \t]*`
            var q = wordEnd
            if t[q] == .comma { q += 1 }
            let blanks = t.end(from: q, while: \.isBlank)
            if blanks > q {
                q = blanks
                if t.matches("and", at: q), t[q + 3].isBlank, t[q] == UInt8(ascii: "a") {
                    q = t.end(from: q + 3, while: \.isBlank)
                } else if t[q] == .ampersand, t[q + 1].isBlank {
                    q = t.end(from: q + 1, while: \.isBlank)
                }
            } else if t[q] == .ampersand {
                q = t.end(from: q + 1, while: \.isBlank)
            } else {
                break
            }
            if let end = legalFormEnd(q) { found = end }
            p = q
        }
        return found
    }
}
