/// A read-only set of lowercase words, each with a one-byte value, looked up straight from text bytes (ASCII case
/// folded while hashing): no `String` is made per word of the text. Open addressing, FNV-1a; each slot packs the
/// hash's top half with the entry, and each entry packs where its key is, so a lookup touches few cache lines.
struct WordTable: Sendable {
    /// Per slot: hash >> 32 in the high half, entry index + 1 in the low half (0 = empty).
    private var slots: [UInt64]
    /// Per entry: key start in `keys` (high 32 bits), key length (bits 8-15), value (bits 0-7).
    private var entries: [UInt64] = []
    private var keys: [UInt8] = []
    private let mask: Int

    init(_ words: [String: UInt8]) {
        var capacity = 16
        while capacity < words.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = [UInt64](repeating: 0, count: capacity)
        for (word, value) in words {
            let bytes = Array(word.utf8)
            guard bytes.count < 256 else { continue }
            let hash = Self.hash(bytes[...])
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            entries.append(UInt64(keys.count) << 32 | UInt64(bytes.count) << 8 | UInt64(value))
            slots[slot] = (hash >> 32) << 32 | UInt64(entries.count)
            keys += bytes
        }
    }

    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in bytes { hash = (hash ^ UInt64(byte.asciiLowercased)) &* 0x100000001b3 }
        return hash
    }

    /// The value for the word in `bytes[range]`, compared with ASCII case folded; `hash` must be `hash(bytes[range])`.
    func value(_ bytes: [UInt8], _ range: Range<Int>, hash: UInt64) -> UInt8? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let high = hash >> 32
        while true {
            let packed = slots[slot]
            if packed == 0 { return nil }
            if packed >> 32 == high {
                let entry = entries[Int(packed & 0xFFFF_FFFF) - 1]
                let length = Int((entry >> 8) & 0xFF)
                if length == range.count {
                    let start = Int(entry >> 32)
                    var equal = true
                    for offset in 0..<length where keys[start + offset] != bytes[range.lowerBound + offset].asciiLowercased {
                        equal = false
                        break
                    }
                    if equal { return UInt8(entry & 0xFF) }
                }
            }
            slot = (slot + 1) & mask
        }
    }
}
