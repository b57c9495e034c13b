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
                        let a = UInt8(ascii: "a")
                        guard letter &- a < 26, letter &- a >= 6 || bytes[position - 1] &- a < 6 else { break }
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
                    let nextLower = next | 0x20
                    if (lower == UInt8(ascii: "h") && nextLower == UInt8(ascii: "t"))
                        || (lower == UInt8(ascii: "w") && nextLower == UInt8(ascii: "w"))
                    {
                        attempt(.url, index) { $0.url(at: $1) }
                    }
                    if byte.isUpper {
                        if next.isUpper, second.isDigit { attempt(.iban, index) { $0.iban(at: $1) } }
                        if legalFormWithin(200, of: index, in: bytes, prefixes: legalFormPrefixes, after: &nextLegalForm) {
                            attempt(.organization, index) { $0.organization(startingAt: $1) }
                        }
                    }
                    if byte.isHex, next.isHex { attempt(.mac, index) { $0.mac(at: $1) } }
                    if lower == UInt8(ascii: "b"), next | 0x20 == UInt8(ascii: "c"), second == UInt8(ascii: "1") {
                        attempt(.crypto, index) { $0.cryptoWord(at: $1) }
                    }
                    if !birthDates, lower == UInt8(ascii: "b") || lower == UInt8(ascii: "d"), birthCueEnd(at: index) != nil {
                        birthDates = true
                    }
                    if birthDates, monthInitials[Int(lower)] { attempt(.birthDate, index) { $0.birthDate(at: $1) } }
                    continue
                }
                if byte.isDigit {
                    if !prev.isDigit {
                        attempt(.nanp, index) { $0.nanpPhone(at: $1) }
                        if byte == UInt8(ascii: "0") {
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
                case .at: attempt(.email, index) { $0.email(at: $1, after: $0.cursors[Pattern.email.rawValue]) }
                case .colon: attempt(.ipv6, index) { $0.ipv6(at: $1) }
                case .plus:
                    attempt(.nanp, index) { $0.nanpPhone(at: $1) }
                    attempt(.international, index) { $0.internationalPhone(at: $1) }
                case .openParen:
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

    /// Lowercase ASCII with every run of whitespace made one space.
    func collapsedLowercase(_ range: Range<Int>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(range.count)
        for index in range {
            let byte = t[index]
            if byte.isSpace {
                if output.last != .space { output.append(.space) }
            } else {
                output.append(byte.asciiLowercased)
            }
        }
        return output
    }
}
