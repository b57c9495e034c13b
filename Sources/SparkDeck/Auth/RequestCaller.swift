import Hummingbird

/// Who is calling, for what they own (scrub sessions, audio jobs): the API key's hash; with no key (none are set,
/// or the middleware would have refused the request) the client's IP address, so another machine on the LAN cannot
/// read it either. Nil only where there is no address (a test router).
enum RequestCaller {
    static func of(_ request: Request, context: some RequestContext) -> String? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            let address = context.clientAddress
            return address == "unknown" ? nil : "client:" + address
        }
        return "key:" + APIKeyStore.hash(String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces))
    }
}
