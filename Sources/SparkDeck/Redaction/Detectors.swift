import Crypto
import Foundation

/// The kinds of personal data SparkDeck detects; the placeholder is `<TYPE_N>`.
public enum EntityType: String, Sendable, CaseIterable, Codable {
    case email = "EMAIL", phone = "PHONE", creditCard = "CREDIT_CARD", ssn = "SSN", iban = "IBAN"
    case ipAddress = "IP_ADDRESS", url = "URL", macAddress = "MAC_ADDRESS", cryptoAddress = "CRYPTO_ADDRESS"
    case dateOfBirth = "DATE_OF_BIRTH", address = "ADDRESS", zipCode = "ZIP_CODE", organization = "ORGANIZATION"
    case person = "PERSON", custom = "CUSTOM"

    /// Position in `allCases`, for tables indexed by type.
    var ordinal: Int {
        switch self {
        case .email: 0
        case .phone: 1
        case .creditCard: 2
        case .ssn: 3
        case .iban: 4
        case .ipAddress: 5
        case .url: 6
        case .macAddress: 7
        case .cryptoAddress: 8
        case .dateOfBirth: 9
        case .address: 10
        case .zipCode: 11
        case .organization: 12
        case .person: 13
        case .custom: 14
        }
    }

    /// When two findings overlap, the higher one wins (then the longer).
    var priority: Int {
        switch self {
        case .custom: 100
        case .email: 90
        case .url: 85
        case .cryptoAddress, .iban, .creditCard: 80
        case .macAddress, .ipAddress: 75
        case .ssn: 70
        case .phone: 65
        case .dateOfBirth: 68
        case .address: 55
        case .organization: 50
        case .zipCode: 66
        case .person: 40
        }
    }
}

/// Session counters are stored by type name (`{"PERSON": 2}`).
extension EntityType: CodingKeyRepresentable {}

/// A span of the normalized text that holds personal data.
public struct Finding: Sendable, Equatable {
    public var type: EntityType
    /// Byte range in the normalized UTF-8 text.
    public var range: Range<Int>
    /// For names learned from a full name: the full name, so every spelling gets one placeholder.
    public var canonical: String?
    /// A span the overlap rule widened over several findings that only partly cover each other.
    public var isUnion = false
}

/// Pattern detectors for structured personal data. Pure: text in, findings out.
///
/// Each pattern is a small hand-written scanner over the UTF-8 bytes, tried only where its first byte can start it
/// ('@', digits, '+', '(', capitals, ':'); the validators (Luhn, mod-97, base58check, bech32, inet_pton) decide.
/// All patterns share one pass over the text (`PatternScanner.run`); it replaced twenty ICU regular expressions.
public enum PatternDetectors {
    /// Every structured finding in the normalized bytes.
    public static func find(in bytes: [UInt8]) -> [Finding] {
        var scanner = PatternScanner(TextBytes(bytes))
        scanner.run()
        return scanner.findings
    }

    /// mod-97 over the IBAN's letters and digits (spaces skipped), first four moved to the end.
    static func ibanValid(_ text: some Collection<UInt8>) -> Bool {
        let compact = text.filter { $0 != 32 }.map(\.asciiLowercased)
        guard (15...34).contains(compact.count) else { return false }
        var remainder = 0
        for byte in compact.dropFirst(4) + compact.prefix(4) {
            let value: Int
            if byte.isDigit { value = Int(byte - 48) } else if byte.isLower { value = Int(byte - 97) + 10 } else { return false }
            remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97
        }
        return remainder == 1
    }

    static let base58Digits: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8.enumerated() {
            table[Int(byte)] = Int8(index)
        }
        return table
    }()

    static func base58CheckValid(_ text: some Collection<UInt8>) -> Bool {
        var bytes: [UInt8] = [0]
        for character in text {
            let digit = base58Digits[Int(character)]
            guard digit >= 0 else { return false }
            var carry = Int(digit)
            for index in bytes.indices.reversed() {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.insert(UInt8(carry & 0xff), at: 0)
                carry >>= 8
            }
        }
        let leadingZeros = text.prefix { $0 == 49 }.count
        let decoded = Array(repeating: UInt8(0), count: leadingZeros) + Array(bytes.drop { $0 == 0 })
        guard decoded.count == 25 else { return false }
        let payload = decoded.prefix(21)
        let checksum = Array(SHA256.hash(data: Array(SHA256.hash(data: Array(payload))))).prefix(4)
        return Array(decoded.suffix(4)) == Array(checksum)
    }

    static let bech32Values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in "qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    static func bech32Valid(_ text: some Collection<UInt8>) -> Bool {
        let lower = text.map(\.asciiLowercased)
        guard let separator = lower.lastIndex(of: 49) else { return false }
        let hrp = lower[..<separator]
        var values: [Int] = hrp.map { Int($0) >> 5 } + [0] + hrp.map { Int($0) & 31 }
        for byte in lower[(separator + 1)...] {
            let value = bech32Values[Int(byte)]
            guard value >= 0 else { return false }
            values.append(Int(value))
        }
        let generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
        var checksum = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ffffff) << 5 ^ value
            for bit in 0..<5 where (top >> bit) & 1 == 1 { checksum ^= generator[bit] }
        }
        return checksum == 1 || checksum == 0x2bc830a3
    }
}

/// One scan of one text: each `scan...` function walks the bytes once and appends what it finds.
struct PatternScanner {
    let t: TextBytes
    var findings: [Finding] = []
    /// Per pattern: where its last match ended (it never starts inside its own match).
    var cursors = InlineArray<16, Int>(repeating: 0)

    init(_ text: TextBytes) { t = text }

    mutating func add(_ type: EntityType, _ range: Range<Int>) {
        findings.append(Finding(type: type, range: range))
    }

    /// The patterns, each with its own cursor: a pattern never starts inside its own last match (a regex scan's
    /// leftmost-match order), while different patterns may overlap (the scrubber picks by priority).
    enum Pattern: Int, CaseIterable {
        case email, url, nanp, international, trunk, card, ssn, ipv4, ipv6, mac, crypto, iban, birthDate, street, zip, organization
    }

    mutating func run() {
        // Dates count only after a birth cue ("born", "DOB", "date of birth", ...) within 40 bytes before them, so
        // they are looked at only once a cue has been passed.
        var birthDates = false
        var nextLegalForm = -1
        let count = t.count
        let text = t.bytes
        // Static tables read once: a static's every use checks that it is initialised.
        let monthInitials = Self.monthInitials
        let legalFormPrefixes = Self.legalFormPrefixes
        text.withUnsafeBufferPointer { bytes in
            var position = 0
            while position < count {
                let byte = bytes[position]
                let prev = position > 0 ? bytes[position - 1] : 0
                // Inside a word only a MAC address can start (after a letter that is not a hex digit): the common
                // case, kept to a few comparisons.
                if byte.isAlpha, prev.isWord {
                    if byte.isHex, !prev.isHex, position + 1 < count, bytes[position + 1].isHex {
                        attempt(.mac, position) { $0.mac(at: $1) }
                    }
                    position += 1
                    // The rest of a lowercase word, skipped in a tight loop (a-f after g-z may start a MAC: stop there).
                    while position < count {
                        let letter = bytes[position]
                        guard letter &- 97 < 26, letter &- 97 >= 6 || bytes[position - 1] &- 97 < 6 else { break }
                        position += 1
                    }
                    continue
                }
                let index = position
                position += 1
                if byte.isAlpha {
                    // A word starts: each pattern is tried only if the next byte or two can continue it.
                    let lower = byte | 0x20
                    let next = position < count ? bytes[position] : 0
                    let second = position + 1 < count ? bytes[position + 1] : 0
                    if (lower == 104 && next | 0x20 == 116) || (lower == 119 && next | 0x20 == 119) {
                        attempt(.url, index) { $0.url(at: $1) }
                    }
                    if byte.isUpper {
                        if next.isUpper, second.isDigit { attempt(.iban, index) { $0.iban(at: $1) } }
                        if legalFormWithin(200, of: index, in: bytes, prefixes: legalFormPrefixes, after: &nextLegalForm) {
                            attempt(.organization, index) { $0.organization(startingAt: $1) }
                        }
                    }
                    if byte.isHex, next.isHex { attempt(.mac, index) { $0.mac(at: $1) } }
                    if lower == 98, next | 0x20 == 99, second == 49 { attempt(.crypto, index) { $0.cryptoWord(at: $1) } }
                    if !birthDates, lower == 98 || lower == 100, birthCueEnd(at: index) != nil { birthDates = true }
                    if birthDates, monthInitials[Int(lower)] { attempt(.birthDate, index) { $0.birthDate(at: $1) } }
                    continue
                }
                if byte.isDigit {
                    if !prev.isDigit {
                        attempt(.nanp, index) { $0.nanpPhone(at: $1) }
                        if byte == 48 {
                            attempt(.international, index) { $0.internationalPhone(at: $1) }
                            attempt(.trunk, index) { $0.trunkPhone(at: $1) }
                        }
                        attempt(.card, index) { $0.creditCard(at: $1) }
                        attempt(.ssn, index) { $0.ssn(at: $1) }
                        attempt(.ipv4, index) { $0.ipv4(at: $1) }
                        attempt(.zip, index) { $0.zip(at: $1) }
                        if !prev.isWord {
                            attempt(.street, index) { $0.streetAddress(at: $1) }
                            attempt(.crypto, index) { $0.cryptoWord(at: $1) }
                            if birthDates { attempt(.birthDate, index) { $0.birthDate(at: $1) } }
                        }
                        if !prev.isHex { attempt(.mac, index) { $0.mac(at: $1) } }
                    }
                    continue
                }
                switch byte {
                case 64: attempt(.email, index) { $0.email(at: $1, after: $0.cursors[Pattern.email.rawValue]) }
                case 58: attempt(.ipv6, index) { $0.ipv6(at: $1) }
                case 43:
                    attempt(.nanp, index) { $0.nanpPhone(at: $1) }
                    attempt(.international, index) { $0.internationalPhone(at: $1) }
                case 40:
                    attempt(.nanp, index) { $0.nanpPhone(at: $1) }
                    attempt(.trunk, index) { $0.trunkPhone(at: $1) }
                default:
                    break
                }
            }
        }
    }

    /// Runs `match` at `index` unless the pattern's last match covers it; moves its cursor past a match.
    @inline(__always)
    mutating func attempt(_ pattern: Pattern, _ index: Int, _ match: (inout PatternScanner, Int) -> Int?) {
        guard index >= cursors[pattern.rawValue], let end = match(&self, index) else { return }
        cursors[pattern.rawValue] = end
    }

    /// First letters of the month names.
    static let monthInitials: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for letter in "jfmasond".utf8 { table[Int(letter)] = true }
        return table
    }()

    /// Whether a legal form (`Inc`, `GmbH`, ...) starts a word within `distance` bytes after `index`; `next` keeps the
    /// next one found, so the text is searched once in all.
    func legalFormWithin(_ distance: Int, of index: Int, in bytes: UnsafeBufferPointer<UInt8>, prefixes: [Bool],
                         after next: inout Int) -> Bool {
        if next < index {
            next = Int.max
            var position = index + 1
            while position + 1 < bytes.count {
                if prefixes[Int(bytes[position]) << 8 | Int(bytes[position + 1])], !bytes[position - 1].isWord,
                   legalFormEnd(position) != nil {
                    next = position
                    break
                }
                position += 1
            }
        }
        return next != Int.max && next - index <= distance
    }

    // MARK: email, URL

    static func isEmailLocal(_ b: UInt8) -> Bool { b.isAlnum || b == 46 || b == 95 || b == 37 || b == 43 || b == 45 }
    static func isDomain(_ b: UInt8) -> Bool { b.isAlnum || b == 45 }

    /// The end of the letters, ASCII or not, that start at `index`.
    func lettersEnd(from index: Int) -> Int {
        var end = index
        while true {
            if t[end].isAlpha { end += 1; continue }
            let length = t.nonASCIILetterLength(at: end)
            guard length > 0 else { return end }
            end += length
        }
    }

    /// The end of a domain label: ASCII letters, digits and hyphens, and letters of any script (`müller.de`).
    func domainLabelEnd(from index: Int) -> Int {
        var end = index
        while true {
            if Self.isDomain(t[end]) { end += 1; continue }
            let length = t.nonASCIILetterLength(at: end)
            guard length > 0 else { return end }
            end += length
        }
    }

    /// `local@label(.label)*.tld`, the TLD two or more letters; the local part and the labels may hold letters of
    /// any script (`josé@example.com`, `info@müller.de`).
    mutating func email(at sign: Int, after cursor: Int) -> Int? {
        var start = sign
        while start > cursor {
            if Self.isEmailLocal(t[start - 1]) { start -= 1; continue }
            let lead = t.scalarStart(before: start)
            guard lead >= cursor, t.nonASCIILetterLength(at: lead) == start - lead else { break }
            start = lead
        }
        guard start < sign else { return nil }
        // Labels after the @; the address ends after the last label whose letters make a TLD.
        var position = sign + 1
        var end: Int?
        var labels = 0
        while true {
            let labelEnd = domainLabelEnd(from: position)
            guard labelEnd > position else { break }
            if labels > 0 {
                let letters = lettersEnd(from: position) - position
                if letters >= 2 { end = position + letters }
            }
            labels += 1
            guard t[labelEnd] == 46 else { break }
            position = labelEnd + 1
        }
        guard let end else { return nil }
        add(.email, start..<end)
        return end
    }

    /// `http://`, `https://` or `www.` at a word start, up to whitespace or quotes; trailing punctuation dropped.
    mutating func url(at index: Int) -> Int? {
        let prefix: Int
        if t.matches("https://", at: index) { prefix = 8 } else if t.matches("http://", at: index) { prefix = 7 }
        else if t.matches("www.", at: index) { prefix = 4 } else { return nil }
        var end = t.end(from: index + prefix) { !$0.isSpace && $0 != 60 && $0 != 62 && $0 != 34 && $0 != 39 && $0 != 96 }
        guard end > index + prefix else { return nil }
        while end > index, ".,;:!?)]}".utf8.contains(t[end - 1]) { end -= 1 }
        add(.url, index..<end)
        return end
    }

    // MARK: phones

    static func isPhoneSeparator(_ b: UInt8) -> Bool { b.isSpace || b == 46 || b == 45 }

    /// North American numbers, also glued to words (`call630-596-1111`) and with a `+1` or `1` prefix.
    mutating func nanpPhone(at index: Int) -> Int? {
        guard !t[index - 1].isDigit, t[index - 1] != 43, let end = nanp(at: index) else { return nil }
        add(.phone, index..<end)
        return end
    }

    func nanp(at start: Int) -> Int? {
        var p = start
        if t[p] == 43 {
            guard t[p + 1] == 49 else { return nil }
            p += 2
            if Self.isPhoneSeparator(t[p]) { p += 1 }
        } else if t[p] == 49 {
            p += 1
            if Self.isPhoneSeparator(t[p]) { p += 1 }
        }
        func exchange(_ at: Int) -> Bool { t[at] &- 50 < 8 && t[at + 1].isDigit && t[at + 2].isDigit }
        if t[p] == 40 {
            p += 1
            while t[p].isSpace { p += 1 }
            guard exchange(p) else { return nil }
            p += 3
            while t[p].isSpace { p += 1 }
            guard t[p] == 41 else { return nil }
            p += 1
        } else {
            guard exchange(p) else { return nil }
            p += 3
        }
        if Self.isPhoneSeparator(t[p]) { p += 1 }
        guard exchange(p) else { return nil }
        p += 3
        if Self.isPhoneSeparator(t[p]) { p += 1 }
        guard t[p].isDigit, t[p + 1].isDigit, t[p + 2].isDigit, t[p + 3].isDigit, !t[p + 4].isDigit else { return nil }
        return p + 4
    }

    /// `+CC` or `00CC`, then groups of digits (one separator or parentheses between): 8 to 15 digits in all.
    mutating func internationalPhone(at index: Int) -> Int? {
        let byte = t[index]
        guard byte == 43 || (byte == 48 && t[index + 1] == 48), !t[index - 1].isWord, t[index - 1] != 43 else { return nil }
        var p = index + (byte == 43 ? 1 : 2)
        guard t[p] &- 49 < 9 else { return nil }
        var digits = 0
        var best: Int?
        var first = true
        while digits <= 15 {
            var q = p
            if !first, t[q] == 32 || t[q] == 9 || t[q] == 46 || t[q] == 45 { q += 1 }
            if t[q] == 40 { q += 1 }
            let end = t.digitsEnd(from: q)
            guard end > q else { break }
            digits += end - q
            q = end
            if t[q] == 41 { q += 1 }
            first = false
            p = q
            if (8...15).contains(digits), !t[p].isDigit { best = p }
        }
        guard let best else { return nil }
        add(.phone, index..<best)
        return best
    }

    /// National trunk-prefixed numbers written with separators (`020 7946 0958`, `(030) 1234567`,
    /// `01 42 68 53 00`) and bare ones of national length (`0612345678`, ten or eleven digits). Shorter bare runs are
    /// more often account or invoice numbers.
    mutating func trunkPhone(at index: Int) -> Int? {
        let before = t[index - 1]
        guard !before.isWord, before != 43, before != 45, before != 47, let end = trunk(at: index) ?? trunkBare(at: index) else {
            return nil
        }
        add(.phone, index..<end)
        return end
    }

    func trunk(at start: Int) -> Int? {
        // dd.dd.19dd is a date, not a number
        if t[start].isDigit, t[start + 1].isDigit, ".-/".utf8.contains(t[start + 2]), t[start + 3].isDigit, t[start + 4].isDigit,
           ".-/".utf8.contains(t[start + 5]), t.digitsEnd(from: start + 6) == start + 10,
           (t[start + 6] == 49 && t[start + 7] == 57) || (t[start + 6] == 50 && t[start + 7] == 48) {
            return nil
        }
        var p = start
        var digits = 0
        if t[p] == 40 {
            guard t[p + 1] == 48, t[p + 2] &- 49 < 9 else { return nil }
            let end = t.digitsEnd(from: p + 1)
            guard (2...6).contains(end - p - 1), t[end] == 41 else { return nil }
            digits = end - p - 1
            p = end + 1
            if t[p].isSpace { p += 1 }
        } else {
            guard t[p] == 48, t[p + 1] &- 49 < 9 else { return nil }
            let end = t.digitsEnd(from: p)
            guard (2...6).contains(end - p), " .-/".utf8.contains(t[end]) else { return nil }
            digits = end - p
            p = end + 1
        }
        var end = t.digitsEnd(from: p)
        guard (2...8).contains(end - p) else { return nil }
        digits += end - p
        p = end
        func fits(_ at: Int) -> Bool { (8...15).contains(digits) && !t[at].isDigit && t[at] != 45 && t[at] != 47 }
        var best = fits(p) ? p : nil
        for _ in 0..<3 {
            guard t[p] == 32 || t[p] == 46 || t[p] == 45 else { break }
            end = t.digitsEnd(from: p + 1)
            guard (2...8).contains(end - p - 1) else { break }
            digits += end - p - 1
            p = end
            if fits(p) { best = p }
        }
        return best
    }

    func trunkBare(at start: Int) -> Int? {
        guard t[start] == 48, t[start + 1] &- 49 < 9 else { return nil }
        let end = t.digitsEnd(from: start)
        guard end - start == 10 || end - start == 11, !t[end].isWord, t[end] != 45, t[end] != 47 else { return nil }
        return end
    }

    // MARK: cards, SSNs, IPs, MACs

    /// 13 to 19 digits, single spaces or dashes between groups, passing the Luhn check. Tried at every group start,
    /// longest first, ending only where a group ends. A card inside a longer run of groups (a quantity before it, a
    /// CVV after it) counts only when each of its groups has four digits or more: lists of small numbers are no cards.
    mutating func creditCard(at index: Int) -> Int? {
        guard !t[index - 1].isAlnum else { return nil }
        let runBefore = (t[index - 1] == 32 || t[index - 1] == 45) && t[index - 2].isDigit
        var digits = InlineArray<19, UInt8>(repeating: 0)
        var ends = InlineArray<19, Int>(repeating: 0)
        // Per digit: whether a card may end after it.
        var canEnd = InlineArray<19, Bool>(repeating: false)
        var found = 0
        var group = 0
        var shortestGroup = Int.max
        var p = index
        while found < 19, t[p].isDigit {
            digits[found] = t[p] - 48
            p += 1
            ends[found] = p
            found += 1
            group += 1
            let another = (t[p] == 32 || t[p] == 45) && t[p + 1].isDigit
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

    /// `078-05-1120` and `078 05 1120`; nine bare digits only after "SSN" or "social security". Invalid ranges
    /// (area 000, 666, 9xx; group 00; serial 0000) are not SSNs.
    mutating func ssn(at index: Int) -> Int? {
        let runEnd = t.digitsEnd(from: index)
        var end: Int?
        var separated = false
        if runEnd - index == 9 {
            end = runEnd
        } else if runEnd - index == 3, t[runEnd] == 45 || t[runEnd] == 32, t.digitsEnd(from: runEnd + 1) == runEnd + 3,
                  t[runEnd + 3] == t[runEnd], t.digitsEnd(from: runEnd + 4) == runEnd + 8 {
            end = runEnd + 8
            separated = true
        }
        guard let end else { return nil }
        let digits = t.bytes[index..<end].filter(\.isDigit).map { Int($0 - 48) }
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
        while words.last == 32 { words.removeLast() }
        if words.last == 58 || words.last == 35 { words.removeLast() }
        while words.last == 32 { words.removeLast() }
        for suffix in ["ssn", "social security", "social security number", "social security no.", "social security no",
                       "social security #"] where words.count >= suffix.utf8.count && words.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) {
            return true
        }
        return false
    }

    /// Lowercase ASCII with every run of whitespace made one space.
    func collapsedLowercase(_ range: Range<Int>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        for index in range {
            let byte = t[index]
            if byte.isSpace {
                if output.last != 32 { output.append(32) }
            } else {
                output.append(byte.asciiLowercased)
            }
        }
        return output
    }

    /// Four dotted octets (0-255, no leading zeros), not part of a longer dotted number.
    mutating func ipv4(at index: Int) -> Int? {
        guard t[index - 1] != 46 else { return nil }
        var p = index
        var octets = 0
        while octets < 4 {
            let end = t.digitsEnd(from: p)
            let length = end - p
            guard (1...3).contains(length), length == 1 || t[p] != 48 else { break }
            let value = t.bytes[p..<end].reduce(0) { $0 * 10 + Int($1 - 48) }
            guard value <= 255 else { break }
            octets += 1
            p = end
            if octets < 4 {
                guard t[p] == 46 else { break }
                p += 1
            }
        }
        guard octets == 4, !t[p].isDigit, !(t[p] == 46 && t[p + 1].isDigit) else { return nil }
        add(.ipAddress, index..<p)
        return p
    }

    /// A run of hex digits and colons with at least two colons (and an optional `%zone`) that inet_pton accepts; when
    /// it does not, the run without its first group or its leading lone colon, which a label glued on (`IP:`, `ipv6:`)
    /// leaves there. Tried at every colon (the runs looked at are at most 64 bytes each way), so a run that is no
    /// address does not hide one that starts at a later colon.
    mutating func ipv6(at index: Int) -> Int? {
        var start = index
        while start > 0, index - start < 64, t[start - 1].isHex || t[start - 1] == 58 { start -= 1 }
        var end = index
        while end < t.count, end - index < 64, t[end].isHex || t[end] == 58 { end += 1 }
        guard !(t[start - 1].isHex || t[start - 1] == 58), !(t[end].isHex || t[end] == 58) else { return nil }
        var stop = end
        if t[end] == 37, t[end + 1].isWord { stop = t.end(from: end + 1, while: \.isWord) }
        guard !(t[stop].isHex || t[stop] == 58) else { return nil }
        if ipv6Valid(start..<end) {
            add(.ipAddress, start..<stop)
            return stop
        }
        let firstColon = t.end(from: start) { $0 != 58 }
        let rest = firstColon + 1
        guard t[firstColon] == 58, t[rest] != 58, rest < end, ipv6Valid(rest..<end) else { return nil }
        add(.ipAddress, rest..<stop)
        return stop
    }

    /// Two to seven colons, and inet_pton accepts it.
    func ipv6Valid(_ range: Range<Int>) -> Bool {
        var colons = 0
        for position in range where t.bytes[position] == 58 { colons += 1 }
        guard colons >= 2, colons <= 7 else { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, t.string(range), &address) == 1
    }

    /// `00:1A:2B:3C:4D:5E`, `00-1A-...` and Cisco's `001a.2b3c.4d5e`.
    mutating func mac(at index: Int) -> Int? {
        func hexPair(_ at: Int) -> Bool { t[at].isHex && t[at + 1].isHex }
        let before = t[index - 1]
        guard !before.isHex, before != 58, before != 45, hexPair(index) else { return nil }
        var p = index
        var pairs = 0
        while pairs < 6, hexPair(p) {
            pairs += 1
            p += 2
            if pairs < 6 {
                guard t[p] == 58 || t[p] == 45 else { break }
                p += 1
            }
        }
        if pairs == 6, !t[p].isHex, t[p] != 58, t[p] != 45 {
            add(.macAddress, index..<p)
            return p
        }
        if !before.isWord, t[index + 4] == 46, t[index + 9] == 46, !t[index + 14].isWord,
           (0..<3).allSatisfy({ group in (0..<4).allSatisfy { t[index + group * 5 + $0].isHex } }) {
            add(.macAddress, index..<(index + 14))
            return index + 14
        }
        return nil
    }

    // MARK: words: crypto addresses

    /// Whole words: Bitcoin base58check (`1...`, `3...`) and bech32 (`bc1...`) with their checksums, Ethereum `0x` + 40 hex.
    mutating func cryptoWord(at index: Int) -> Int? {
        let end = t.end(from: index, while: \.isWord)
        let length = end - index
        // Most words are too short to be an address: no slice is taken for them.
        guard length >= 14 else { return end }
        if (26...35).contains(length), t[index] == 49 || t[index] == 51,
           t.bytes[index..<end].allSatisfy({ PatternDetectors.base58Digits[Int($0)] >= 0 }),
           PatternDetectors.base58CheckValid(t.bytes[index..<end]) {
            add(.cryptoAddress, index..<end)
        } else if (14...74).contains(length), t.matches("bc1", at: index), PatternDetectors.bech32Valid(t.bytes[index..<end]) {
            add(.cryptoAddress, index..<end)
        } else if length == 42, t[index] == 48, t[index + 1] == 120, t.bytes[(index + 2)..<end].allSatisfy(\.isHex) {
            add(.cryptoAddress, index..<end)
        }
        return end
    }

    /// Two capitals, two check digits, groups of four (a space between them or not), validated by mod-97.
    mutating func iban(at index: Int) -> Int? {
        guard t[index + 1].isUpper, t[index + 2].isDigit, t[index + 3].isDigit else { return nil }
        func isPart(_ b: UInt8) -> Bool { b.isUpper || b.isDigit }
        // Ends after each complete group of four; the longest valid candidate wins.
        var groupEnds: [Int] = []
        var p = index + 4
        while groupEnds.count < 7 {
            let q = t[p] == 32 ? p + 1 : p
            guard (0..<4).allSatisfy({ isPart(t[q + $0]) }) else { break }
            p = q + 4
            groupEnds.append(p)
        }
        for groups in stride(from: groupEnds.count, through: 2, by: -1) {
            let base = groupEnds[groups - 1]
            let q = t[base] == 32 ? base + 1 : base
            let tail = min(3, t.end(from: q, while: isPart) - q)
            for end in (tail > 0 ? Array(((q + 1)...(q + tail)).reversed()) : []) + [base]
            where !t[end].isWord && PatternDetectors.ibanValid(t.bytes[index..<end]) {
                add(.iban, index..<end)
                return end
            }
        }
        return nil
    }

    // MARK: dates of birth, addresses, ZIP codes, organisations

    /// Month names and abbreviations, up to their first eight letters packed into an integer ("september" has nine).
    static let months: [UInt64] = ["jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun",
                                   "june", "jul", "july", "aug", "august", "sep", "sept", "septembe", "oct", "october",
                                   "nov", "november", "dec", "december"].map { $0.utf8.reduce(0) { $0 << 8 | UInt64($1) } }

    func isMonth(_ range: Range<Int>) -> Bool {
        guard range.count >= 3, range.count <= 9 else { return false }
        if range.count == 9 && t[range.lowerBound + 8] | 0x20 != 114 { return false }  // "september" ends in r
        var packed: UInt64 = 0
        for index in range.lowerBound..<(range.lowerBound + min(8, range.count)) { packed = packed << 8 | UInt64(t[index] | 0x20) }
        return Self.months.contains(packed)
    }

    /// A year 19xx or 20xx at `at`, followed by a word boundary.
    func year(_ at: Int) -> Bool {
        ((t[at] == 49 && t[at + 1] == 57) || (t[at] == 50 && t[at + 1] == 48)) && t.digitsEnd(from: at) == at + 4 && !t[at + 4].isWord
    }

    /// `12/31/1985`, `1985-12-31`, `March 14, 1985`, `14th March 1985` right after a birth cue (born, DOB, date of birth).
    mutating func birthDate(at index: Int) -> Int? {
        guard let end = date(at: index) else { return nil }
        if birthCue(before: index) { add(.dateOfBirth, index..<end) }
        return end
    }

    func date(at start: Int) -> Int? {
        func ordinal(_ at: Int) -> Int {
            let pair = (t[at].asciiLowercased, t[at + 1].asciiLowercased)
            let known = pair == (115, 116) || pair == (110, 100) || pair == (114, 100) || pair == (116, 104)  // st nd rd th
            return known ? at + 2 : at
        }
        func spaces(_ at: Int) -> Int { t.end(from: at, while: \.isSpace) }
        if t[start].isDigit {
            let run = t.digitsEnd(from: start)
            let length = run - start
            if length <= 2, "/.-".utf8.contains(t[run]) {
                let second = t.digitsEnd(from: run + 1)
                if (1...2).contains(second - run - 1), "/.-".utf8.contains(t[second]), year(second + 1) { return second + 5 }
            }
            if length == 4, (t[start] == 49 && t[start + 1] == 57) || (t[start] == 50 && t[start + 1] == 48), t[run] == 45, t.digitsEnd(from: run + 1) == run + 3, t[run + 3] == 45, t.digitsEnd(from: run + 4) == run + 6,
               !t[run + 6].isWord {
                return run + 6
            }
            guard length <= 2 else { return nil }
            var p = ordinal(run)
            let gap = spaces(p)
            guard gap > p else { return nil }
            let monthEnd = t.end(from: gap, while: \.isAlpha)
            guard isMonth(gap..<monthEnd) else { return nil }
            p = monthEnd
            if t[p] == 46 { p += 1 }
            if t[p] == 44 { p += 1 }
            let yearStart = spaces(p)
            guard yearStart > p, year(yearStart) else { return nil }
            return yearStart + 4
        }
        let monthEnd = t.end(from: start, while: \.isAlpha)
        guard isMonth(start..<monthEnd) else { return nil }
        var p = monthEnd
        if t[p] == 46 { p += 1 }
        let dayStart = spaces(p)
        let dayEnd = t.digitsEnd(from: dayStart)
        guard dayStart > p, (1...2).contains(dayEnd - dayStart) else { return nil }
        p = ordinal(dayEnd)
        if t[p] == 44 { p += 1 }
        let yearStart = spaces(p)
        guard yearStart > p, year(yearStart) else { return nil }
        return yearStart + 4
    }

    /// born, DOB, d.o.b., date of birth, birth date, birthday: at most 25 characters before the date, with no full
    /// stop or line break after the cue.
    func birthCue(before index: Int) -> Bool {
        for start in max(0, index - 40)..<index {
            guard let cueEnd = birthCueEnd(at: start), cueEnd <= index else { continue }
            let rest = t.bytes[cueEnd..<index]
            if rest.count <= 25, !rest.contains(46), !rest.contains(10) { return true }
        }
        return false
    }

    func birthCueEnd(at start: Int) -> Int? {
        func blanks(_ at: Int) -> Int { t.end(from: at, while: \.isSpace) }
        let wordStart = !t[start - 1].isWord
        switch t[start].asciiLowercased {
        case 98:  // b
            if wordStart, t.matches("born", at: start), !t[start + 4].isWord { return start + 4 }
            if t.matches("birthday", at: start) { return start + 8 }
            if t.matches("birth", at: start) {
                let date = blanks(start + 5)
                if t.matches("date", at: date) { return date + 4 }
            }
        case 100:  // d
            if wordStart, t.matches("dob", at: start), !t[start + 3].isWord { return start + 3 }
            if t.matches("d.o.b", at: start) { return t[start + 5] == 46 ? start + 6 : start + 5 }
            if t.matches("date", at: start) {
                let of = blanks(start + 4)
                guard of > start + 4, t.matches("of", at: of) else { return nil }
                let birth = blanks(of + 2)
                if birth > of + 2, t.matches("birth", at: birth) { return birth + 5 }
            }
        default:
            break
        }
        return nil
    }

    static let streetSuffixes: Set<String> = [
        "Alley", "Aly", "Annex", "Arcade", "Avenue", "Ave", "Bayou", "Beach", "Bend", "Bluff", "Bluffs", "Bottom", "Boulevard",
        "Blvd", "Branch", "Bridge", "Brook", "Brooks", "Burg", "Burgs", "Bypass", "Camp", "Canyon", "Cape", "Causeway",
        "Center", "Centers", "Circle", "Circles", "Cir", "Cliff", "Cliffs", "Club", "Common", "Corner", "Corners", "Course",
        "Court", "Courts", "Ct", "Cove", "Coves", "Creek", "Crescent", "Crest", "Crossing", "Crossroad", "Curve", "Dale",
        "Dam", "Divide", "Drive", "Drives", "Dr", "Estate", "Estates", "Expressway", "Extension", "Extensions", "Fall",
        "Falls", "Ferry", "Field", "Fields", "Flat", "Flats", "Ford", "Fords", "Forest", "Forge", "Forges", "Fork", "Forks",
        "Fort", "Freeway", "Garden", "Gardens", "Gateway", "Glen", "Glens", "Green", "Greens", "Grove", "Groves", "Harbor",
        "Harbors", "Haven", "Heights", "Highway", "Hwy", "Hill", "Hills", "Hollow", "Inlet", "Island", "Islands", "Isle",
        "Junction", "Junctions", "Key", "Keys", "Knoll", "Knolls", "Lake", "Lakes", "Land", "Landing", "Lane", "Ln", "Light",
        "Lights", "Loaf", "Lock", "Locks", "Lodge", "Loop", "Mall", "Manor", "Manors", "Meadow", "Meadows", "Mews", "Mill",
        "Mills", "Mission", "Motorway", "Mount", "Mountain", "Mountains", "Neck", "Orchard", "Oval", "Overpass", "Park",
        "Parkway", "Parkways", "Pkwy", "Pass", "Passage", "Path", "Pike", "Pine", "Pines", "Place", "Pl", "Plain", "Plains",
        "Plaza", "Point", "Points", "Port", "Ports", "Prairie", "Radial", "Ramp", "Ranch", "Rapid", "Rapids", "Rest", "Ridge",
        "Ridges", "River", "Road", "Roads", "Rd", "Route", "Row", "Rue", "Run", "Shoal", "Shoals", "Shore", "Shores",
        "Skyway", "Spring", "Springs", "Spur", "Square", "Squares", "Sq", "Station", "Stravenue", "Stream", "Street",
        "Streets", "St", "Summit", "Terrace", "Ter", "Throughway", "Trace", "Track", "Trafficway", "Trail", "Trl", "Trailer",
        "Tunnel", "Turnpike", "Underpass", "Union", "Unions", "Valley", "Valleys", "Viaduct", "View", "Views", "Village",
        "Villages", "Ville", "Vista", "Walk", "Walks", "Wall", "Way", "Ways", "Well", "Wells",
    ]

    /// The end of a capitalised word of an address or a company name (`[A-Z0-9][A-Za-z0-9'-]*` for addresses).
    func streetWordEnd(_ at: Int) -> Int? {
        guard t[at].isUpper || t[at].isDigit else { return nil }
        return t.end(from: at + 1) { $0.isAlnum || $0 == 39 || $0 == 45 }
    }

    /// A house number, one to four capitalised words on the same line, a USPS street suffix, an optional unit.
    mutating func streetAddress(at index: Int) -> Int? {
        let run = t.digitsEnd(from: index)
        guard run - index <= 6, let end = streetAddress(start: index, number: run) else { return nil }
        add(.address, index..<end)
        return end
    }

    func streetAddress(start: Int, number: Int) -> Int? {
        var p = number
        if t[p].isAlpha { p += 1 }
        let first = t.end(from: p, while: \.isBlank)
        guard first > p else { return nil }
        p = first
        // Words and where each starts; a direction (N, S., ...) first does not count toward the four.
        var wordStarts: [Int] = []
        var wordEnds: [Int] = []
        while wordStarts.count < 6, let end = streetWordEnd(p) {
            wordStarts.append(p)
            wordEnds.append(end)
            var next = end
            if t[next] == 46 { next += 1 }
            let gap = t.end(from: next, while: \.isBlank)
            guard gap > next else { break }
            p = gap
        }
        let direction = wordStarts.first.map { wordEnds[0] - $0 == 1 && "NSEW".utf8.contains(t[$0]) } ?? false
        let limit = direction ? 5 : 4
        guard wordStarts.count >= 2 else { return nil }
        for count in stride(from: min(limit, wordStarts.count - 1), through: 1, by: -1) {
            let suffixStart = wordStarts[count]
            let letters = t.end(from: suffixStart, while: \.isAlpha)
            guard !t[letters].isWord, Self.streetSuffixes.contains(t.string(suffixStart..<letters)) else { continue }
            var end = letters
            if t[end] == 46 { end += 1 }
            return unit(after: end) ?? end
        }
        return nil
    }

    /// `, Apt 4B`, `Suite 200`, `# 12` after a street.
    func unit(after end: Int) -> Int? {
        var p = end
        if t[p] == 44 { p += 1 }
        p = t.end(from: p, while: \.isBlank)
        for word in ["Apt", "Apartment", "Suite", "Ste", "Unit", "#"] {
            let bytes = Array(word.utf8)
            guard (0..<bytes.count).allSatisfy({ t[p + $0] == bytes[$0] }) else { continue }
            var q = p + bytes.count
            if t[q] == 46 { q += 1 }
            q = t.end(from: q, while: \.isBlank)
            let idEnd = t.end(from: q) { $0.isAlnum || $0 == 45 }
            if idEnd > q { return idEnd }
        }
        return nil
    }

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
        if t[end] == 45, t.digitsEnd(from: end + 1) == end + 5, !t[end + 5].isWord { end += 5 }
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
        while words.last == 32 { words.removeLast() }
        if words.last == 58 || words.last == 35 { words.removeLast() }
        while words.last == 32 { words.removeLast() }
        for cue in ["zip", "zip code", "zipcode", "postal code"] where words.count >= cue.utf8.count
            && words.suffix(cue.utf8.count).elementsEqual(cue.utf8) {
            let before = words.count - cue.utf8.count - 1
            if before < 0 || !words[before].isWord { return true }
        }
        return false
    }

    static let legalForms: [[UInt8]] = ["Inc", "LLC", "L.L.C.", "Ltd", "Limited", "GmbH", "Corp", "Corporation", "Company",
                                        "Co", "AG", "SA", "S.A.", "PLC", "LLP", "BV", "B.V.", "Pty", "KG", "SARL", "SpA",
                                        "S.p.A.", "NV", "N.V."].map { Array($0.utf8) }
    /// Which bytes start a legal form.
    static let legalFormInitials: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for form in legalForms { table[Int(form[0])] = true }
        return table
    }()

    /// Which pairs of bytes start a legal form (`In`, `LL`, `Gm`, `S.`, ...), indexed by first << 8 | second.
    static let legalFormPrefixes: [Bool] = {
        var table = [Bool](repeating: false, count: 1 << 16)
        for form in legalForms { table[Int(form[0]) << 8 | Int(form[1])] = true }
        return table
    }()

    /// The end of a legal form at `at` (`Inc`, `GmbH`, `S.p.A.`...), with a full stop after it if there is one.
    func legalFormEnd(_ at: Int) -> Int? {
        guard Self.legalFormInitials[Int(t[at])] else { return nil }
        for bytes in Self.legalForms where bytes[0] == t[at] {
            guard (0..<bytes.count).allSatisfy({ t[at + $0] == bytes[$0] }) else { continue }
            let end = at + bytes.count
            if bytes.last == 46 {
                guard !t[end].isAlnum else { continue }
                return end
            }
            guard !t[end].isWord else { continue }
            return t[end] == 46 ? end + 1 : end
        }
        return nil
    }

    /// One to six capitalised words (commas, "and", "&" between them) and a legal form: `Tanner, Stevens and Young Corp.`
    mutating func organization(startingAt index: Int) -> Int? {
        guard let end = organization(at: index) else { return nil }
        add(.organization, index..<end)
        return end
    }

    func organization(at start: Int) -> Int? {
        var p = start
        var found: Int?
        for _ in 0..<6 {
            guard t[p].isUpper else { break }
            let wordEnd = t.end(from: p + 1) { $0.isWord || $0 == 38 || $0 == 39 || $0 == 45 }
            // The separator: `,? [ \t]+ (and|&)?` or `[ \t]*&[ \t]*`
            var q = wordEnd
            if t[q] == 44 { q += 1 }
            let blanks = t.end(from: q, while: \.isBlank)
            if blanks > q {
                q = blanks
                if t.matches("and", at: q), t[q + 3].isBlank, t[q] == 97 { q = t.end(from: q + 3, while: \.isBlank) }
                else if t[q] == 38, t[q + 1].isBlank { q = t.end(from: q + 1, while: \.isBlank) }
            } else if t[q] == 38 {
                q = t.end(from: q + 1, while: \.isBlank)
            } else {
                break
            }
            if let end = legalFormEnd(q) { found = end }
            p = q
        }
        return found
    }
}
