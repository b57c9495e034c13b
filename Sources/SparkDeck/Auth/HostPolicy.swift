import Foundation

/// Which `Host` and `Origin` values SparkDeck answers, against DNS rebinding and cross-site requests.
///
/// DNS rebinding needs a name the attacker's DNS controls: a browser that loaded the attacker's page from
/// `rebind.evil.example` is later pointed at SparkDeck's address and sends `Host: rebind.evil.example`. So every
/// request must name SparkDeck by an IP address (no DNS: nothing to rebind), a name no public DNS answers for
/// (`localhost`, one without a dot like a Docker service name, `.local` (mDNS), `.lan`, `.home.arpa`, `.internal`,
/// `.localhost`, `.onion`), this machine's host name, or a name the owner listed (`--allowed-host`).
///
/// A browser page of another site can still send requests (a form post, a cross-origin `fetch` or `EventSource`);
/// it then says who it is in `Origin`. A request with an `Origin` is served only when that origin is SparkDeck's
/// own (the host and port the request was sent to) or a listed name.
public struct HostPolicy: Sendable, Equatable {
    /// Names the owner listed, lowercased; `.example.lan` also admits every name under it; `*` admits any.
    public let listed: [String]
    /// Names this machine goes by (its host name, the address SparkDeck binds when it is a name).
    public let own: [String]

    /// Names under these resolve only inside the owner's network (or Tor): no outside DNS can answer for them.
    static let privateSuffixes = [".local", ".lan", ".home.arpa", ".internal", ".localhost", ".onion"]

    public init(listed: [String] = [], own: [String] = []) {
        self.listed = listed.map { Self.normalized($0) }.filter { !$0.isEmpty }
        self.own = own.map { Self.normalized($0) }.filter { !$0.isEmpty }
    }

    /// The policy for a server bound to `bindAddress`, with this machine's host name.
    public static func forServer(bindAddress: String, listed: [String]) -> HostPolicy {
        var buffer = [CChar](repeating: 0, count: 256)
        var own = [bindAddress]
        if gethostname(&buffer, buffer.count) == 0 {
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            own.append(name)
        }
        return HostPolicy(listed: listed, own: own)
    }

    /// Whether a request sent with `Host: host` (`name`, `name:port`, `[v6]:port`) is answered.
    public func allowsHost(_ host: String) -> Bool {
        guard let name = Self.split(host)?.name else { return false }
        return allowsName(name)
    }

    func allowsName(_ name: String) -> Bool {
        if listed.contains("*") { return true }
        if Self.isIPAddress(name) { return true }
        if !name.contains(".") || Self.privateSuffixes.contains(where: name.hasSuffix) { return true }
        if own.contains(name) || own.contains(where: { name == $0 + ".local" }) { return true }
        return isListed(name)
    }

    private func isListed(_ name: String) -> Bool {
        listed.contains { $0.hasPrefix(".") ? name.hasSuffix($0) || name == String($0.dropFirst()) : name == $0 }
    }

    /// Whether a request with `Origin: origin`, sent with `Host: host`, is answered: the origin is this server's
    /// own, or listed. `Origin: null` (a sandboxed frame, a file) is never SparkDeck's.
    public func allowsOrigin(_ origin: String, host: String?) -> Bool {
        if listed.contains("*") { return true }
        guard let components = URLComponents(string: origin), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let originName = components.host.map({ Self.normalized($0) })
        else { return false }
        let originPort = components.port ?? (scheme == "https" ? 443 : 80)
        if isListed(originName) { return true }
        guard let host, let target = Self.split(host), target.name == originName else { return false }
        // Behind a TLS proxy the browser's port is not ours: without a port in Host, either default port matches.
        if let port = target.port { return port == originPort }
        return originPort == 80 || originPort == 443
    }

    /// `name` and port of a Host value; nil when it is not one.
    static func split(_ host: String) -> (name: String, port: Int?)? {
        let host = host.trimmingCharacters(in: .whitespaces)
        guard !host.isEmpty else { return nil }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let name = String(host[host.index(after: host.startIndex)..<close])
            let rest = host[host.index(after: close)...]
            if rest.isEmpty { return (normalized(name), nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (normalized(name), port)
        }
        let pieces = host.split(separator: ":", omittingEmptySubsequences: false)
        switch pieces.count {
        case 1: return (normalized(host), nil)
        case 2:
            guard let port = Int(pieces[1]) else { return nil }
            return (normalized(String(pieces[0])), port)
        default:
            // A bare IPv6 address (not valid in Host, but unambiguous).
            return isIPAddress(host) ? (normalized(host), nil) : nil
        }
    }

    static func normalized(_ name: String) -> String {
        var name = name.trimmingCharacters(in: .whitespaces).lowercased()
        if name.hasSuffix("."), name.count > 1 { name.removeLast() }
        return name
    }

    static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
