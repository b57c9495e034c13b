import Foundation

extension PatternScanner {
    /// Four dotted octets (0-255, no leading zeros), not part of a longer dotted number.
    mutating func ipv4(at index: Int) -> Int? {
        guard t[index - 1] != .dot else { return nil }
        var p = index
        var octets = 0
        while octets < 4 {
            let end = t.digitsEnd(from: p)
            let length = end - p
            guard (1...3).contains(length), length == 1 || t[p] != UInt8(ascii: "0") else { break }
            let value = t.bytes[p..<end].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { break }
            octets += 1
            p = end
            if octets < 4 {
                guard t[p] == .dot else { break }
                p += 1
            }
        }
        guard octets == 4, !t[p].isDigit, !(t[p] == .dot && t[p + 1].isDigit) else { return nil }
        add(.ipAddress, index..<p)
        return p
    }

    /// A run of hex digits and colons with at least two colons (and an optional `%zone`) that inet_pton accepts; when
    /// it does not, the run without its first group or its leading lone colon, which a label glued on (`IP:`, `ipv6:`)
    /// leaves there. Tried at every colon (the runs looked at are at most 64 bytes each way), so a run that is no
    /// address does not hide one that starts at a later colon.
    mutating func ipv6(at index: Int) -> Int? {
        var start = index
        while start > 0, index - start < 64, t[start - 1].isHex || t[start - 1] == .colon { start -= 1 }
        var end = index
        while end < t.count, end - index < 64, t[end].isHex || t[end] == .colon { end += 1 }
        guard !(t[start - 1].isHex || t[start - 1] == .colon), !(t[end].isHex || t[end] == .colon) else { return nil }
        var stop = end
        if t[end] == .percent, t[end + 1].isWord { stop = t.end(from: end + 1, while: \.isWord) }
        guard !(t[stop].isHex || t[stop] == .colon) else { return nil }
        if ipv6Valid(start..<end) {
            add(.ipAddress, start..<stop)
            return stop
        }
        let firstColon = t.end(from: start) { $0 != .colon }
        let rest = firstColon + 1
        guard t[firstColon] == .colon, t[rest] != .colon, rest < end, ipv6Valid(rest..<end) else { return nil }
        add(.ipAddress, rest..<stop)
        return stop
    }

    /// Two to seven colons, and inet_pton accepts it.
    func ipv6Valid(_ range: Range<Int>) -> Bool {
        var colons = 0
        for position in range where t.bytes[position] == .colon { colons += 1 }
        guard colons >= 2, colons <= 7 else { return false }
        var address = in6_addr()
        return inet_pton(AF_INET6, t.string(range), &address) == 1
    }
}
