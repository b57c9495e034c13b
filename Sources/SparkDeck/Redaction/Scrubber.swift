import Foundation

/// One conversation's placeholder mapping: each distinct value gets one `<TYPE_N>`, the same in every call.
public struct ScrubSession: Codable, Sendable, Equatable {
    public var id: String
    /// Placeholder to the original text it stands for, as written where it was first used. A person has one number
    /// and a placeholder per spelling (`<PERSON_1>` `Maria Gonzalez`, `<PERSON_1_FIRST>` `Maria`, `<PERSON_1_2>`
    /// `MARIA GONZALEZ`), so the text comes back byte for byte. Sessions saved before 0.6.0 hold one spelling per
    /// person, the longest.
    public var values: [String: String] = [:]
    /// Per type (by `EntityType.ordinal`): a value's identity to its placeholder (stored as one `TYPE|identity` table).
    var keys = [[String: String]](repeating: [:], count: EntityType.allCases.count)
    /// Per type (by ordinal): the last placeholder number handed out (stored by type name).
    var counters = [Int](repeating: 0, count: EntityType.allCases.count)
    /// Placeholder-like text seen in inputs: never handed out, so rehydration cannot put a value into it.
    var reserved: Set<String> = []
    /// Parts of names found so far (`maria` -> `maria gonzalez`), so later calls know them too.
    var knownNames: [String: String] = [:]
    public var expiresAt: Double
    /// Who made the session (`key:` and the hash of the API key), and so who alone may use it; nil when it was made
    /// with no keys set (or before 0.6.0): then anyone may.
    public var owner: String?

    public init(id: String, expiresAt: Double) {
        self.id = id
        self.expiresAt = expiresAt
    }

    enum CodingKeys: String, CodingKey { case id, values, keys, counters, reserved, knownNames, expiresAt, owner }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        values = try container.decode([String: String].self, forKey: .values)
        for (key, placeholder) in try container.decode([String: String].self, forKey: .keys) {
            guard let bar = key.firstIndex(of: "|"), let type = EntityType(rawValue: String(key[..<bar])) else { continue }
            keys[type.ordinal][String(key[key.index(after: bar)...])] = placeholder
        }
        for (type, number) in try container.decode([EntityType: Int].self, forKey: .counters) { counters[type.ordinal] = number }
        reserved = try container.decode(Set<String>.self, forKey: .reserved)
        knownNames = try container.decode([String: String].self, forKey: .knownNames)
        expiresAt = try container.decode(Double.self, forKey: .expiresAt)
        owner = try container.decodeIfPresent(String.self, forKey: .owner)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(values, forKey: .values)
        var flat: [String: String] = [:]
        var numbers: [EntityType: Int] = [:]
        for type in EntityType.allCases {
            for (identity, placeholder) in keys[type.ordinal] { flat[type.rawValue + "|" + identity] = placeholder }
            if counters[type.ordinal] > 0 { numbers[type] = counters[type.ordinal] }
        }
        try container.encode(flat, forKey: .keys)
        try container.encode(numbers, forKey: .counters)
        try container.encode(reserved, forKey: .reserved)
        try container.encode(knownNames, forKey: .knownNames)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encodeIfPresent(owner, forKey: .owner)
    }

    /// Whether `caller` (an owner as `RequestCaller.of` says) may use the session.
    public func isUsable(by caller: String?) -> Bool { owner == nil || owner == caller }

    /// Forgets every mapping but keeps the storage, for a tool that scrubs many unrelated texts one after another.
    public mutating func clear() {
        values.removeAll(keepingCapacity: true)
        for index in keys.indices where !keys[index].isEmpty { keys[index].removeAll(keepingCapacity: true) }
        for index in counters.indices { counters[index] = 0 }
        reserved.removeAll(keepingCapacity: true)
        knownNames.removeAll(keepingCapacity: true)
    }

    /// The placeholder for one spelling of a value: the value's number, for a person the part of the name it holds
    /// (`_FIRST`, `_LAST`, or none for the full name), and a count for each further spelling (`_2`, `_3`):
    /// `(630) 596-1111` is `<PHONE_1>`, `630.596.1111` then `<PHONE_1_2>`.
    mutating func placeholder(type: EntityType, identity: String, part: NamePart? = nil, original: () -> String) -> String {
        let table = type.ordinal
        guard let base = keys[table][identity] else {
            let spelling = original()
            let created = newPlaceholder(type: type, identity: identity, value: part == nil ? spelling : nil)
            return part == nil
                ? created : spellingPlaceholder(table: table, base: created, identity: identity, part: part, spelling: spelling)
        }
        // The common case: the value again, as first written.
        let spelling = original()
        if part == nil, values[base] == spelling { return base }
        return spellingPlaceholder(table: table, base: base, identity: identity, part: part, spelling: spelling)
    }

    mutating func spellingPlaceholder(table: Int, base: String, identity: String, part: NamePart?, spelling: String) -> String {
        let spellingKey = identity + "\u{1F}" + spelling
        if let existing = keys[table][spellingKey] { return existing }
        var stem = String(base.dropLast())
        if let part { stem += "_" + part.rawValue }
        var candidate = stem + ">"
        var count = 1
        // The first free one: no other spelling holds it, and the user's own text does not.
        while values[candidate].map({ $0 != spelling }) ?? false || reserved.contains(candidate) {
            count += 1
            candidate = stem + "_\(count)>"
        }
        values[candidate] = spelling
        keys[table][spellingKey] = candidate
        return candidate
    }

    mutating func newPlaceholder(type: EntityType, identity: String, value: String?) -> String {
        var number = counters[type.ordinal]
        var placeholder: String
        // Numbers only grow, so a new one is free unless the user's own text holds it.
        repeat {
            number += 1
            placeholder = "<\(type.rawValue)_\(number)>"
        } while !reserved.isEmpty && reserved.contains(placeholder)
        counters[type.ordinal] = number
        if keys[type.ordinal].isEmpty { keys[type.ordinal].reserveCapacity(8) }
        keys[type.ordinal][identity] = placeholder
        if let value { values[placeholder] = value }
        return placeholder
    }
}

/// What `/scrub` returns: the text with placeholders, and which placeholders it holds.
public struct ScrubResult: Sendable, Equatable {
    public var text: String
    public var entities: [(placeholder: String, type: EntityType)]
    /// Each replaced span of the input: its type and UTF-8 byte range in the original text.
    public var spans: [(type: EntityType, range: Range<Int>)] = []

    public static func == (a: ScrubResult, b: ScrubResult) -> Bool {
        a.text == b.text && a.entities.map(\.placeholder) == b.entities.map(\.placeholder)
    }
}

/// Replaces personal data with placeholders. Pure: text and session in, text and session out.
public struct Scrubber: Sendable {
    let names: PersonNameDetector
    /// The owner's own names and companies, always scrubbed (inventory `redaction.custom_terms`).
    let standingTerms: [String]
    /// The standing terms, ready to match (a request's own terms add to them in a matcher of its own).
    let standingMatcher: TermMatcher

    public init(names: PersonNameDetector, standingTerms: [String] = []) {
        self.names = names
        self.standingTerms = standingTerms
        standingMatcher = TermMatcher(standingTerms)
    }

    public func scrub(
        _ text: String, session: inout ScrubSession, types: Set<EntityType>? = nil,
        customTerms: [String] = [], stop: CancelFlag? = nil
    ) -> ScrubResult {
        let scrubbed = scrub(utf8: Array(text.utf8), session: &session, types: types, customTerms: customTerms, stop: stop)
        return ScrubResult(text: String(decoding: scrubbed.text, as: UTF8.self), entities: scrubbed.entities, spans: scrubbed.spans)
    }

    /// `scrub` for text given and returned as UTF-8 bytes (line tools skip two conversions per text). With `stop`,
    /// the steps stop once it is set, and what comes back is then no scrubbed text: the caller drops it, and the
    /// session, whatever it holds.
    public func scrub(
        utf8 text: [UInt8], session: inout ScrubSession, types: Set<EntityType>? = nil, customTerms: [String] = [],
        stop: CancelFlag? = nil
    )
        -> (text: [UInt8], entities: [(placeholder: String, type: EntityType)], spans: [(type: EntityType, range: Range<Int>)])
    {
        let stopped: () -> Bool = { stop?.isSet ?? false }
        let normalized = NormalizedText(utf8: text)
        let original = normalized.originalBytes
        for placeholder in Self.placeholderLike(in: original) { session.reserved.insert(placeholder) }
        if stopped() { return ([], [], []) }
        var findings = PatternDetectors.find(in: normalized.bytes)
        if stopped() { return ([], [], []) }
        findings.append(contentsOf: names.find(in: normalized.bytes, known: &session.knownNames))
        if stopped() { return ([], [], []) }
        let terms = customTerms.isEmpty ? standingMatcher : TermMatcher(standingTerms + customTerms)
        if !terms.isEmpty { findings += terms.findings(in: normalized.bytes) }
        if stopped() { return ([], [], []) }
        if let types { findings = findings.filter { types.contains($0.type) || $0.type == .custom } }

        let kept = Self.mergedInOriginal(Self.withoutOverlaps(findings), normalized)

        session.values.reserveCapacity(session.values.count + kept.count)
        var output: [UInt8] = []
        output.reserveCapacity(original.count + kept.count * 8)
        var cursor = 0
        var entities: [(placeholder: String, type: EntityType)] = []
        var listed = Set<String>(minimumCapacity: kept.count)
        var spans: [(type: EntityType, range: Range<Int>)] = []
        for (finding, range) in kept {
            output += original[cursor..<range.lowerBound]
            let identity = Self.identity(of: finding, in: normalized.bytes)
            let placeholder = session.placeholder(type: finding.type, identity: identity, part: finding.isUnion ? nil : finding.part) {
                String(decoding: original[range], as: UTF8.self)
            }
            output += placeholder.utf8
            spans.append((finding.type, range))
            if listed.insert(placeholder).inserted { entities.append((placeholder, finding.type)) }
            cursor = range.upperBound
        }
        output += original[cursor...]
        return (output, entities, spans)
    }

    /// Learns the full names in `texts` into the session, so that scrubbing the texts one by one also catches a part
    /// of a name that comes before its full name (`Gonzalez called.` then `Her name is Maria Gonzalez.`).
    public func learnNames(in texts: [String], session: inout ScrubSession) {
        for text in texts { _ = names.find(in: NormalizedText(utf8: Array(text.utf8)).bytes, known: &session.knownNames) }
    }

    /// The findings to replace, in text order: where findings overlap, the higher priority wins (then the longer,
    /// then the one found first), and a finding is kept only if it overlaps none kept. A finding that loses must still
    /// be covered whole by the ones kept; when it is not (`Gonzalez` kept inside `maria.gonzalez@example.com`), the
    /// group of findings that overlap each other becomes one span over all of them, with the type of the finding that
    /// spans it all (the email), or else of the winner, so no part of a detected value is ever left in the text.
    /// Overlaps are rare, so the findings are sorted by position and the rule runs only inside each such group (the
    /// same result as running it over all of them: a finding can only lose to one it overlaps).
    static func withoutOverlaps(_ findings: [Finding]) -> [Finding] {
        var byStart = findings.indices.filter { !findings[$0].range.isEmpty }
        // Each detector reports in text order, so the list is often sorted already.
        if !zip(byStart, byStart.dropFirst()).allSatisfy({ findings[$0].range.lowerBound <= findings[$1].range.lowerBound }) {
            byStart.sort { findings[$0].range.lowerBound < findings[$1].range.lowerBound }
        }
        var kept: [Finding] = []
        kept.reserveCapacity(byStart.count)
        var group: [Int] = []
        var groupStart = 0
        var groupEnd = -1
        func settle() {
            if group.count == 1 {
                kept.append(findings[group[0]])
            } else if group.count > 1 {
                func rank(_ index: Int) -> Int { findings[index].type.priority << 32 | findings[index].range.count }
                let ranked = group.sorted(by: { rank($0) != rank($1) ? rank($0) > rank($1) : $0 < $1 })
                var chosen: [Finding] = []
                var lost: [Finding] = []
                for index in ranked {
                    if chosen.contains(where: { $0.range.overlaps(findings[index].range) }) {
                        lost.append(findings[index])
                    } else {
                        chosen.append(findings[index])
                    }
                }
                chosen.sort { $0.range.lowerBound < $1.range.lowerBound }
                if lost.allSatisfy({ covered($0.range, by: chosen) }) {
                    kept += chosen
                } else {
                    let union = groupStart..<groupEnd
                    if let outer = ranked.first(where: { findings[$0].range == union }) {
                        kept.append(findings[outer])
                    } else {
                        kept.append(Finding(type: findings[ranked[0]].type, range: union, isUnion: true))
                    }
                }
            }
            group.removeAll(keepingCapacity: true)
        }
        for index in byStart {
            let range = findings[index].range
            if range.lowerBound >= groupEnd {
                settle()
                groupStart = range.lowerBound
            }
            group.append(index)
            groupEnd = max(groupEnd, range.upperBound)
        }
        settle()
        return kept
    }

    /// The findings with their ranges in the original text. Findings apart in the normalized text can share an
    /// original character (a ligature or a letter with marks becomes several bytes there, each mapping back to the
    /// whole character): those become one span over both, typed by the higher priority, so no byte of either is left
    /// in the output.
    static func mergedInOriginal(_ findings: [Finding], _ normalized: NormalizedText) -> [(Finding, Range<Int>)] {
        var merged: [(Finding, Range<Int>)] = []
        merged.reserveCapacity(findings.count)
        for finding in findings {
            guard let range = normalized.originalRange(of: finding.range) else { continue }
            guard let (last, lastRange) = merged.last, range.lowerBound < lastRange.upperBound else {
                merged.append((finding, range))
                continue
            }
            let type = finding.type.priority > last.type.priority ? finding.type : last.type
            let union = last.range.lowerBound..<max(last.range.upperBound, finding.range.upperBound)
            merged[merged.count - 1] = (
                Finding(type: type, range: union, isUnion: true),
                lastRange.lowerBound..<max(lastRange.upperBound, range.upperBound)
            )
        }
        return merged
    }

    /// Whether the ranges (sorted, not overlapping) leave no byte of `range` out.
    static func covered(_ range: Range<Int>, by ranges: [Finding]) -> Bool {
        var next = range.lowerBound
        for other in ranges where other.range.upperBound > next && other.range.lowerBound < range.upperBound {
            guard other.range.lowerBound <= next else { return false }
            next = other.range.upperBound
            if next >= range.upperBound { return true }
        }
        return next >= range.upperBound
    }

    /// Text shaped like a placeholder (`<NAME_12>`, any case), uppercased.
    static func placeholderLike(in bytes: [UInt8]) -> [String] {
        let t = TextBytes(bytes)
        var found: [String] = []
        var index = 0
        while index < t.count {
            // Jump to the next '<'.
            guard
                let next = bytes.withUnsafeBufferPointer({ buffer -> Int? in
                    guard let base = buffer.baseAddress, let hit = memchr(base + index, 60, buffer.count - index) else { return nil }
                    return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                })
            else { break }
            index = next
            guard t[index + 1].isAlpha else {
                index += 1
                continue
            }
            // `[A-Za-z][A-Za-z_]*_` then digits, optionally `_` and letters (`_FIRST`) and `_` and digits, then `>`:
            // the letters-and-underscores run ends with the underscore.
            let name = t.end(from: index + 1) { $0.isAlpha || $0 == .underscore }
            var digitsEnd = t.digitsEnd(from: name)
            if digitsEnd > name, t[digitsEnd] == .underscore, t[digitsEnd + 1].isAlpha {
                digitsEnd = t.end(from: digitsEnd + 1, while: \.isAlpha)
            }
            if digitsEnd > name, t[digitsEnd] == .underscore, t[digitsEnd + 1].isDigit { digitsEnd = t.digitsEnd(from: digitsEnd + 1) }
            if name - 1 >= index + 2, t[name - 1] == .underscore, digitsEnd > name, t[digitsEnd] == .greaterThan {
                found.append(t.string(index..<(digitsEnd + 1)).uppercased())
                index = digitsEnd + 1
            } else {
                index += 1
            }
        }
        return found
    }

    /// What makes two findings the same value: digits for numbers, the person for names, else the lowercase text.
    static func identity(of finding: Finding, in text: [UInt8]) -> String {
        let value = text[finding.range]
        // A span widened over several findings is one value as written, whatever its type's usual identity.
        switch finding.isUnion ? .custom : finding.type {
        case .phone, .creditCard, .ssn:
            // All the digits: numbers that share their last ten are still different numbers (`+44 20 7946 0958` and
            // `(207) 946-0958`). Only the `1` country code of a North American number is left off, so `+1 415 555 2671`
            // is `(415) 555-2671`.
            var digits = 0
            for byte in value where byte.isDigit { digits += 1 }
            var skip = finding.type == .phone && digits == 11 && value.first(where: \.isDigit) == 49 ? 1 : 0
            return String(unsafeUninitializedCapacity: digits - skip) { buffer in
                var count = 0
                for byte in value where byte.isDigit {
                    if skip > 0 {
                        skip -= 1
                        continue
                    }
                    buffer[count] = byte
                    count += 1
                }
                return count
            }
        case .iban, .macAddress:
            return String(unsafeUninitializedCapacity: value.count) { buffer in
                var count = 0
                for byte in value where byte.isAlnum {
                    buffer[count] = byte.asciiLowercased
                    count += 1
                }
                return count
            }
        case .person:
            return finding.canonical ?? String(decoding: value, as: UTF8.self).lowercased()
        default:
            // Lowercase, each run of whitespace one space, none at the ends.
            var ascii = true
            let collapsed = String(unsafeUninitializedCapacity: value.count) { buffer in
                var count = 0
                for byte in value {
                    if byte >= 0x80 { ascii = false }
                    if byte.isSpace {
                        if count > 0, buffer[count - 1] != 32 {
                            buffer[count] = 32
                            count += 1
                        }
                    } else {
                        buffer[count] = byte.asciiLowercased
                        count += 1
                    }
                }
                if count > 0, buffer[count - 1] == 32 { count -= 1 }
                return count
            }
            return ascii ? collapsed : collapsed.lowercased()
        }
    }

    static func isLetterOrDigit(at index: Int, in t: TextBytes) -> Bool {
        let byte = t[index]
        if byte < 0x80 { return byte.isAlnum }
        guard let (scalar, _) = t.scalar(at: index) else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    static func isLetterOrDigit(before index: Int, in t: TextBytes) -> Bool {
        guard index > 0 else { return false }
        var start = index - 1
        while start > 0, t[start] & 0xC0 == 0x80 { start -= 1 }
        return isLetterOrDigit(at: start, in: t)
    }
}

/// Puts the originals back in place of a session's placeholders, tolerant of what models do to them
/// (`<person_1>`, `[PERSON_1]`, `PERSON_1`) but only for placeholders the session holds.
public enum Rehydrator {
    static let tolerant = try! NSRegularExpression(
        pattern: #"(?:[<\[{]\s*)?\b([A-Za-z][A-Za-z_]*?_\d+(?:_(?:FIRST|LAST|first|last|First|Last))?(?:_\d+)?)\b(?:\s*[>\]}])?"#)

    public static func rehydrate(_ text: String, session: ScrubSession) -> (text: String, unresolved: [String]) {
        let ns = text as NSString
        var output = ""
        var cursor = 0
        var unresolved: [String] = []
        for match in tolerant.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let core = ns.substring(with: match.range(at: 1)).uppercased()
            let placeholder = "<\(core)>"
            let whole = ns.substring(with: match.range)
            let guessed = session.reserved.contains(placeholder) ? nil : closest(to: placeholder, in: session)
            guard let value = session.values[placeholder] ?? guessed else {
                if whole.hasPrefix("<") && whole.hasSuffix(">") && !unresolved.contains(whole) { unresolved.append(whole) }
                continue
            }
            // Brackets count as part of the placeholder only when they enclose it on both sides.
            var range = match.range
            let opens = whole.first.map { "<[{".contains($0) } ?? false
            let closes = whole.last.map { ">]}".contains($0) } ?? false
            if opens != closes { range = match.range(at: 1) }
            output += ns.substring(with: NSRange(location: cursor, length: range.location - cursor))
            output += value
            cursor = range.location + range.length
        }
        output += ns.substring(from: cursor)
        return (output, unresolved)
    }

    /// For a person's placeholder a model made up from one it saw (`<PERSON_1_LAST>` when only `<PERSON_1>` was
    /// used, or `<PERSON_1>` when only `<PERSON_1_FIRST>` was): the nearest spelling the session holds, the part
    /// named if there is one, else the longest spelling of that person.
    static func closest(to placeholder: String, in session: ScrubSession) -> String? {
        guard placeholder.hasPrefix("<PERSON_") else { return nil }
        let core = placeholder.dropFirst(8).dropLast()
        let number = core.prefix(while: \.isNumber)
        guard !number.isEmpty else { return nil }
        let person = "<PERSON_\(number)"
        let rest = core.dropFirst(number.count)
        for part in [NamePart.first, .last] where rest.hasPrefix("_" + part.rawValue) {
            if let value = session.values[person + "_" + part.rawValue + ">"] { return value }
        }
        if let value = session.values[person + ">"] { return value }
        return session.values.filter { $0.key.hasPrefix(person + "_") }.max { $0.value.utf8.count < $1.value.utf8.count }?.value
    }
}
