import Foundation
import Synchronization

/// What a command printed and how it ended.
public struct CommandResult: Sendable, Equatable {
    public var exitCode: Int32
    /// Standard output and standard error together, as the command wrote them.
    public var output: String

    public var succeeded: Bool { exitCode == 0 }
}

/// Why a command could not be run to its end, in words for the owner.
public enum CommandRunnerError: Error, Equatable, CustomStringConvertible {
    case timedOut(after: Duration, command: String)
    case couldNotStart(String)
    case commandNotFound(node: String, output: String)
    case authRefused(node: String, detail: String)
    case unreachable(node: String, detail: String)
    case hostKeyChanged(node: String, knownHosts: String)
    case sshFailed(node: String, detail: String)

    public var description: String {
        switch self {
        case .timedOut(let after, let command): "timed out after \(after): \(command)"
        case .couldNotStart(let reason): "could not start the command: \(reason)"
        case .commandNotFound(let node, let output): "command not found on \(node): \(output)"
        case .authRefused(let node, let detail):
            "\(node) refused SSH authentication (\(detail)); add SparkDeck's public key to the node's authorized_keys"
        case .unreachable(let node, let detail): "\(node) is unreachable over SSH: \(detail)"
        case .hostKeyChanged(let node, let knownHosts):
            "\(node)'s SSH host key changed; if the node was reinstalled, remove its old key from \(knownHosts), otherwise treat it as an attack"
        case .sshFailed(let node, let detail): "SSH to \(node) failed: \(detail)"
        }
    }
}

/// Runs a rendered inventory command on one node.
public protocol CommandRunner: Sendable {
    /// Runs `command` to its end. A non-zero exit is a result, not an error; failing to reach the node is an error.
    func run(_ command: String, timeout: Duration) async throws -> CommandResult
    /// Runs `command` and yields its output line by line until it exits; dropping the stream stops it.
    func follow(_ command: String) -> AsyncThrowingStream<String, any Error>
}

/// A command line run as a child process, shared by the local and the SSH runner.
struct ProcessCommand: Sendable {
    let argv: [String]
    /// Turns an ended command into the error it means (unreachable node, command not found), if any.
    let interpret: @Sendable (CommandResult) -> CommandRunnerError?

    func run(timeout: Duration, scratch: String) async throws -> CommandResult {
        let outputPath = (scratch as NSString).appendingPathComponent("sparkdeck-cmd-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process: SpawnedProcess
        do {
            process = try await SpawnedProcess.start(
                argv[0], arguments: Array(argv.dropFirst()),
                output: .file(outputPath, truncate: true), stopGrace: .seconds(1))
        } catch {
            throw CommandRunnerError.couldNotStart("\(error)")
        }
        let status = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { try await process.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            if first == nil { await process.stop() }
            return first
        }
        guard let status else { throw CommandRunnerError.timedOut(after: timeout, command: argv.last ?? "") }
        let result = CommandResult(exitCode: status, output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
        if let error = interpret(result) { throw error }
        return result
    }

    func follow() -> AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                let tail = LastLines()
                let process: SpawnedProcess
                do {
                    process = try await SpawnedProcess.start(
                        argv[0], arguments: Array(argv.dropFirst()),
                        output: .lines { line in
                            tail.append(line)
                            continuation.yield(line)
                        })
                } catch {
                    continuation.finish(throwing: CommandRunnerError.couldNotStart("\(error)"))
                    return
                }
                do {
                    let status = try await withTaskCancellationHandler {
                        try await process.waitForExit()
                    } onCancel: {
                        process.terminate()
                    }
                    let result = CommandResult(exitCode: status, output: tail.text)
                    if let error = interpret(result) { continuation.finish(throwing: error) } else { continuation.finish() }
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// The last lines a followed command printed, to say why it failed.
private final class LastLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0 = Array(($0 + [line]).suffix(5)) } }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
}

/// Runs commands on this machine with `/bin/sh -c` (transport `local`; demo mode uses it).
public struct LocalCommandRunner: CommandRunner {
    let node: String
    let scratchDirectory: String

    public init(node: String = "localhost", scratchDirectory: String = NSTemporaryDirectory()) {
        self.node = node
        self.scratchDirectory = scratchDirectory
    }

    private func command(_ text: String) -> ProcessCommand {
        let node = self.node
        return ProcessCommand(argv: ["/bin/sh", "-c", text]) { result in
            result.exitCode == 127
                ? .commandNotFound(node: node, output: result.output.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
        }
    }

    public func run(_ command: String, timeout: Duration) async throws -> CommandResult {
        try await self.command(command).run(timeout: timeout, scratch: scratchDirectory)
    }

    public func follow(_ command: String) -> AsyncThrowingStream<String, any Error> {
        self.command(command).follow()
    }
}
