import Foundation

/// One conversation's placeholder mapping: each distinct value gets one `<TYPE_N>`, the same in every call.
public struct ScrubSession: Codable, Sendable, Equatable {
    public var id: String
    /// Placeholder to the original text it stands for (its first spelling).
    public var values: [String: String] = [:]
    /// `TYPE|identity` to placeholder.
    var keys: [String: String] = [:]
    var counters: [String: Int] = [:]
    /// Placeholder-like text seen in inputs: never handed out, so rehydration cannot put a value into it.
    var reserved: Set<String> = []
    /// Parts of names found so far (`maria` -> `maria gonzalez`), so later calls know them too.
    var knownNames: [String: String] = [:]
    public var expiresAt: Double

    public init(id: String, expiresAt: Double) {
        self.id = id
        self.expiresAt = expiresAt
    }

    mutating func placeholder(type: EntityType, identity: String, original: () -> String) -> String {
        let key = type.rawValue + "|" + identity
        if let existing = keys[key] { return existing }
        var number = counters[type.rawValue, default: 0]
        var placeholder: String
        // Numbers only grow, so a new one is free unless the user's own text holds it.
        repeat {
            number += 1
            placeholder = "<" + type.rawValue + "_" + String(number) + ">"
        } while !reserved.isEmpty && reserved.contains(placeholder)
        counters[type.rawValue] = number
        keys[key] = placeholder
        values[placeholder] = original()
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

    public init(names: PersonNameDetector, standingTerms: [String] = []) {
        self.names = names
        self.standingTerms = standingTerms
    }

    public func scrub(_ text: String, session: inout ScrubSession, types: Set<EntityType>? = nil,
                      customTerms: [String] = []) -> ScrubResult {
        let normalized = NormalizedText(text)
        let original = normalized.originalBytes
        for placeholder in Self.placeholderLike(in: original) { session.reserved.insert(placeholder) }
        var findings = PatternDetectors.find(in: normalized.bytes)
        findings.append(contentsOf: names.find(in: normalized.bytes, known: &session.knownNames))
        let terms = standingTerms + customTerms
        if !terms.isEmpty { findings += Self.termFindings(terms, in: normalized.bytes) }
        if let types { findings = findings.filter { types.contains($0.type) || $0.type == .custom } }

        // Higher priority first, then longer; keep a finding only if it overlaps none kept so far.
        var kept: [Finding] = []
        kept.reserveCapacity(findings.count)
        var covered = [Bool](repeating: false, count: normalized.bytes.count)
        findings.sort { ($0.type.priority, $0.range.count) > ($1.type.priority, $1.range.count) }
        for finding in findings {
            guard !finding.range.isEmpty, !finding.range.contains(where: { covered[$0] }) else { continue }
            for index in finding.range { covered[index] = true }
            kept.append(finding)
        }
        kept.sort { $0.range.lowerBound < $1.range.lowerBound }

        session.keys.reserveCapacity(session.keys.count + kept.count)
        session.values.reserveCapacity(session.values.count + kept.count)
        var output: [UInt8] = []
        output.reserveCapacity(original.count + kept.count * 8)
        var cursor = 0
        var entities: [(String, EntityType)] = []
        var listed = Set<String>(minimumCapacity: kept.count)
        var spans: [(EntityType, Range<Int>)] = []
        for finding in kept {
            guard let range = normalized.originalRange(of: finding.range), range.lowerBound >= cursor else { continue }
            output += original[cursor..<range.lowerBound]
            let placeholder = session.placeholder(type: finding.type, identity: Self.identity(of: finding, in: normalized.bytes)) {
                String(decoding: original[range], as: UTF8.self)
            }
            output += placeholder.utf8
            spans.append((finding.type, range))
            if listed.insert(placeholder).inserted { entities.append((placeholder, finding.type)) }
            cursor = range.upperBound
        }
        output += original[cursor...]
        return ScrubResult(text: String(decoding: output, as: UTF8.self), entities: entities, spans: spans)
    }

    /// Text shaped like a placeholder (`<NAME_12>`, any case), uppercased.
    static func placeholderLike(in bytes: [UInt8]) -> [String] {
        let t = TextBytes(bytes)
        var found: [String] = []
        var index = 0
        while index < t.count {
            guard t[index] == 60, t[index + 1].isAlpha else { index += 1; continue }
            // `[A-Za-z][A-Za-z_]*_` then digits and `>`: the letters-and-underscores run ends with the underscore.
            let name = t.end(from: index + 1) { $0.isAlpha || $0 == 95 }
            let digitsEnd = t.digitsEnd(from: name)
            if name - 1 >= index + 2, t[name - 1] == 95, digitsEnd > name, t[digitsEnd] == 62 {
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
        switch finding.type {
        case .phone, .creditCard, .ssn:
            return String(decoding: value.filter(\.isDigit).suffix(10), as: UTF8.self)
        case .iban, .macAddress:
            return String(decoding: value.filter(\.isAlnum).map(\.asciiLowercased), as: UTF8.self)
        case .person:
            return finding.canonical ?? String(decoding: value, as: UTF8.self).lowercased()
        default:
            var collapsed: [UInt8] = []
            collapsed.reserveCapacity(value.count)
            var ascii = true
            for byte in value {
                if byte >= 0x80 { ascii = false }
                if byte.isSpace {
                    if !collapsed.isEmpty, collapsed.last != 32 { collapsed.append(32) }
                } else {
                    collapsed.append(byte.asciiLowercased)
                }
            }
            if collapsed.last == 32 { collapsed.removeLast() }
            let joined = String(decoding: collapsed, as: UTF8.self)
            return ascii ? joined : joined.lowercased()
        }
    }

    /// Each whole-word occurrence of a term (case-insensitive), in the normalized bytes.
    static func termFindings(_ terms: [String], in bytes: [UInt8]) -> [Finding] {
        let t = TextBytes(bytes)
        var findings: [Finding] = []
        for term in terms {
            let needle = NormalizedText(term).text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard needle.count >= 2 else { continue }
            let folded = Array(needle.lowercased().utf8)
            let canonical = needle.lowercased()
            var index = 0
            while index + folded.count <= t.count {
                guard t[index].asciiLowercased == folded[0] || t[index] >= 0x80, !isLetterOrDigit(before: index, in: t),
                      let end = caseInsensitiveMatch(folded, in: t, at: index), !isLetterOrDigit(at: end, in: t) else {
                    index += 1
                    continue
                }
                findings.append(Finding(type: .custom, range: index..<end, canonical: canonical))
                index = end
            }
        }
        return findings
    }

    /// Where a lowercase needle matches at `index` (ASCII folded byte by byte, other characters by their lowercase).
    static func caseInsensitiveMatch(_ needle: [UInt8], in t: TextBytes, at index: Int) -> Int? {
        var n = 0
        var p = index
        while n < needle.count {
            let byte = t[p]
            if byte < 0x80 {
                guard byte.asciiLowercased == needle[n] else { return nil }
                n += 1
                p += 1
                continue
            }
            guard let (scalar, length) = t.scalar(at: p) else { return nil }
            let lower = Array(String(scalar).lowercased().utf8)
            guard n + lower.count <= needle.count, needle[n..<(n + lower.count)].elementsEqual(lower) else { return nil }
            n += lower.count
            p += length
        }
        return p
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
    static let tolerant = try! NSRegularExpression(pattern: #"(?:[<\[{]\s*)?\b([A-Za-z][A-Za-z_]*?_\d+)\b(?:\s*[>\]}])?"#)

    public static func rehydrate(_ text: String, session: ScrubSession) -> (text: String, unresolved: [String]) {
        let ns = text as NSString
        var output = ""
        var cursor = 0
        var unresolved: [String] = []
        for match in tolerant.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let core = ns.substring(with: match.range(at: 1)).uppercased()
            let placeholder = "<\(core)>"
            let whole = ns.substring(with: match.range)
            guard let value = session.values[placeholder] else {
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
}
