extension PatternScanner {
    static func isEmailLocal(_ b: UInt8) -> Bool {
        b.isAlnum || b == .dot || b == .underscore || b == .percent || b == .plus || b == .hyphen
    }
    static func isDomain(_ b: UInt8) -> Bool { b.isAlnum || b == .hyphen }

    /// The end of the letters, ASCII or not, that start at `index`.
    func lettersEnd(from index: Int) -> Int {
        var end = index
        while true {
            if t[end].isAlpha {
                end += 1
                continue
            }
            let length = t.nonASCIILetterLength(at: end)
            guard length > 0 else { return end }
            end += length
        }
    }

    /// The end of a domain label: ASCII letters, digits and hyphens, and letters of any script (`müller.de`).
    func domainLabelEnd(from index: Int) -> Int {
        var end = index
        while true {
            if Self.isDomain(t[end]) {
                end += 1
                continue
            }
            let length = t.nonASCIILetterLength(at: end)
            guard length > 0 else { return end }
            end += length
        }
    }

    /// `local@label(.label)*.tld`, the TLD two or more letters; the local part and the labels may hold letters of
    /// any script (`josé@example.com`, `info@müller.de`).
    mutating func email(at sign: Int, after cursor: Int) -> Int? {
        var start = sign
        while start > cursor {
            if Self.isEmailLocal(t[start - 1]) {
                start -= 1
                continue
            }
            let lead = t.scalarStart(before: start)
            guard lead >= cursor, t.nonASCIILetterLength(at: lead) == start - lead else { break }
            start = lead
        }
        guard start < sign else { return nil }
        // Labels after the @; the address ends after the last label whose letters make a TLD.
        var position = sign + 1
        var end: Int?
        var labels = 0
        while true {
            let labelEnd = domainLabelEnd(from: position)
            guard labelEnd > position else { break }
            if labels > 0 {
                let letters = lettersEnd(from: position) - position
                if letters >= 2 { end = position + letters }
            }
            labels += 1
            guard t[labelEnd] == .dot else { break }
            position = labelEnd + 1
        }
        guard let end else { return nil }
        add(.email, start..<end)
        return end
    }
}
