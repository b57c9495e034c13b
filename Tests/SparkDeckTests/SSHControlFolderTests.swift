import Foundation
import Testing

@testable import SparkDeck

@Suite("SSH control folder")
struct SSHControlFolderTests {
    /// A long data path puts the control sockets under a /tmp name anyone can compute: SparkDeck uses that folder
    /// only while it is its own and closed to others.
    @Test func aControlFolderOthersCanWriteIsRefused() throws {
        let ssh = try TestSupport.temporaryDirectory() + "/" + String(repeating: "long-data-path-", count: 5) + "ssh"
        let folder = try SSHCommandRunner.controlDirectory(for: ssh)
        #expect(folder.hasPrefix("/tmp/sparkdeck-cm-"))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try SSHCommandRunner.controlDirectory(for: ssh) == folder, "its own folder is used again")

        chmod(folder, 0o777)
        #expect(throws: CommandRunnerError.self) { try SSHCommandRunner.controlDirectory(for: ssh) }

        try FileManager.default.removeItem(atPath: folder)
        let elsewhere = try TestSupport.temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: folder, withDestinationPath: elsewhere)
        #expect(throws: CommandRunnerError.self, "a link planted in its place") { try SSHCommandRunner.controlDirectory(for: ssh) }
    }
}
