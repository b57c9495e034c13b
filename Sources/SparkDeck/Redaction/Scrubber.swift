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

    mutating func placeholder(type: EntityType, identity: String, original: String) -> String {
        let key = "\(type.rawValue)|\(identity)"
        if let existing = keys[key] { return existing }
        var number = counters[type.rawValue, default: 0]
        var placeholder: String
        repeat {
            number += 1
            placeholder = "<\(type.rawValue)_\(number)>"
        } while reserved.contains(placeholder) || values[placeholder] != nil
        counters[type.rawValue] = number
        keys[key] = placeholder
        values[placeholder] = original
        return placeholder
    }
}

/// What `/scrub` returns: the text with placeholders, and which placeholders it holds.
public struct ScrubResult: Sendable, Equatable {
    public var text: String
    public var entities: [(placeholder: String, type: EntityType)]
    /// Each replaced span of the input: its type and UTF-16 range in the original text.
    public var spans: [(type: EntityType, range: NSRange)] = []

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

    static let placeholderPattern = try! NSRegularExpression(pattern: #"<[A-Za-z][A-Za-z_]*_\d+>"#)

    public func scrub(_ text: String, session: inout ScrubSession, types: Set<EntityType>? = nil,
                      customTerms: [String] = []) -> ScrubResult {
        let original = text as NSString
        for match in Self.placeholderPattern.matches(in: text, range: NSRange(location: 0, length: original.length)) {
            session.reserved.insert(original.substring(with: match.range).uppercased())
        }
        let normalized = NormalizedText(text)
        var findings = PatternDetectors.find(in: normalized.text) + names.find(in: normalized.text, known: &session.knownNames)
        findings += Self.termFindings(standingTerms + customTerms, in: normalized.text)
        if let types { findings = findings.filter { types.contains($0.type) || $0.type == .custom } }

        // Higher priority first, then longer; keep a finding only if it overlaps none kept so far.
        var kept: [Finding] = []
        var covered = IndexSet()
        for finding in findings.sorted(by: { ($0.type.priority, $0.range.length) > ($1.type.priority, $1.range.length) }) {
            let span = finding.range.location..<(finding.range.location + finding.range.length)
            guard !span.isEmpty, !covered.intersects(integersIn: span) else { continue }
            covered.insert(integersIn: span)
            kept.append(finding)
        }
        kept.sort { $0.range.location < $1.range.location }

        var output = ""
        var cursor = 0
        var entities: [(String, EntityType)] = []
        var spans: [(EntityType, NSRange)] = []
        for finding in kept {
            let range = normalized.originalRange(of: finding.range)
            guard range.location != NSNotFound, range.location >= cursor else { continue }
            output += original.substring(with: NSRange(location: cursor, length: range.location - cursor))
            let originalValue = original.substring(with: range)
            let placeholder = session.placeholder(type: finding.type, identity: Self.identity(of: finding),
                                                  original: originalValue)
            output += placeholder
            spans.append((finding.type, range))
            if !entities.contains(where: { $0.0 == placeholder }) { entities.append((placeholder, finding.type)) }
            cursor = range.location + range.length
        }
        output += original.substring(from: cursor)
        return ScrubResult(text: output, entities: entities, spans: spans)
    }

    /// What makes two findings the same value: digits for numbers, the person for names, else the lowercase text.
    static func identity(of finding: Finding) -> String {
        switch finding.type {
        case .phone, .creditCard, .ssn:
            return String(finding.value.filter(\.isNumber).suffix(10))
        case .iban, .macAddress:
            return finding.value.filter { $0.isLetter || $0.isNumber }.lowercased()
        case .person:
            return finding.canonical ?? finding.value.lowercased()
        default:
            return finding.value.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
    }

    static func termFindings(_ terms: [String], in text: String) -> [Finding] {
        let ns = text as NSString
        var findings: [Finding] = []
        for term in terms {
            let needle = NormalizedText(term).text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard needle.count >= 2 else { continue }
            let pattern = #"(?<![\p{L}\p{N}])"# + NSRegularExpression.escapedPattern(for: needle) + #"(?![\p{L}\p{N}])"#
            guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { continue }
            for match in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                findings.append(Finding(type: .custom, range: match.range, value: ns.substring(with: match.range),
                                        canonical: needle.lowercased()))
            }
        }
        return findings
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
