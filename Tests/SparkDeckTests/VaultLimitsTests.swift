import Foundation
import Testing

@testable import SparkDeck

/// The vault's caps: per session and in all (issue 18: one scrub of 180k emails made a 15.9 MB row).
@Suite("Vault limits")
struct VaultLimitsTests {
    static func session(_ id: String, values: Int) -> ScrubSession {
        var session = ScrubSession(id: id, expiresAt: Timestamp.now() + 60)
        for number in 0..<values { session.values["<EMAIL_\(number)>"] = "person\(number)@example.com" }
        return session
    }

    static func code(_ error: any Error) -> String? { (error as? APIError)?.code }

    @Test func aSessionOverItsCapIsRefusedAndTheStoredOneKept() async throws {
        let data = try TestSupport.temporaryDirectory()
        let vault = try PlaceholderVault(
            store: try Store(dataDirectory: data), dataDirectory: data,
            limits: .init(sessionBytes: 4096, totalBytes: 1 << 20))
        let small = Self.session("vault-limit-session-1", values: 10)
        try await vault.save(small)
        let big = Self.session("vault-limit-session-1", values: 200)
        let error = await #expect(throws: APIError.self) { try await vault.save(big) }
        #expect(error?.status == .contentTooLarge)
        #expect(error?.code == "scrub_session_too_large")
        #expect(try await vault.session("vault-limit-session-1") == small, "the stored session stays as it was")
    }

    @Test func theVaultRefusesWhatWouldTakeItOverItsTotal() async throws {
        let data = try TestSupport.temporaryDirectory()
        let vault = try PlaceholderVault(
            store: try Store(dataDirectory: data), dataDirectory: data,
            limits: .init(sessionBytes: 1 << 20, totalBytes: 6_000))
        try await vault.save(Self.session("vault-limit-total-1", values: 100))
        let error = await #expect(throws: APIError.self) { try await vault.save(Self.session("vault-limit-total-2", values: 100)) }
        #expect(error?.code == "vault_full")
        #expect(try await vault.session("vault-limit-total-2") == nil)
        // Once the first is deleted there is room.
        #expect(try await vault.delete("vault-limit-total-1"))
        try await vault.save(Self.session("vault-limit-total-2", values: 100))
        #expect(try await vault.session("vault-limit-total-2") != nil)
    }
}
