extension PatternScanner {
    /// 13 to 19 digits, single spaces or dashes between groups, passing the Luhn check. Tried at every group start,
    /// longest first, ending only where a group ends. A card inside a longer run of groups (a quantity before it, a
    /// CVV after it) counts only when each of its groups has four digits or more: lists of small numbers are no cards.
    mutating func creditCard(at index: Int) -> Int? {
        guard !t[index - 1].isAlnum else { return nil }
        let runBefore = (t[index - 1] == .space || t[index - 1] == .hyphen) && t[index - 2].isDigit
        var digits = InlineArray<19, UInt8>(repeating: 0)
        var ends = InlineArray<19, Int>(repeating: 0)
        // Per digit: whether a card may end after it.
        var canEnd = InlineArray<19, Bool>(repeating: false)
        var found = 0
        var group = 0
        var shortestGroup = Int.max
        var p = index
        while found < 19, t[p].isDigit {
            digits[found] = t[p] - UInt8(ascii: "0")
            p += 1
            ends[found] = p
            found += 1
            group += 1
            let another = (t[p] == .space || t[p] == .hyphen) && t[p + 1].isDigit
            guard another || !t[p].isDigit else { continue }
            shortestGroup = min(shortestGroup, group)
            group = 0
            let wholeRun = !runBefore && !another
            canEnd[found - 1] = another ? shortestGroup >= 4 : !t[p].isAlnum && (wholeRun || shortestGroup >= 4)
            if another { p += 1 }
        }
        for count in stride(from: found, through: 13, by: -1) where canEnd[count - 1] {
            var sum = 0
            for position in 0..<count {
                var value = Int(digits[count - 1 - position])
                if position % 2 == 1 {
                    value *= 2
                    if value > 9 { value -= 9 }
                }
                sum += value
            }
            guard sum % 10 == 0 else { continue }
            add(.creditCard, index..<ends[count - 1])
            return ends[count - 1]
        }
        return nil
    }
}
