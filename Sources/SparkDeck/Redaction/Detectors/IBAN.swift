extension PatternDetectors {
    /// mod-97 over the IBAN's letters and digits (spaces skipped), first four moved to the end.
    static func ibanValid(_ text: some Collection<UInt8>) -> Bool {
        let compact = text.filter { $0 != .space }.map(\.asciiLowercased)
        guard (15...34).contains(compact.count) else { return false }
        var remainder = 0
        for byte in compact.dropFirst(4) + compact.prefix(4) {
            let value: Int
            if byte.isDigit {
                value = Int(byte - UInt8(ascii: "0"))
            } else if byte.isLower {
                value = Int(byte - UInt8(ascii: "a")) + 10
            } else {
                return false
            }
            remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97
        }
        return remainder == 1
    }
}

extension PatternScanner {
    /// Two capitals, two check digits, groups of four (a space between them or not), validated by mod-97.
    mutating func iban(at index: Int) -> Int? {
        guard t[index + 1].isUpper, t[index + 2].isDigit, t[index + 3].isDigit else { return nil }
        func isPart(_ b: UInt8) -> Bool { b.isUpper || b.isDigit }
        // Ends after each complete group of four; the longest valid candidate wins.
        var groupEnds: [Int] = []
        var p = index + 4
        while groupEnds.count < 7 {
            let q = t[p] == .space ? p + 1 : p
            guard (0..<4).allSatisfy({ isPart(t[q + $0]) }) else { break }
            p = q + 4
            groupEnds.append(p)
        }
        for groups in stride(from: groupEnds.count, through: 2, by: -1) {
            let base = groupEnds[groups - 1]
            let q = t[base] == .space ? base + 1 : base
            let tail = min(3, t.end(from: q, while: isPart) - q)
            for end in (tail > 0 ? Array(((q + 1)...(q + tail)).reversed()) : []) + [base]
            where !t[end].isWord && PatternDetectors.ibanValid(t.bytes[index..<end]) {
                add(.iban, index..<end)
                return end
            }
        }
        return nil
    }
}
