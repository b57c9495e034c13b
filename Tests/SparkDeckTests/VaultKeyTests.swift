import Foundation
import Testing

@testable import SparkDeck

@Suite("Vault key")
struct VaultKeyTests {
    @Test func aNewKeyIsTheOwnersAloneAndIsKeptAcrossStarts() throws {
        let path = (try TestSupport.temporaryDirectory() as NSString).appendingPathComponent("vault.key")
        let first = try PlaceholderVault.loadOrCreateKey(at: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o600)
        let again = try PlaceholderVault.loadOrCreateKey(at: path)
        #expect(first.withUnsafeBytes { Data($0) } == again.withUnsafeBytes { Data($0) })
    }

    @Test func aKeyThatCannotBeReadIsNeverReplaced() throws {
        // A directory stands in for an unreadable file (the tests run as root, who reads any file).
        let path = (try TestSupport.temporaryDirectory() as NSString).appendingPathComponent("vault.key")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        // The error says the key cannot be read: SparkDeck did not try to write a new one in its place.
        #expect { try PlaceholderVault.loadOrCreateKey(at: path) } throws: { error in
            guard case PlaceholderVault.VaultError.cannotReadKey = error else { return false }
            return true
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
