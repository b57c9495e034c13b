extension PatternScanner {
    /// `078-05-1120` and `078 05 1120`; nine bare digits only after "SSN" or "social security". Invalid ranges
    /// (area 000, 666, 9xx; group 00; serial 0000) are not SSNs.
    mutating func ssn(at index: Int) -> Int? {
        let runEnd = t.digitsEnd(from: index)
        var end: Int?
        var separated = false
        if runEnd - index == 9 {
            end = runEnd
        } else if runEnd - index == 3, t[runEnd] == .hyphen || t[runEnd] == .space, t.digitsEnd(from: runEnd + 1) == runEnd + 3,
            t[runEnd + 3] == t[runEnd], t.digitsEnd(from: runEnd + 4) == runEnd + 8
        {
            end = runEnd + 8
            separated = true
        }
        guard let end else { return nil }
        let digits = t.bytes[index..<end].filter(\.isDigit).map { Int($0 - UInt8(ascii: "0")) }
        let area = digits[0] * 100 + digits[1] * 10 + digits[2]
        let group = digits[3] * 10 + digits[4]
        let serial = digits[5] * 1000 + digits[6] * 100 + digits[7] * 10 + digits[8]
        if area != 0, area != 666, area < 900, group != 0, serial != 0, separated || ssnCue(before: index) {
            add(.ssn, index..<end)
        }
        return end
    }

    /// "SSN", "social security", "social security number|no.|#", then an optional `:` or `#`, just before `index`.
    func ssnCue(before index: Int) -> Bool {
        var words = collapsedLowercase(max(0, index - 30)..<index)
        while words.last == .space { words.removeLast() }
        if words.last == .colon || words.last == .hash { words.removeLast() }
        while words.last == .space { words.removeLast() }
        for suffix in [
            "ssn", "social security", "social security number", "social security no.", "social security no",
            "social security #",
        ] where words.count >= suffix.utf8.count && words.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) {
            return true
        }
        return false
    }
}
