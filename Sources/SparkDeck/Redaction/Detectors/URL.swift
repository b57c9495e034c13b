extension PatternScanner {
    /// `http://`, `https://` or `www.` at a word start, up to whitespace or quotes; trailing punctuation dropped.
    mutating func url(at index: Int) -> Int? {
        let prefix: Int
        if t.matches("https://", at: index) {
            prefix = 8
        } else if t.matches("http://", at: index) {
            prefix = 7
        } else if t.matches("www.", at: index) {
            prefix = 4
        } else {
            return nil
        }
        var end = t.end(from: index + prefix) {
            !$0.isSpace && $0 != .lessThan && $0 != .greaterThan && $0 != .quote && $0 != .apostrophe && $0 != .backtick
        }
        guard end > index + prefix else { return nil }
        while end > index, ".,;:!?)]}".utf8.contains(t[end - 1]) { end -= 1 }
        add(.url, index..<end)
        return end
    }
}
