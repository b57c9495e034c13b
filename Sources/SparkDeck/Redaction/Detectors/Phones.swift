extension PatternScanner {
    static func isPhoneSeparator(_ b: UInt8) -> Bool { b.isSpace || b == .dot || b == .hyphen }

    /// North American numbers, also glued to words (`call630-596-1111`) and with a `+1` or `1` prefix.
    mutating func nanpPhone(at index: Int) -> Int? {
        guard !t[index - 1].isDigit, t[index - 1] != .plus, let end = nanp(at: index) else { return nil }
        add(.phone, index..<end)
        return end
    }

    func nanp(at start: Int) -> Int? {
        var p = start
        if t[p] == .plus {
            guard t[p + 1] == UInt8(ascii: "1") else { return nil }
            p += 2
            if Self.isPhoneSeparator(t[p]) { p += 1 }
        } else if t[p] == UInt8(ascii: "1") {
            p += 1
            if Self.isPhoneSeparator(t[p]) { p += 1 }
        }
        func exchange(_ at: Int) -> Bool { t[at] &- UInt8(ascii: "2") < 8 && t[at + 1].isDigit && t[at + 2].isDigit }
        if t[p] == .openParen {
            p += 1
            while t[p].isSpace { p += 1 }
            guard exchange(p) else { return nil }
            p += 3
            while t[p].isSpace { p += 1 }
            guard t[p] == .closeParen else { return nil }
            p += 1
        } else {
            guard exchange(p) else { return nil }
            p += 3
        }
        if Self.isPhoneSeparator(t[p]) { p += 1 }
        guard exchange(p) else { return nil }
        p += 3
        if Self.isPhoneSeparator(t[p]) { p += 1 }
        guard t[p].isDigit, t[p + 1].isDigit, t[p + 2].isDigit, t[p + 3].isDigit, !t[p + 4].isDigit else { return nil }
        return p + 4
    }

    /// `+CC` or `00CC`, then groups of digits (one separator or parentheses between): 8 to 15 digits in all.
    mutating func internationalPhone(at index: Int) -> Int? {
        let byte = t[index]
        let zero = UInt8(ascii: "0")
        guard byte == .plus || (byte == zero && t[index + 1] == zero), !t[index - 1].isWord, t[index - 1] != .plus else {
            return nil
        }
        var p = index + (byte == .plus ? 1 : 2)
        guard t[p] &- UInt8(ascii: "1") < 9 else { return nil }
        var digits = 0
        var best: Int?
        var first = true
        while digits <= 15 {
            var q = p
            if !first, t[q] == .space || t[q] == .tab || t[q] == .dot || t[q] == .hyphen { q += 1 }
            if t[q] == .openParen { q += 1 }
            let end = t.digitsEnd(from: q)
            guard end > q else { break }
            digits += end - q
            q = end
            if t[q] == .closeParen { q += 1 }
            first = false
            p = q
            if (8...15).contains(digits), !t[p].isDigit { best = p }
        }
        guard let best else { return nil }
        add(.phone, index..<best)
        return best
    }

    /// National trunk-prefixed numbers written with separators (`020 7946 0958`, `(030) 1234567`,
    /// `01 42 68 53 00`) and bare ones of national length (`0612345678`, ten or eleven digits). Shorter bare runs are
    /// more often account or invoice numbers.
    mutating func trunkPhone(at index: Int) -> Int? {
        let before = t[index - 1]
        guard !before.isWord, before != .plus, before != .hyphen, before != .slash, let end = trunk(at: index) ?? trunkBare(at: index)
        else {
            return nil
        }
        add(.phone, index..<end)
        return end
    }

    func trunk(at start: Int) -> Int? {
        // dd.dd.19dd is a date, not a number
        if t[start].isDigit, t[start + 1].isDigit, ".-/".utf8.contains(t[start + 2]), t[start + 3].isDigit, t[start + 4].isDigit,
            ".-/".utf8.contains(t[start + 5]), t.digitsEnd(from: start + 6) == start + 10,
            t.centuryOfAYear(at: start + 6)
        {
            return nil
        }
        var p = start
        var digits = 0
        if t[p] == .openParen {
            guard t[p + 1] == UInt8(ascii: "0"), t[p + 2] &- UInt8(ascii: "1") < 9 else { return nil }
            let end = t.digitsEnd(from: p + 1)
            guard (2...6).contains(end - p - 1), t[end] == .closeParen else { return nil }
            digits = end - p - 1
            p = end + 1
            if t[p].isSpace { p += 1 }
        } else {
            guard t[p] == UInt8(ascii: "0"), t[p + 1] &- UInt8(ascii: "1") < 9 else { return nil }
            let end = t.digitsEnd(from: p)
            guard (2...6).contains(end - p), " .-/".utf8.contains(t[end]) else { return nil }
            digits = end - p
            p = end + 1
        }
        var end = t.digitsEnd(from: p)
        guard (2...8).contains(end - p) else { return nil }
        digits += end - p
        p = end
        func fits(_ at: Int) -> Bool { (8...15).contains(digits) && !t[at].isDigit && t[at] != .hyphen && t[at] != .slash }
        var best = fits(p) ? p : nil
        for _ in 0..<3 {
            guard t[p] == .space || t[p] == .dot || t[p] == .hyphen else { break }
            end = t.digitsEnd(from: p + 1)
            guard (2...8).contains(end - p - 1) else { break }
            digits += end - p - 1
            p = end
            if fits(p) { best = p }
        }
        return best
    }

    func trunkBare(at start: Int) -> Int? {
        guard t[start] == UInt8(ascii: "0"), t[start + 1] &- UInt8(ascii: "1") < 9 else { return nil }
        let end = t.digitsEnd(from: start)
        guard end - start == 10 || end - start == 11, !t[end].isWord, t[end] != .hyphen, t[end] != .slash else { return nil }
        return end
    }
}
