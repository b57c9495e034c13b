import Foundation

/// Text prepared for detection, as UTF-8 bytes: zero-width characters removed, NFKC applied to each character
/// (full-width `＠` becomes `@`, a decomposed `e` + U+0301 becomes `é`), common homoglyphs folded (Cyrillic `о` becomes
/// `o`), curly apostrophes made straight. Every byte of the result remembers the bytes of the original it came from,
/// so a span found here maps back exactly.
public struct NormalizedText: Sendable {
    /// The original's UTF-8 bytes.
    public let originalBytes: [UInt8]
    /// The normalized UTF-8 bytes the detectors read.
    public let bytes: [UInt8]
    /// For each normalized byte: the original byte range it came from. Empty when the text is plain ASCII, which
    /// normalizes to itself.
    private let originStarts: [Int32]
    private let originEnds: [Int32]

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    static let zeroWidth: Set<UInt32> = [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E, 0x2061, 0x2062, 0x2063, 0x2064]

    /// Letters from other scripts that look like Latin ones, and punctuation that changes what a pattern sees.
    static let homoglyphs: [UInt32: UInt8] = [
        // Cyrillic
        0x0430: 0x61, 0x0435: 0x65, 0x043E: 0x6F, 0x0440: 0x70, 0x0441: 0x63, 0x0445: 0x78, 0x0443: 0x79, 0x0456: 0x69,
        0x0458: 0x6A, 0x0455: 0x73, 0x0501: 0x64, 0x051B: 0x71, 0x051D: 0x77, 0x04BB: 0x68, 0x0410: 0x41, 0x0412: 0x42,
        0x0415: 0x45, 0x041A: 0x4B, 0x041C: 0x4D, 0x041D: 0x48, 0x041E: 0x4F, 0x0420: 0x50, 0x0421: 0x43, 0x0422: 0x54,
        0x0425: 0x58, 0x0406: 0x49, 0x0408: 0x4A, 0x0405: 0x53,
        // Greek
        0x03BF: 0x6F, 0x03B1: 0x61, 0x03B5: 0x65, 0x03B9: 0x69, 0x03BA: 0x6B, 0x03BD: 0x76, 0x03C1: 0x70, 0x03C4: 0x74,
        0x0391: 0x41, 0x0392: 0x42, 0x0395: 0x45, 0x0396: 0x5A, 0x0397: 0x48, 0x0399: 0x49, 0x039A: 0x4B, 0x039C: 0x4D,
        0x039D: 0x4E, 0x039F: 0x4F, 0x03A1: 0x50, 0x03A4: 0x54, 0x03A5: 0x59, 0x03A7: 0x58,
        // ' - and spaces
        0x2018: 0x27, 0x2019: 0x27, 0x02BC: 0x27, 0x2010: 0x2D, 0x2011: 0x2D, 0x2012: 0x2D, 0x2013: 0x2D, 0x2014: 0x2D,
        0x2212: 0x2D, 0x00A0: 0x20, 0x2007: 0x20, 0x202F: 0x20,
    ]

    public init(_ original: String) {
        self.init(utf8: Array(original.utf8))
    }

    /// Text given as UTF-8 bytes (invalid sequences are read as U+FFFD, as `String(decoding:)` does).
    public init(utf8 originalBytes: [UInt8]) {
        // Most text is ASCII: nothing to fold, and the identity map needs no table.
        if originalBytes.withUnsafeBufferPointer(allASCII) {
            self.originalBytes = originalBytes
            bytes = originalBytes
            originStarts = []
            originEnds = []
            return
        }
        let original = String(decoding: originalBytes, as: UTF8.self)
        self.originalBytes = Array(original.utf8)
        var output: [UInt8] = []
        var starts: [Int32] = []
        var ends: [Int32] = []
        output.reserveCapacity(originalBytes.count)
        starts.reserveCapacity(originalBytes.count)
        ends.reserveCapacity(originalBytes.count)
        var compatible: [UInt32: [UInt8]] = [:]
        var offset = 0
        func emit(_ byte: UInt8, from start: Int, to end: Int) {
            output.append(byte)
            starts.append(Int32(start))
            ends.append(Int32(end))
        }
        // Scalar by scalar, except that a letter and the combining marks after it are normalized together, so they
        // compose (`e` + U+0301 is `é`); every byte made from them maps back to all of them.
        // One pass with one scalar of lookahead: each scalar is decoded once.
        var scalars = original.unicodeScalars.makeIterator()
        var next = scalars.next()
        while let scalar = next {
            let start = offset
            offset += UTF8.width(scalar)
            next = scalars.next()
            var marks: [Unicode.Scalar] = []
            while let mark = next, Self.composesWithPrevious(mark) {
                marks.append(mark)
                offset += UTF8.width(mark)
                next = scalars.next()
            }
            if marks.isEmpty {
                if scalar.isASCII {
                    emit(UInt8(scalar.value), from: start, to: offset)
                } else if let folded = Self.homoglyphs[scalar.value] {
                    emit(folded, from: start, to: offset)
                } else {
                    for byte in Self.normalized(scalar, cache: &compatible) { emit(byte, from: start, to: offset) }
                }
            } else {
                var marked = String.UnicodeScalarView()
                for member in [scalar] + marks where !Self.zeroWidth.contains(member.value) { marked.append(member) }
                for composed in String(marked).precomposedStringWithCompatibilityMapping.unicodeScalars {
                    for byte in Self.normalized(composed, cache: &compatible) { emit(byte, from: start, to: offset) }
                }
            }
        }
        bytes = output
        originStarts = starts
        originEnds = ends
    }

    /// Combining marks (Mn, Mc, Me) and the vowel and final jamo of a decomposed Hangul syllable: what NFC may join
    /// to the character before.
    private static func composesWithPrevious(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.value >= 0x300 else { return false }
        if (0x1160...0x11FF).contains(scalar.value) { return true }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// One scalar's bytes for the detectors: nothing for a zero-width character, the ASCII look-alike of a homoglyph,
    /// else its NFKC form (itself for ASCII and Latin-1 letters).
    private static func normalized(_ scalar: Unicode.Scalar, cache: inout [UInt32: [UInt8]]) -> [UInt8] {
        let value = scalar.value
        if value < 0x80 { return [UInt8(value)] }
        if zeroWidth.contains(value) { return [] }
        if let folded = homoglyphs[value] { return [folded] }
        if (0xC0...0xFF).contains(value) { return Array(String(scalar).utf8) }
        if let cached = cache[value] { return cached }
        var folded: [UInt8] = []
        for s in String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars {
            if let ascii = homoglyphs[s.value] { folded.append(ascii) } else { folded += Array(String(s).utf8) }
        }
        cache[value] = folded
        return folded
    }

    /// The original byte range behind a range of the normalized bytes.
    public func originalRange(of range: Range<Int>) -> Range<Int>? {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bytes.count else { return nil }
        if originStarts.isEmpty { return range }
        return Int(originStarts[range.lowerBound])..<Int(originEnds[range.upperBound - 1])
    }
}
