extension PatternScanner {
    /// `00:1A:2B:3C:4D:5E`, `00-1A-...` and Cisco's `001a.2b3c.4d5e`.
    mutating func mac(at index: Int) -> Int? {
        func hexPair(_ at: Int) -> Bool { t[at].isHex && t[at + 1].isHex }
        let before = t[index - 1]
        guard !before.isHex, before != .colon, before != .hyphen, hexPair(index) else { return nil }
        var p = index
        var pairs = 0
        while pairs < 6, hexPair(p) {
            pairs += 1
            p += 2
            if pairs < 6 {
                guard t[p] == .colon || t[p] == .hyphen else { break }
                p += 1
            }
        }
        if pairs == 6, !t[p].isHex, t[p] != .colon, t[p] != .hyphen {
            add(.macAddress, index..<p)
            return p
        }
        if !before.isWord, t[index + 4] == .dot, t[index + 9] == .dot, !t[index + 14].isWord,
            (0..<3).allSatisfy({ group in (0..<4).allSatisfy { t[index + group * 5 + $0].isHex } })
        {
            add(.macAddress, index..<(index + 14))
            return index + 14
        }
        return nil
    }
}
