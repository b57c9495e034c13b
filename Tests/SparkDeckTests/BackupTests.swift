import Foundation
import Testing

@testable import SparkDeck

@Suite("Backups that restore")
struct BackupTests {
    @Test func aBackupTakenWhileServingRestoresIntoANewFolderWithEverythingIntact() async throws {
        let data = try TestSupport.temporaryDirectory()
        let store = try Store(dataDirectory: data)
        let swaps = SwapStore(store: store)
        try await swaps.save(SwapRecord(model: "demo-large", fromModel: "demo-small", expectedSeconds: 20, at: Timestamp.now()))
        let log = ConnectivityLog(store: store)
        let now = Timestamp.now()
        _ = try await log.record(
            target: "asr", kind: .service, transition: .init(from: .up, to: .down, at: now - 5, cause: "refused", outage: .started))
        _ = try await log.record(
            target: "asr", kind: .service, transition: .init(from: .down, to: .up, at: now, cause: nil, outage: .ended(startedAt: now - 5)))
        let (key, _) = try await APIKeyStore(store: store).create(name: "notes", scopes: [.chat])
        let vault = try PlaceholderVault(store: store, dataDirectory: data)
        let scrubber = Scrubber(names: try PersonNameDetector.bundled(), standingTerms: [])
        var session = ScrubSession(id: "backup-session", expiresAt: now + 3600)
        let scrubbed = scrubber.scrub("Write to maria.gonzalez@example.com today.", session: &session)
        try await vault.save(session)

        // Taken with the store open and written to, as a running SparkDeck's is.
        let writer = Task {
            for index in 0..<50 {
                _ = try await log.record(
                    target: "tts", kind: .service,
                    transition: .init(from: .up, to: .loading, at: now + Double(index), cause: "busy", outage: nil))
            }
        }
        let folder = try TestSupport.temporaryDirectory() + "/backup"
        let written = try Backup.write(dataDirectory: data, to: folder)
        try await writer.value
        #expect(written.count("swap") == 1)
        #expect(written.count("api_key") == 1)
        #expect(written.count("scrub_session") == 1)
        #expect(written.count("outage") == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/sparkdeck.sqlite")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600, "a backup holds key hashes and sessions: the owner's alone")
        #expect(throws: Backup.Failure.self) { try Backup.write(dataDirectory: data, to: folder) }

        let restoredData = try TestSupport.temporaryDirectory() + "/restored"
        let restored = try Backup.restore(from: folder, to: restoredData)
        #expect(restored == written)
        let again = try Store(dataDirectory: restoredData)
        #expect(try await SwapStore(store: again).history(limit: 10).map(\.model) == ["demo-large"])
        let outages = try await ConnectivityLog(store: again).outages(since: now - 60)
        #expect(outages.map(\.target) == ["asr"])
        #expect(await APIKeyStore(store: again).lookup(key)?.name == "notes", "the key still opens the API")
        let reopened = try PlaceholderVault(store: again, dataDirectory: restoredData)
        let kept = try #require(try await reopened.session("backup-session"), "the session opens with the restored vault key")
        #expect(Rehydrator.rehydrate(scrubbed.text, session: kept).text == "Write to maria.gonzalez@example.com today.")
        #expect(throws: Backup.Failure.self, "a folder with a store is not overwritten") {
            try Backup.restore(from: folder, to: restoredData)
        }
    }

    @Test func aFolderWithoutAStoreIsNotBackedUp() throws {
        let empty = try TestSupport.temporaryDirectory()
        #expect(throws: Backup.Failure.self) { try Backup.write(dataDirectory: empty, to: empty + "/backup") }
        #expect(!FileManager.default.fileExists(atPath: empty + "/backup/sparkdeck.sqlite"))
    }
}
