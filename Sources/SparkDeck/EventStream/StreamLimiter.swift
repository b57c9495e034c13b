import Synchronization

/// Caps the event streams open at once, per client address and in total: each open stream holds a connection
/// and a subscription, so an unbounded number would let one client use up the server.
public final class StreamLimiter: Sendable {
    public let perClient: Int
    public let total: Int
    private let open = Mutex<(total: Int, byClient: [String: Int])>((0, [:]))

    public init(perClient: Int = 32, total: Int = 256) {
        self.perClient = perClient
        self.total = total
    }

    /// Why a stream was not opened.
    public enum Refusal: Error, Equatable {
        case clientFull, serverFull
    }

    /// A place for one stream of `client`, given back when the ticket is dropped (the stream ended, or its
    /// response was never written).
    public func acquire(client: String) throws(Refusal) -> Ticket {
        let refusal: Refusal? = open.withLock { state in
            if state.total >= total { return .serverFull }
            if state.byClient[client, default: 0] >= perClient { return .clientFull }
            state.total += 1
            state.byClient[client, default: 0] += 1
            return nil
        }
        if let refusal { throw refusal }
        return Ticket(limiter: self, client: client)
    }

    public var openCount: Int { open.withLock { $0.total } }

    fileprivate func release(_ client: String) {
        open.withLock { state in
            state.total -= 1
            let left = state.byClient[client, default: 1] - 1
            state.byClient[client] = left > 0 ? left : nil
        }
    }

    /// One open stream's place.
    public final class Ticket: Sendable {
        private let limiter: StreamLimiter
        private let client: String

        fileprivate init(limiter: StreamLimiter, client: String) {
            self.limiter = limiter
            self.client = client
        }

        deinit { limiter.release(client) }
    }
}

extension StreamLimiter.Refusal {
    /// The refusal in the OpenAI envelope: 429 with a `Retry-After`.
    func apiError(_ limiter: StreamLimiter) -> APIError {
        var error = APIError(
            .tooManyRequests, type: "rate_limit_error", code: "too_many_streams",
            message: self == .clientFull
                ? "This client already has \(limiter.perClient) event streams open, the most SparkDeck allows one address; close one (another tab?) first."
                : "SparkDeck already has \(limiter.total) event streams open, the most it serves at once; try again shortly.")
        error.headers[.retryAfter] = "5"
        return error
    }
}
