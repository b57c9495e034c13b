import Crypto
import Foundation

/// The kinds of personal data SparkDeck detects; the placeholder is `<TYPE_N>`.
public enum EntityType: String, Sendable, CaseIterable, Codable {
    case email = "EMAIL", phone = "PHONE", creditCard = "CREDIT_CARD", ssn = "SSN", iban = "IBAN"
    case ipAddress = "IP_ADDRESS", url = "URL", macAddress = "MAC_ADDRESS", cryptoAddress = "CRYPTO_ADDRESS"
    case dateOfBirth = "DATE_OF_BIRTH", address = "ADDRESS", zipCode = "ZIP_CODE", organization = "ORGANIZATION"
    case person = "PERSON", custom = "CUSTOM"

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

/// A span of the normalized text that holds personal data.
public struct Finding: Sendable, Equatable {
    public var type: EntityType
    /// UTF-16 range in the normalized text.
    public var range: NSRange
    /// The normalized text of the span.
    public var value: String
    /// For names learned from a full name: the full name, so every spelling gets one placeholder.
    public var canonical: String?
}

/// Pattern detectors for structured personal data. Pure: text in, findings out.
public enum PatternDetectors {
    static func regex(_ pattern: String, _ options: NSRegularExpression.Options = []) -> NSRegularExpression {
        // The patterns are constants; a bad one is a programming error caught by the tests.
        try! NSRegularExpression(pattern: pattern, options: options)
    }

    static let email = regex(#"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"#)
    static let url = regex(#"(?i)\b(?:https?://|www\.)[^\s<>"'`]+"#)
    // North American numbers, also glued to words ("call630-596-1111") and with a +1 or 1 prefix.
    static let phoneNANP = regex(#"(?<![\d+])(?:\+?1[\s.\-]?)?(?:\(\s*[2-9]\d{2}\s*\)|[2-9]\d{2})[\s.\-]?[2-9]\d{2}[\s.\-]?\d{4}(?!\d)"#)
    // International: +CC or 00CC, then groups; 8 to 15 digits in all (checked after).
    static let phoneInternational = regex(#"(?<![\w+])(?:\+|00)[1-9]\d{0,3}(?:[\s.\-]?\(?\d{1,5}\)?){2,6}(?!\d)"#)
    // National trunk-prefixed forms written with separators: 020 7946 0958, (030) 1234567, 01 42 68 53 00,
    // 04102 12345. A bare run of digits starting with 0 is more often an account or invoice number.
    static let phoneTrunk = regex(#"(?<![\w+\-/])(?!\d{2}[.\-/]\d{2}[.\-/](?:19|20)\d{2}(?!\d))(?:\(0[1-9]\d{0,4}\)\s?\d{2,8}(?:[ .\-]\d{2,8}){0,3}|0[1-9]\d{0,4}[ .\-/]\d{2,8}(?:[ .\-]\d{2,8}){0,3})(?![\d\-/])"#)
    // A bare zero-led number of national phone length (FR 10, DE 10-11, GB 11 digits); shorter ones are more often
    // account or invoice numbers.
    static let phoneTrunkBare = regex(#"(?<![\w+\-/])0[1-9]\d{8,9}(?![\w\-/])"#)
    static let creditCard = regex(#"(?<![A-Za-z0-9])(?:\d[ \-]?){12,18}\d(?![A-Za-z0-9])"#)
    static let ssn = regex(#"(?<!\d)(\d{3})([- ]?)(\d{2})\2(\d{4})(?!\d)"#)
    static let ssnContext = regex(#"(?i)(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s*[:#]?\s*$"#)
    static let iban = regex(#"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b"#)
    static let ipv4 = regex(#"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"#)
    static let ipv6Candidate = regex(#"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![0-9A-Fa-f:])"#)
    static let mac = regex(#"(?<![0-9A-Fa-f:\-])(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:\-])|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b"#)
    static let btcLegacy = regex(#"\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b"#)
    static let btcBech32 = regex(#"(?i)\bbc1[ac-hj-np-z02-9]{11,71}\b"#)
    static let eth = regex(#"\b0x[a-fA-F0-9]{40}\b"#)
    static let date = regex(#"(?i)\b(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d{2}|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?\s+(?:19|20)\d{2})\b"#)
    static let birthContext = regex(#"(?i)(?:\bborn\b|\bdob\b|d\.o\.b\.?|date\s+of\s+birth|birth\s*date|birthday)[^.\n]{0,25}$"#)
    // A number, one to four capitalised words on the same line, a USPS street suffix, an optional unit.
    static let streetAddress = regex(#"\b\d{1,6}[A-Za-z]?[ \t]+(?:[NSEW]\.?[ \t]+)?(?:[A-Z0-9][A-Za-z0-9'\-]*\.?[ \t]+){1,4}(?:Alley|Aly|Annex|Arcade|Avenue|Ave|Bayou|Beach|Bend|Bluffs?|Bottom|Boulevard|Blvd|Branch|Bridge|Brooks?|Burgs?|Bypass|Camp|Canyon|Cape|Causeway|Centers?|Circles?|Cir|Cliffs?|Club|Common|Corners?|Course|Courts?|Ct|Coves?|Creek|Crescent|Crest|Crossing|Crossroad|Curve|Dale|Dam|Divide|Drives?|Dr|Estates?|Expressway|Extensions?|Falls?|Ferry|Fields?|Flats?|Fords?|Forest|Forges?|Forks?|Fort|Freeway|Gardens?|Gateway|Glens?|Greens?|Groves?|Harbors?|Haven|Heights|Highway|Hwy|Hills?|Hollow|Inlet|Islands?|Isle|Junctions?|Keys?|Knolls?|Lakes?|Land|Landing|Lane|Ln|Light|Lights|Loaf|Locks?|Lodge|Loop|Mall|Manors?|Meadows?|Mews|Mill|Mills|Mission|Motorway|Mount|Mountains?|Neck|Orchard|Oval|Overpass|Park|Parkways?|Pkwy|Pass|Passage|Path|Pike|Pines?|Place|Pl|Plains?|Plaza|Points?|Ports?|Prairie|Radial|Ramp|Ranch|Rapids?|Rest|Ridges?|River|Roads?|Rd|Route|Row|Rue|Run|Shoals?|Shores?|Skyway|Springs?|Spur|Squares?|Sq|Station|Stravenue|Stream|Streets?|St|Summit|Terrace|Ter|Throughway|Trace|Track|Trafficway|Trail|Trl|Trailer|Tunnel|Turnpike|Underpass|Unions?|Valleys?|Viaduct|Views?|Villages?|Ville|Vista|Walks?|Wall|Way|Ways|Wells?)\b\.?(?:,?[ \t]*(?:Apt|Apartment|Suite|Ste|Unit|#)\.?[ \t]*[A-Za-z0-9\-]+)?"#)
    static let stateZip = regex(#"\b(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[TA]|W[AVIY])\s+(\d{5}(?:-\d{4})?)\b"#)
    static let zipContext = regex(#"(?i)\b(?:zip(?:\s*code)?|postal\s+code)\s*[:#]?\s*(\d{5}(?:-\d{4})?)\b"#)
    // Capitalised words (with commas, "and", "&" between: "Tanner, Stevens and Young Corp.") ending in a legal form.
    static let organization = regex(#"\b(?:[A-Z][\w&'\-]*(?:,?[ \t]+(?:and[ \t]+|&[ \t]+)?|[ \t]*&[ \t]*)){1,6}(?:Inc|LLC|L\.L\.C\.|Ltd|Limited|GmbH|Corp|Corporation|Company|Co|AG|SA|S\.A\.|PLC|LLP|BV|B\.V\.|Pty|KG|SARL|SpA|S\.p\.A\.|NV|N\.V\.)\b\.?"#)

    /// Every structured finding in `text`.
    public static func find(in text: String) -> [Finding] {
        let ns = text as NSString
        let all = NSRange(location: 0, length: ns.length)
        var findings: [Finding] = []
        func add(_ type: EntityType, _ range: NSRange) {
            findings.append(Finding(type: type, range: range, value: ns.substring(with: range)))
        }
        func each(_ regex: NSRegularExpression, _ body: (NSTextCheckingResult) -> Void) {
            for match in regex.matches(in: text, range: all) { body(match) }
        }
        // Cheap checks first: most texts have no '@', no "http", no ':' pairs; their patterns need not run.
        let hasAt = text.contains("@")
        let hasColon = text.contains(":")
        let lower = text.lowercased()
        if hasAt { each(email) { add(.email, $0.range) } }
        if lower.contains("http") || lower.contains("www.") { each(url) { match in
            var range = match.range
            while range.length > 0, let last = ns.substring(with: NSRange(location: range.location + range.length - 1, length: 1)).first,
                  ".,;:!?)]}".contains(last) {
                range.length -= 1
            }
            add(.url, range)
        } }
        each(phoneNANP) { add(.phone, $0.range) }
        for regex in [phoneInternational, phoneTrunk, phoneTrunkBare] {
            each(regex) { match in
                let digits = ns.substring(with: match.range).filter(\.isNumber).count
                if (8...15).contains(digits) { add(.phone, match.range) }
            }
        }
        each(creditCard) { match in
            let digits = ns.substring(with: match.range).filter(\.isNumber)
            if (13...19).contains(digits.count), luhn(digits) { add(.creditCard, match.range) }
        }
        each(ssn) { match in
            let area = Int(ns.substring(with: match.range(at: 1))) ?? 0
            let group = Int(ns.substring(with: match.range(at: 3))) ?? 0
            let serial = Int(ns.substring(with: match.range(at: 4))) ?? 0
            guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return }
            let separated = match.range(at: 2).length > 0
            let before = ns.substring(with: NSRange(location: max(0, match.range.location - 30), length: min(30, match.range.location)))
            if separated || ssnContext.firstMatch(in: before, range: NSRange(location: 0, length: (before as NSString).length)) != nil {
                add(.ssn, match.range)
            }
        }
        each(iban) { match in
            if ibanValid(ns.substring(with: match.range)) { add(.iban, match.range) }
        }
        each(ipv4) { add(.ipAddress, $0.range) }
        if hasColon { each(ipv6Candidate) { match in
            let candidate = ns.substring(with: match.range)
            guard candidate.filter({ $0 == ":" }).count >= 2 else { return }
            var address = in6_addr()
            let bare = candidate.split(separator: "%").first.map(String.init) ?? candidate
            if inet_pton(AF_INET6, bare, &address) == 1 { add(.ipAddress, match.range) }
        } }
        each(mac) { add(.macAddress, $0.range) }
        each(btcLegacy) { match in
            if base58CheckValid(ns.substring(with: match.range)) { add(.cryptoAddress, match.range) }
        }
        if lower.contains("bc1") { each(btcBech32) { match in
            if bech32Valid(ns.substring(with: match.range)) { add(.cryptoAddress, match.range) }
        } }
        if lower.contains("0x") { each(eth) { add(.cryptoAddress, $0.range) } }
        let birthCue = lower.contains("born") || lower.contains("dob") || lower.contains("d.o.b") || lower.contains("birth")
        if birthCue { each(date) { match in
            let before = ns.substring(with: NSRange(location: max(0, match.range.location - 40), length: min(40, match.range.location)))
            if birthContext.firstMatch(in: before, range: NSRange(location: 0, length: (before as NSString).length)) != nil {
                add(.dateOfBirth, match.range)
            }
        } }
        each(streetAddress) { add(.address, $0.range) }
        each(stateZip) { add(.zipCode, $0.range(at: 1)) }
        each(zipContext) { add(.zipCode, $0.range(at: 1)) }
        each(organization) { add(.organization, $0.range) }
        return findings
    }

    static func luhn(_ digits: String) -> Bool {
        var sum = 0
        for (index, character) in digits.reversed().enumerated() {
            guard var value = character.wholeNumberValue else { return false }
            if index % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    static func ibanValid(_ text: String) -> Bool {
        let compact = text.replacingOccurrences(of: " ", with: "").uppercased()
        guard (15...34).contains(compact.count) else { return false }
        let rearranged = compact.dropFirst(4) + compact.prefix(4)
        var remainder = 0
        for character in rearranged {
            let value: Int
            if let digit = character.wholeNumberValue {
                value = digit
            } else if let ascii = character.asciiValue, (65...90).contains(ascii) {
                value = Int(ascii) - 55
            } else {
                return false
            }
            remainder = (value > 9 ? remainder * 100 + value : remainder * 10 + value) % 97
        }
        return remainder == 1
    }

    static let base58Alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

    static func base58CheckValid(_ text: String) -> Bool {
        var bytes: [UInt8] = [0]
        for character in text {
            guard let digit = base58Alphabet.firstIndex(of: character) else { return false }
            var carry = digit
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
        let leadingZeros = text.prefix { $0 == "1" }.count
        let decoded = Array(repeating: UInt8(0), count: leadingZeros) + Array(bytes.drop { $0 == 0 })
        guard decoded.count == 25 else { return false }
        let payload = decoded.prefix(21)
        let checksum = Array(SHA256.hash(data: Array(SHA256.hash(data: Array(payload))))).prefix(4)
        return Array(decoded.suffix(4)) == Array(checksum)
    }

    static func bech32Valid(_ text: String) -> Bool {
        let lower = text.lowercased()
        guard let separator = lower.lastIndex(of: "1") else { return false }
        let charset = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l")
        let hrp = lower[..<separator]
        var values: [Int] = hrp.unicodeScalars.map { Int($0.value) >> 5 } + [0] + hrp.unicodeScalars.map { Int($0.value) & 31 }
        for character in lower[lower.index(after: separator)...] {
            guard let value = charset.firstIndex(of: character) else { return false }
            values.append(value)
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
