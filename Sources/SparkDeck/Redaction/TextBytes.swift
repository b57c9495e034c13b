/// Read-only UTF-8 text for the detectors: bounds-safe access (0 outside the text, which is no class's member, so
/// look-behind and look-ahead need no range checks) and the byte classes the patterns are written in.
struct TextBytes {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inline(__always) subscript(_ index: Int) -> UInt8 {
        index >= 0 && index < bytes.count ? bytes[index] : 0
    }

    /// The end of the run of ASCII digits that starts at `index`.
    @inline(__always) func digitsEnd(from index: Int) -> Int {
        var end = index
        while end < bytes.count, bytes[end].isDigit { end += 1 }
        return end
    }

    /// The end of the run of bytes that `member` accepts, starting at `index`.
    @inline(__always) func end(from index: Int, while member: (UInt8) -> Bool) -> Int {
        var end = index
        while end < bytes.count, member(bytes[end]) { end += 1 }
        return end
    }

    /// Whether a year of the 1900s or 2000s can start at `index` (`19` or `20`).
    @inline(__always) func centuryOfAYear(at index: Int) -> Bool {
        (self[index] == UInt8(ascii: "1") && self[index + 1] == UInt8(ascii: "9"))
            || (self[index] == UInt8(ascii: "2") && self[index + 1] == UInt8(ascii: "0"))
    }

    func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// Whether the bytes at `index` spell `word`, ignoring ASCII case (`word` is lowercase ASCII).
    func matches(_ word: StaticString, at index: Int) -> Bool {
        guard index >= 0, index + word.utf8CodeUnitCount <= bytes.count else { return false }
        let pointer = word.utf8Start
        for offset in 0..<word.utf8CodeUnitCount where bytes[index + offset].asciiLowercased != pointer[offset] {
            return false
        }
        return true
    }

    /// The Unicode scalar that starts at `index` and its length in bytes (for non-ASCII letters in names).
    func scalar(at index: Int) -> (scalar: Unicode.Scalar, length: Int)? {
        let lead = self[index]
        let length: Int
        var value: UInt32
        switch lead {
        case 0..<0x80: return (Unicode.Scalar(lead), 1)
        case 0xC0..<0xE0:
            length = 2
            value = UInt32(lead & 0x1F)
        case 0xE0..<0xF0:
            length = 3
            value = UInt32(lead & 0x0F)
        case 0xF0..<0xF8:
            length = 4
            value = UInt32(lead & 0x07)
        default: return nil
        }
        for offset in 1..<length {
            let next = self[index + offset]
            guard next & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(next & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }

    /// The length of the non-ASCII letter or combining mark (Unicode L*, Mn, Mc) that starts at `index`, 0 if none.
    func nonASCIILetterLength(at index: Int) -> Int {
        guard self[index] >= 0x80, let (scalar, length) = scalar(at: index) else { return 0 }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .nonspacingMark, .spacingMark:
            return length
        default:
            return 0
        }
    }

    /// Where the character that ends right before `index` starts.
    func scalarStart(before index: Int) -> Int {
        var start = index - 1
        while start > 0, index - start < 4, self[start] & 0xC0 == 0x80 { start -= 1 }
        return start
    }
}

/// Whether every byte is ASCII, eight bytes at a time.
public func allASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    var index = 0
    var high: UInt64 = 0
    while index + 8 <= bytes.count {
        high |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
        index += 8
    }
    while index < bytes.count {
        high |= UInt64(bytes[index])
        index += 1
    }
    return high & 0x8080_8080_8080_8080 == 0
}

extension UInt8 {
    @inline(__always) var isDigit: Bool { self &- 48 < 10 }
    @inline(__always) var isUpper: Bool { self &- 65 < 26 }
    @inline(__always) var isLower: Bool { self &- 97 < 26 }
    @inline(__always) var isAlpha: Bool { (self | 0x20) &- 97 < 26 }
    @inline(__always) var isAlnum: Bool { isDigit || isAlpha }
    @inline(__always) var isHex: Bool { isDigit || (self | 0x20) &- 97 < 6 }
    /// `\s` of the patterns: space, tab, line breaks, form feed, vertical tab.
    @inline(__always) var isSpace: Bool { self == 32 || self &- 9 < 5 }
    /// `[ \t]`
    @inline(__always) var isBlank: Bool { self == 32 || self == 9 }
    /// `\w`: ASCII letters, digits and `_`; any byte of a non-ASCII character counts as a letter.
    @inline(__always) var isWord: Bool { isAlnum || self == 95 || self >= 0x80 }
    @inline(__always) var asciiLowercased: UInt8 { isUpper ? self | 0x20 : self }
}

/// The punctuation the patterns compare bytes against, by name (`t[p] == .dot`).
extension UInt8 {
    static var tab: UInt8 { UInt8(ascii: "\t") }
    static var newline: UInt8 { UInt8(ascii: "\n") }
    static var space: UInt8 { UInt8(ascii: " ") }
    static var quote: UInt8 { UInt8(ascii: "\"") }
    static var hash: UInt8 { UInt8(ascii: "#") }
    static var percent: UInt8 { UInt8(ascii: "%") }
    static var ampersand: UInt8 { UInt8(ascii: "&") }
    static var apostrophe: UInt8 { UInt8(ascii: "'") }
    static var openParen: UInt8 { UInt8(ascii: "(") }
    static var closeParen: UInt8 { UInt8(ascii: ")") }
    static var plus: UInt8 { UInt8(ascii: "+") }
    static var comma: UInt8 { UInt8(ascii: ",") }
    static var hyphen: UInt8 { UInt8(ascii: "-") }
    static var dot: UInt8 { UInt8(ascii: ".") }
    static var slash: UInt8 { UInt8(ascii: "/") }
    static var colon: UInt8 { UInt8(ascii: ":") }
    static var lessThan: UInt8 { UInt8(ascii: "<") }
    static var greaterThan: UInt8 { UInt8(ascii: ">") }
    static var at: UInt8 { UInt8(ascii: "@") }
    static var underscore: UInt8 { UInt8(ascii: "_") }
    static var backtick: UInt8 { UInt8(ascii: "`") }
}
