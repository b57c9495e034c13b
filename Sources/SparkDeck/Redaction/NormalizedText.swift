import Foundation

/// Text prepared for detection: zero-width characters removed, NFKC applied (full-width `＠` becomes `@`),
/// common homoglyphs folded (Cyrillic `о` becomes `o`), curly apostrophes made straight. Every UTF-16 unit of the
/// result remembers the range of the original it came from, so a span found here maps back exactly.
public struct NormalizedText: Sendable {
    public let original: String
    public let text: String
    /// For each UTF-16 unit of `text`: the original UTF-16 range it came from.
    private let origins: [Range<Int>]

    static let zeroWidth: Set<UInt32> = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x2061, 0x2062, 0x2063, 0x2064]

    /// Letters from other scripts that look like Latin ones.
    static let homoglyphs: [UInt32: Character] = [
        // Cyrillic
        0x0430: "a", 0x0435: "e", 0x043E: "o", 0x0440: "p", 0x0441: "c", 0x0445: "x", 0x0443: "y", 0x0456: "i",
        0x0458: "j", 0x0455: "s", 0x0501: "d", 0x051B: "q", 0x051D: "w", 0x04BB: "h", 0x0410: "A", 0x0412: "B",
        0x0415: "E", 0x041A: "K", 0x041C: "M", 0x041D: "H", 0x041E: "O", 0x0420: "P", 0x0421: "C", 0x0422: "T",
        0x0425: "X", 0x0406: "I", 0x0408: "J", 0x0405: "S",
        // Greek
        0x03BF: "o", 0x03B1: "a", 0x03B5: "e", 0x03B9: "i", 0x03BA: "k", 0x03BD: "v", 0x03C1: "p", 0x03C4: "t",
        0x0391: "A", 0x0392: "B", 0x0395: "E", 0x0396: "Z", 0x0397: "H", 0x0399: "I", 0x039A: "K", 0x039C: "M",
        0x039D: "N", 0x039F: "O", 0x03A1: "P", 0x03A4: "T", 0x03A5: "Y", 0x03A7: "X",
        // Punctuation that changes what a pattern sees
        0x2018: "'", 0x2019: "'", 0x02BC: "'", 0x2010: "-", 0x2011: "-", 0x2012: "-", 0x2013: "-", 0x2014: "-",
        0x2212: "-", 0x00A0: " ", 0x2007: " ", 0x202F: " ",
    ]

    public init(_ original: String) {
        self.original = original
        var output = String.UnicodeScalarView()
        var origins: [Range<Int>] = []
        origins.reserveCapacity(original.utf16.count)
        var offset = 0
        for scalar in original.unicodeScalars {
            let width = scalar.utf16.count
            let range = offset..<(offset + width)
            offset += width
            if scalar.isASCII {
                output.append(scalar)
                origins.append(range)
                continue
            }
            if Self.zeroWidth.contains(scalar.value) { continue }
            if let folded = Self.homoglyphs[scalar.value] {
                for s in folded.unicodeScalars {
                    output.append(s)
                    origins.append(contentsOf: repeatElement(range, count: s.utf16.count))
                }
                continue
            }
            let compatible = String(scalar).precomposedStringWithCompatibilityMapping
            for s in compatible.unicodeScalars {
                let mapped = Self.homoglyphs[s.value].flatMap(\.unicodeScalars.first) ?? s
                output.append(mapped)
                origins.append(contentsOf: repeatElement(range, count: mapped.utf16.count))
            }
        }
        text = String(output)
        self.origins = origins
    }

    /// The original range (UTF-16) behind a range of the normalized text.
    public func originalRange(of range: NSRange) -> NSRange {
        guard range.length > 0, range.location < origins.count else { return NSRange(location: NSNotFound, length: 0) }
        let start = origins[range.location].lowerBound
        let end = origins[min(range.location + range.length, origins.count) - 1].upperBound
        return NSRange(location: start, length: end - start)
    }
}
