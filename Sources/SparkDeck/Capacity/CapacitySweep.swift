import Foundation

/// One capacity sweep: what was asked, how far it got, what each service measured and the limits it proposes.
/// Stored whole (as JSON) after every level, so a restart loses at most the level that was running.
public struct CapacitySweep: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running, finished, failed, cancelled
    }

    public var id: String
    public var state: State
    public var startedAt: Double
    public var finishedAt: Double?
    /// The most requests in flight tried per service (each service also stops at its knee).
    public var maxConcurrency: Int
    /// Requests each simulated client sends per level.
    public var requestsPerClient: Int
    public var services: [ServiceSweep]
    /// Proposed limits of the admission groups the swept services share.
    public var groups: [GroupProposal] = []
    /// Why the sweep failed or was cancelled.
    public var message: String?
    /// When the proposal was applied (live and to the inventory).
    public var appliedAt: Double?
    /// The last finished sweep before this one, to compare against.
    public var previousID: String?

    enum CodingKeys: String, CodingKey {
        case id, state, services, groups, message
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case maxConcurrency = "max_concurrency"
        case requestsPerClient = "requests_per_client"
        case appliedAt = "applied_at"
        case previousID = "previous_id"
    }

    /// Limits as the inventory writes them.
    public struct Limits: Codable, Sendable, Equatable {
        public var maxInFlight: Int
        public var queue: Int
        public var queueTimeoutMs: Int

        init(_ limits: AdmissionLimits) {
            maxInFlight = limits.maxInFlight
            queue = limits.queueDepth
            queueTimeoutMs = limits.queueTimeoutMs
        }

        enum CodingKeys: String, CodingKey {
            case queue
            case maxInFlight = "max_in_flight"
            case queueTimeoutMs = "queue_timeout_ms"
        }
    }

    /// One service's part of the sweep.
    public struct ServiceSweep: Codable, Sendable, Equatable {
        public enum State: String, Codable, Sendable {
            case pending, running, done, failed, skipped
        }
        public var service: String
        public var kind: String
        /// What each synthetic request carries (`a chat prompt, 64 tokens out`, ...).
        public var payload: String
        public var state: State = .pending
        public var levels: [SweepLevel] = []
        public var knee: Int?
        public var limit: KneeFinder.Limit?
        public var limitedAt: Int?
        /// The limits in force when the sweep started, and the ones it proposes.
        public var current: Limits
        public var proposal: Limits?
        public var message: String?

        enum CodingKeys: String, CodingKey {
            case service, kind, payload, state, levels, knee, limit, current, proposal, message
            case limitedAt = "limited_at"
        }
    }

    public struct GroupProposal: Codable, Sendable, Equatable {
        public var group: String
        public var current: Limits
        public var proposal: Limits
    }
}
