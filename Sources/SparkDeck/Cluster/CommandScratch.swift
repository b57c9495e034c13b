import Foundation

/// The folder where a command's output is written while it runs (`<data>/command-output`): the owner's alone (0700,
/// files 0600), not the shared `/tmp`, since an action's output can hold anything its command printed. Emptied at
/// start-up: a file left there was written for a SparkDeck that was killed.
public enum CommandScratch {
    static let folderName = "command-output"

    /// The folder's path in `dataDirectory`, made (0700) if missing; nothing is removed.
    public static func folder(in dataDirectory: String) throws -> String {
        let path = (dataDirectory as NSString).appendingPathComponent(folderName)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // A folder from before (or made by hand) is closed to others too.
        guard chmod(path, 0o700) == 0 else {
            throw CommandRunnerError.couldNotStart("cannot make \(path) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
        return path
    }

    /// The folder, emptied of what an earlier run left: call once at start-up, before any command runs.
    public static func prepare(dataDirectory: String) throws -> String {
        let path = try folder(in: dataDirectory)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            try? FileManager.default.removeItem(atPath: (path as NSString).appendingPathComponent(name))
        }
        return path
    }
}
