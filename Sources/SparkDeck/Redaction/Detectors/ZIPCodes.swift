extension PatternScanner {
    static let states: Set<String> = [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
        "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI",
        "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    ]

    /// Five digits (optionally `-1234`) after a state code (`IL 62704`) or a cue (`ZIP: 62704`, `postal code 62704`).
    mutating func zip(at index: Int) -> Int? {
        let run = t.digitsEnd(from: index)
        guard run - index == 5 else { return nil }
        var end = run
        if t[end] == .hyphen, t.digitsEnd(from: end + 1) == end + 5, !t[end + 5].isWord { end += 5 }
        guard !t[end].isWord, stateBefore(index) || zipCueBefore(index) else { return nil }
        add(.zipCode, index..<end)
        return end
    }

    func stateBefore(_ index: Int) -> Bool {
        var p = index
        while p > 0, t[p - 1].isSpace { p -= 1 }
        guard p < index, p >= 2, t[p - 1].isUpper, t[p - 2].isUpper, !t[p - 3].isWord else { return false }
        return Self.states.contains(t.string((p - 2)..<p))
    }

    func zipCueBefore(_ index: Int) -> Bool {
        var words = collapsedLowercase(max(0, index - 24)..<index)
        while words.last == .space { words.removeLast() }
        if words.last == .colon || words.last == .hash { words.removeLast() }
        while words.last == .space { words.removeLast() }
        for cue in ["zip", "zip code", "zipcode", "postal code"]
        where words.count >= cue.utf8.count
            && words.suffix(cue.utf8.count).elementsEqual(cue.utf8)
        {
            let before = words.count - cue.utf8.count - 1
            if before < 0 || !words[before].isWord { return true }
        }
        return false
    }
}
