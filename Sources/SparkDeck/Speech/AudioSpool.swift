import Foundation

/// The data folder's `spool/`: one private folder per audio job, holding the upload as it arrived and the audio
/// ffmpeg decoded from it. A job's folder lives as long as the job is unfinished, so a restart can resume it.
public struct AudioSpool: Sendable {
    public let root: String

    public init(dataDirectory: String) throws {
        root = (dataDirectory as NSString).appendingPathComponent("spool")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root)
    }

    /// A job's folder (made 0700 when missing).
    public func folder(for id: String) throws -> String {
        let path = (root as NSString).appendingPathComponent(id)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }

    public func uploadPath(for id: String) -> String { (root as NSString).appendingPathComponent("\(id)/upload") }

    public func hasUpload(for id: String) -> Bool { FileManager.default.fileExists(atPath: uploadPath(for: id)) }

    public func remove(_ id: String) {
        try? FileManager.default.removeItem(atPath: (root as NSString).appendingPathComponent(id))
    }

    /// Removes every folder but those of `keep` (start-up: what a crash left behind for no job).
    public func removeAll(except keep: Set<String>) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for entry in entries where !keep.contains(entry) { remove(entry) }
    }

    /// The folders in the spool now.
    public func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
    }
}
