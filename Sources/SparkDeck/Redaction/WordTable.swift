/// A read-only set of lowercase words, each with a one-byte value, looked up straight from text bytes (ASCII case
/// folded while hashing): no `String` is made per word of the text. Open addressing with FNV-1a; each 16-byte slot
/// holds the key's first eight bytes and its tag, length and value, so most lookups read one cache line.
struct WordTable: Sendable {
    /// Two words per slot: the key's first eight bytes (packed, little end first), then
    /// tag (hash >> 40, 24 bits) | length (8) | value (8) | start of the key's bytes after the eighth in `tails` (24).
    /// A zero second word is an empty slot.
    private var slots: [UInt64]
    private var tails: [UInt8] = []
    private let mask: Int

    /// An empty table for about `expected` words.
    init(expected: Int) {
        var capacity = 16
        while capacity < expected * 5 / 4 { capacity <<= 1 }
        mask = capacity - 1
        slots = [UInt64](repeating: 0, count: capacity * 2)
    }

    /// Adds a lowercase word, or ORs `value` into the value it has.
    mutating func insert(_ bytes: [UInt8], _ range: Range<Int>, value: UInt8) {
        let length = range.count
        guard length > 0, length < 256, tails.count < 1 << 24 else { return }
        let hash = Self.hash(bytes[range])
        let head = Self.packed(bytes, range)
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot * 2 + 1] != 0 {
            let meta = slots[slot * 2 + 1]
            if meta >> 40 == hash >> 40, Int((meta >> 32) & 0xFF) == length, slots[slot * 2] == head,
                length <= 8
                    || tails[Int(meta & 0xFF_FFFF)..<(Int(meta & 0xFF_FFFF) + length - 8)].elementsEqual(
                        bytes[(range.lowerBound + 8)..<range.upperBound])
            {
                slots[slot * 2 + 1] = meta | UInt64(value) << 24
                return
            }
            slot = (slot + 1) & mask
        }
        slots[slot * 2] = head
        slots[slot * 2 + 1] = (hash >> 40) << 40 | UInt64(length) << 32 | UInt64(value) << 24 | UInt64(tails.count)
        if length > 8 { tails += bytes[(range.lowerBound + 8)..<range.upperBound] }
    }

    /// Adds each line of a newline-separated lowercase list.
    mutating func insertLines(_ text: [UInt8], value: UInt8) {
        var start = 0
        for index in 0...text.count where index == text.count || text[index] == 10 {
            var end = index
            if end > start, text[end - 1] == 13 { end -= 1 }
            if end > start { insert(text, start..<end, value: value) }
            start = index + 1
        }
    }

    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte.asciiLowercased)) &* 0x100_0000_01b3 }
        return hash
    }

    /// The first eight bytes of a word, ASCII-lowercased, packed into one integer.
    @inline(__always) static func packed(_ bytes: [UInt8], _ range: Range<Int>) -> UInt64 {
        var packed: UInt64 = 0
        for offset in 0..<min(8, range.count) { packed |= UInt64(bytes[range.lowerBound + offset].asciiLowercased) << (8 * offset) }
        return packed
    }

    /// The value for the word in `bytes[range]`, compared with ASCII case folded; `hash` must be `hash(bytes[range])`.
    func value(_ bytes: [UInt8], _ range: Range<Int>, hash: UInt64) -> UInt8? {
        let length = range.count
        guard length > 0, length < 256 else { return nil }
        let head = Self.packed(bytes, range)
        let tag = hash >> 40
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let meta = slots[slot * 2 + 1]
            if meta == 0 { return nil }
            if meta >> 40 == tag, Int((meta >> 32) & 0xFF) == length, slots[slot * 2] == head {
                if length <= 8 { return UInt8((meta >> 24) & 0xFF) }
                let start = Int(meta & 0xFF_FFFF)
                var equal = true
                for offset in 8..<length where tails[start + offset - 8] != bytes[range.lowerBound + offset].asciiLowercased {
                    equal = false
                    break
                }
                if equal { return UInt8((meta >> 24) & 0xFF) }
            }
            slot = (slot + 1) & mask
        }
    }
}
