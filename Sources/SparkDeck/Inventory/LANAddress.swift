/// Whether a service address stays on the LAN: the egress rule for audio, speech and embedding upstreams, whose
/// requests carry recordings, transcripts and documents. Decided from the address text alone (no DNS), so a name
/// counts only when it cannot be a public one. Pure.
public enum LANAddress {
    public static func isLAN(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if let octets = ipv4(name) { return isPrivate(octets) }
        if name.contains(":") { return isPrivateIPv6(name) }
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        // A single-label name resolves only through the LAN's own resolver; these suffixes are reserved for local use
        // (RFC 8375 home.arpa, ICANN's .internal, the common .lan).
        if !name.contains(".") { return !name.isEmpty }
        return [".home.arpa", ".internal", ".lan", ".localdomain"].contains { name.hasSuffix($0) }
    }

    static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { part -> Int? in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = Int(part), value <= 255 else { return nil }
            return value
        }
        return octets.count == 4 ? octets : nil
    }

    static func isPrivate(_ o: [Int]) -> Bool {
        switch (o[0], o[1], o[2]) {
        case (10, _, _), (127, _, _): true
        case (172, 16...31, _), (192, 168, _), (169, 254, _): true
        // Shared address space (carrier-grade NAT, and the tailnets that use it): not reachable from the internet.
        case (100, 64...127, _): true
        // The documentation networks (RFC 5737) are routed nowhere, so nothing sent there leaves the LAN either.
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): true
        default: false
        }
    }

    static func isPrivateIPv6(_ text: String) -> Bool {
        if text == "::1" { return true }
        guard let first = text.split(separator: ":", omittingEmptySubsequences: false).first, let value = UInt16(first, radix: 16) else {
            return false
        }
        // fc00::/7 unique local, fe80::/10 link-local.
        return value & 0xFE00 == 0xFC00 || value & 0xFFC0 == 0xFE80
    }
}
