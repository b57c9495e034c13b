extension PatternScanner {
    /// First letters of the month names.
    static let monthInitials: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for letter in "jfmasond".utf8 { table[Int(letter)] = true }
        return table
    }()

    /// Month names and abbreviations, up to their first eight letters packed into an integer ("september" has nine).
    static let months: [UInt64] = [
        "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun",
        "june", "jul", "july", "aug", "august", "sep", "sept", "septembe", "oct", "october",
        "nov", "november", "dec", "december",
    ].map { $0.utf8.reduce(0) { $0 << 8 | UInt64($1) } }

    func isMonth(_ range: Range<Int>) -> Bool {
        guard range.count >= 3, range.count <= 9 else { return false }
        if range.count == 9 && t[range.lowerBound + 8] | 0x20 != UInt8(ascii: "r") { return false } // "september" ends in r
        var packed: UInt64 = 0
        for index in range.lowerBound..<(range.lowerBound + min(8, range.count)) { packed = packed << 8 | UInt64(t[index] | 0x20) }
        return Self.months.contains(packed)
    }

    /// A year 19xx or 20xx at `at`, followed by a word boundary.
    func year(_ at: Int) -> Bool {
        t.centuryOfAYear(at: at) && t.digitsEnd(from: at) == at + 4 && !t[at + 4].isWord
    }

    /// `12/31/1985`, `1985-12-31`, `March 14, 1985`, `14th March 1985` right after a birth cue (born, DOB, date of birth).
    mutating func birthDate(at index: Int) -> Int? {
        guard let end = date(at: index) else { return nil }
        if birthCue(before: index) { add(.dateOfBirth, index..<end) }
        return end
    }

    /// `st`, `nd`, `rd`, `th` after a day's number.
    static let ordinalSuffixes: [(UInt8, UInt8)] = [
        (UInt8(ascii: "s"), UInt8(ascii: "t")), (UInt8(ascii: "n"), UInt8(ascii: "d")),
        (UInt8(ascii: "r"), UInt8(ascii: "d")), (UInt8(ascii: "t"), UInt8(ascii: "h")),
    ]

    func date(at start: Int) -> Int? {
        func ordinal(_ at: Int) -> Int {
            let pair = (t[at].asciiLowercased, t[at + 1].asciiLowercased)
            let known = Self.ordinalSuffixes.contains { $0 == pair }
            return known ? at + 2 : at
        }
        func spaces(_ at: Int) -> Int { t.end(from: at, while: \.isSpace) }
        if t[start].isDigit {
            let run = t.digitsEnd(from: start)
            let length = run - start
            if length <= 2, "/.-".utf8.contains(t[run]) {
                let second = t.digitsEnd(from: run + 1)
                if (1...2).contains(second - run - 1), "/.-".utf8.contains(t[second]), year(second + 1) { return second + 5 }
            }
            if length == 4, t.centuryOfAYear(at: start), t[run] == .hyphen, t.digitsEnd(from: run + 1) == run + 3,
                t[run + 3] == .hyphen, t.digitsEnd(from: run + 4) == run + 6,
                !t[run + 6].isWord
            {
                return run + 6
            }
            guard length <= 2 else { return nil }
            var p = ordinal(run)
            let gap = spaces(p)
            guard gap > p else { return nil }
            let monthEnd = t.end(from: gap, while: \.isAlpha)
            guard isMonth(gap..<monthEnd) else { return nil }
            p = monthEnd
            if t[p] == .dot { p += 1 }
            if t[p] == .comma { p += 1 }
            let yearStart = spaces(p)
            guard yearStart > p, year(yearStart) else { return nil }
            return yearStart + 4
        }
        let monthEnd = t.end(from: start, while: \.isAlpha)
        guard isMonth(start..<monthEnd) else { return nil }
        var p = monthEnd
        if t[p] == .dot { p += 1 }
        let dayStart = spaces(p)
        let dayEnd = t.digitsEnd(from: dayStart)
        guard dayStart > p, (1...2).contains(dayEnd - dayStart) else { return nil }
        p = ordinal(dayEnd)
        if t[p] == .comma { p += 1 }
        let yearStart = spaces(p)
        guard yearStart > p, year(yearStart) else { return nil }
        return yearStart + 4
    }

    /// born, DOB, d.o.b., date of birth, birth date, birthday: at most 25 characters before the date, with no full
    /// stop or line break after the cue.
    func birthCue(before index: Int) -> Bool {
        for start in max(0, index - 40)..<index {
            guard let cueEnd = birthCueEnd(at: start), cueEnd <= index else { continue }
            let rest = t.bytes[cueEnd..<index]
            if rest.count <= 25, !rest.contains(.dot), !rest.contains(.newline) { return true }
        }
        return false
    }

    func birthCueEnd(at start: Int) -> Int? {
        func blanks(_ at: Int) -> Int { t.end(from: at, while: \.isSpace) }
        let wordStart = !t[start - 1].isWord
        switch t[start].asciiLowercased {
        case UInt8(ascii: "b"):
            if wordStart, t.matches("born", at: start), !t[start + 4].isWord { return start + 4 }
            if t.matches("birthday", at: start) { return start + 8 }
            if t.matches("birth", at: start) {
                let date = blanks(start + 5)
                if t.matches("date", at: date) { return date + 4 }
            }
        case UInt8(ascii: "d"):
            if wordStart, t.matches("dob", at: start), !t[start + 3].isWord { return start + 3 }
            if t.matches("d.o.b", at: start) { return t[start + 5] == .dot ? start + 6 : start + 5 }
            if t.matches("date", at: start) {
                let of = blanks(start + 4)
                guard of > start + 4, t.matches("of", at: of) else { return nil }
                let birth = blanks(of + 2)
                if birth > of + 2, t.matches("birth", at: birth) { return birth + 5 }
            }
        default:
            break
        }
        return nil
    }
}
