import Foundation

/// What a command printed and how it ended.
public struct CommandResult: Sendable, Equatable {
    public var exitCode: Int32
    /// Standard output and standard error together, as the command wrote them.
    public var output: String

    public var succeeded: Bool { exitCode == 0 }
}

/// Why a command could not be run to its end.
public enum CommandRunnerError: Error, Equatable, CustomStringConvertible {
    case timedOut(after: Duration, command: String)
    case couldNotStart(String)

    public var description: String {
        switch self {
        case .timedOut(let after, let command): "command timed out after \(after): \(command)"
        case .couldNotStart(let reason): "could not start the command: \(reason)"
        }
    }
}

/// Runs a rendered inventory command on one node.
public protocol CommandRunner: Sendable {
    func run(_ command: String, timeout: Duration) async throws -> CommandResult
}

/// Runs commands on this machine with `/bin/sh -c` (transport `local`; demo mode uses it).
public struct LocalCommandRunner: CommandRunner {
    let scratchDirectory: String

    public init(scratchDirectory: String = NSTemporaryDirectory()) {
        self.scratchDirectory = scratchDirectory
    }

    public func run(_ command: String, timeout: Duration) async throws -> CommandResult {
        let outputPath = (scratchDirectory as NSString).appendingPathComponent("sparkdeck-cmd-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let child: ChildProcess
        do {
            child = try ChildProcess(executable: "/bin/sh", arguments: ["-c", command], outputPath: outputPath, truncate: true)
        } catch {
            throw CommandRunnerError.couldNotStart("\(error)")
        }
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await child.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil { await child.stop(grace: .seconds(1)) }
            return first
        }
        guard let status else { throw CommandRunnerError.timedOut(after: timeout, command: command) }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return CommandResult(exitCode: status, output: output)
    }
}
