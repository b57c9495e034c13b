import Crypto

extension PatternDetectors {
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
        let leadingZeros = text.prefix { $0 == UInt8(ascii: "1") }.count
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
        guard let separator = lower.lastIndex(of: UInt8(ascii: "1")) else { return false }
        let hrp = lower[..<separator]
        var values: [Int] = hrp.map { Int($0) >> 5 } + [0] + hrp.map { Int($0) & 31 }
        for byte in lower[(separator + 1)...] {
            let value = bech32Values[Int(byte)]
            guard value >= 0 else { return false }
            values.append(Int(value))
        }
        let generator = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ffffff) << 5 ^ value
            for bit in 0..<5 where (top >> bit) & 1 == 1 { checksum ^= generator[bit] }
        }
        return checksum == 1 || checksum == 0x2bc8_30a3
    }
}

extension PatternScanner {
    /// Whole words: Bitcoin base58check (`1...`, `3...`) and bech32 (`bc1...`) with their checksums, Ethereum `0x` + 40 hex.
    mutating func cryptoWord(at index: Int) -> Int? {
        let end = t.end(from: index, while: \.isWord)
        let length = end - index
        // Most words are too short to be an address: no slice is taken for them.
        guard length >= 14 else { return end }
        if (26...35).contains(length), t[index] == UInt8(ascii: "1") || t[index] == UInt8(ascii: "3"),
            t.bytes[index..<end].allSatisfy({ PatternDetectors.base58Digits[Int($0)] >= 0 }),
            PatternDetectors.base58CheckValid(t.bytes[index..<end])
        {
            add(.cryptoAddress, index..<end)
        } else if (14...74).contains(length), t.matches("bc1", at: index), PatternDetectors.bech32Valid(t.bytes[index..<end]) {
            add(.cryptoAddress, index..<end)
        } else if length == 42, t[index] == UInt8(ascii: "0"), t[index + 1] == UInt8(ascii: "x"),
            t.bytes[(index + 2)..<end].allSatisfy(\.isHex)
        {
            add(.cryptoAddress, index..<end)
        }
        return end
    }
}
