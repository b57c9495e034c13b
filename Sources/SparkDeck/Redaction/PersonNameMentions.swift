/// Whole-text learning: every part of every name found is known for the whole text (and the session), so each mention
/// of it, before or after the place it was learned, in any case, is the same person; mentions next to each other
/// are one span (`john quinn`, `Piotr` + `Dyja`).
extension PersonNameDetector {
    func withLearnedMentions(
        _ findings: [Finding], parts findingTokens: [ClosedRange<Int>], tokens: [Token], t: TextBytes,
        known learned: inout [String: String]
    ) -> [Finding] {
        var result = findings
        var spans = findingTokens
        // The person is the lowercase name without initials and suffixes ("maria gonzalez"), written into one
        // reused buffer.
        var canonicalBytes: [UInt8] = []
        canonicalBytes.reserveCapacity(64)
        for (index, span) in findingTokens.enumerated() {
            canonicalBytes.removeAll(keepingCapacity: true)
            var parts = 0
            for token in tokens[span] where isNamePart(token) {
                if parts > 0 { canonicalBytes.append(.space) }
                canonicalBytes.append(contentsOf: token.lower(t).utf8)
                parts += 1
            }
            let canonical = String(decoding: canonicalBytes, as: UTF8.self)
            result[index].canonical = canonical
            guard parts >= 2 else { continue }
            for token in tokens[span] where isNamePart(token) && !token.is(.function) {
                let lower = token.lower(t)
                if learned[lower] == nil || learned[lower] == lower { learned[lower] = canonical }
            }
        }
        // A name found alone is known too ("Contact Piotr" makes every "Piotr" a person), unless it is part of a full
        // name: then it is that person.
        for (index, span) in findingTokens.enumerated() where span.count == 1 {
            guard let single = result[index].canonical, !single.isEmpty, !single.utf8.contains(.space) else { continue }
            if let person = learned[single] {
                result[index].canonical = person
            } else if !tokens[span.lowerBound].is(.everyday) {
                learned[single] = single
            }
        }
        guard !learned.isEmpty else { return withParts(result, spans: spans, tokens: tokens, t: t) }
        // Tokens are matched by the hash they already carry (a bit mask first); only a hit makes a string.
        var learnedHashes: [UInt64: String] = [:]
        learnedHashes.reserveCapacity(learned.count)
        var bloom = InlineArray<16, UInt64>(repeating: 0)
        for part in learned.keys {
            let hash = WordTable.hash(part.utf8)
            learnedHashes[hash] = part
            bloom[Int(hash & 1023) >> 6] |= 1 << (hash & 63)
        }
        // Findings so far are in text order: one cursor tells whether a token lies inside one.
        let found = result.map(\.range)
        var next = 0
        var added = false
        for (position, token) in tokens.enumerated() {
            guard bloom[Int(token.hash & 1023) >> 6] & (1 << (token.hash & 63)) != 0,
                let part = learnedHashes[token.hash]
            else { continue }
            // "Mark" the person, not "mark" the verb; "grant" the word, not "Grant" the person; but "lei" right
            // before the rest of Lei Zhang's name is Lei ("ping lei zhang").
            if token.shape == .lower, token.is(.everyday) || token.is(.function) || isEnglish(token, t),
                !beginsLearnedFullName(position, part: part, tokens: tokens, learnedHashes: learnedHashes, learned: learned, t: t)
            {
                continue
            }
            while next < found.count, found[next].upperBound <= token.range.lowerBound { next += 1 }
            if next < found.count, found[next].overlaps(token.range) { continue }
            guard token.lower(t) == part, let canonical = learned[part] else { continue }
            result.append(Finding(type: .person, range: token.range, canonical: canonical))
            spans.append(position...position)
            added = true
        }
        if added {
            let order = result.indices.sorted { result[$0].range.lowerBound < result[$1].range.lowerBound }
            result = order.map { result[$0] }
            spans = order.map { spans[$0] }
        }
        return mergedNeighbours(withParts(result, spans: spans, tokens: tokens, t: t), t: t)
    }

    /// Whether the token at `position` (learned as `part`) is followed, on its line, by another part of the same
    /// person's name: then both together are a mention of the person, whatever words they also are.
    func beginsLearnedFullName(
        _ position: Int, part: String, tokens: [Token], learnedHashes: [UInt64: String], learned: [String: String], t: TextBytes
    ) -> Bool {
        guard position + 1 < tokens.count, adjacent(tokens[position], tokens[position + 1], in: t),
            !t.bytes[tokens[position].range.upperBound..<tokens[position + 1].range.lowerBound].contains(.newline),
            let nextPart = learnedHashes[tokens[position + 1].hash], nextPart != part,
            tokens[position + 1].lower(t) == nextPart, tokens[position].lower(t) == part,
            let person = learned[part], person.contains(" "), learned[nextPart] == person
        else { return false }
        return true
    }

    /// Whether a token counts as a part of a person's name (not an initial, suffix or honorific).
    func isNamePart(_ token: Token) -> Bool { token.letters > 1 && !token.is(.suffix) && !token.is(.honorific) }

    /// A person's first name and surname found apart with only spaces between them (a line break too) are one
    /// mention: `john` + `quinn`, `Piotr` + `Dyja`.
    func mergedNeighbours(_ findings: [Finding], t: TextBytes) -> [Finding] {
        var merged: [Finding] = []
        merged.reserveCapacity(findings.count)
        for finding in findings {
            if let last = merged.last, last.part == .first, finding.part == .last, last.canonical == finding.canonical,
                last.range.upperBound < finding.range.lowerBound, finding.range.lowerBound - last.range.upperBound <= 4,
                (last.range.upperBound..<finding.range.lowerBound).allSatisfy({ t[$0].isSpace })
            {
                merged[merged.count - 1].range = last.range.lowerBound..<finding.range.upperBound
                merged[merged.count - 1].part = nil
                continue
            }
            merged.append(finding)
        }
        return merged
    }

    /// Marks each mention that holds only the first or only the last part of its person's full name.
    func withParts(_ findings: [Finding], spans: [ClosedRange<Int>], tokens: [Token], t: TextBytes) -> [Finding] {
        var result = findings
        // Compared as UTF-8: both sides are lowercase words of the same normalized text.
        for (index, span) in spans.enumerated() {
            guard let canonical = result[index].canonical, let space = canonical.utf8.firstIndex(of: .space) else { continue }
            var named: Token?
            var count = 0
            for token in tokens[span] where isNamePart(token) {
                named = token
                count += 1
            }
            guard count == 1, let named else { continue }
            let lower = named.lower(t)
            if lower.utf8.elementsEqual(canonical.utf8[..<space]) {
                result[index].part = .first
            } else if let lastSpace = canonical.utf8.lastIndex(of: .space),
                lower.utf8.elementsEqual(canonical.utf8[canonical.utf8.index(after: lastSpace)...])
            {
                result[index].part = .last
            }
        }
        return result
    }
}
