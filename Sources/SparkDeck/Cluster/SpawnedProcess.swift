// swift-subprocess suffices where Foundation's `Process` does not: a command that leaves a background process behind
// (a launch recipe does) holds on to the descriptors it inherited, yet subprocess learns of the exit through a pidfd,
// not through one of them, and stops reading a pipe when the direct child exits, however long a grandchild holds it.
import Foundation
import Subprocess
import Synchronization
import SystemPackage

/// A child process run to its end by swift-subprocess in a task of its own: its pid, signals while it runs, a stop
/// (SIGTERM to its process group, SIGKILL to the group after a grace) and its exit status (128 + N when signal N
/// ended it). The child gets default signal handling, standard input from /dev/null, no descriptors but 0–2, and a
/// process group of its own, so a Ctrl-C in the terminal reaches SparkDeck, which then stops its children in order.
public final class SpawnedProcess: Sendable {
    /// Where the child's standard output and error go, together.
    public enum Output: Sendable {
        /// Appended to (or, with `truncate`, written over) a file.
        case file(String, truncate: Bool)
        /// Cut into lines by `LineSplitter`, each handed to `handler` as it comes, until the process exits.
        case lines(_ handler: @Sendable (String) -> Void)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var executable: String
        public var reason: String
        public var description: String { "cannot start \(executable): \(reason)" }
    }

    public let pid: pid_t
    private let task: Task<Int32, any Error>
    private let state: State

    private init(pid: pid_t, task: Task<Int32, any Error>, state: State) {
        self.pid = pid
        self.task = task
        self.state = state
    }

    /// Starts `executable` (a path; no search) with `arguments`; returns once it runs. `stopGrace` is how long a stop
    /// waits after SIGTERM before SIGKILL.
    public static func start(
        _ executable: String, arguments: [String], output: Output,
        stopGrace: Duration = .seconds(3)
    ) async throws(SpawnError) -> SpawnedProcess {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: stopGrace)]
        let state = State()
        let (spawned, spawnedSink) = AsyncThrowingStream.makeStream(of: pid_t.self)
        let task = Task<Int32, any Error> {
            defer { state.markExited() }
            do {
                let status = try await execute(
                    .path(FilePath(executable)), Arguments(arguments), options, output,
                    started: {
                        spawnedSink.yield($0)
                        spawnedSink.finish()
                    })
                return switch status {
                case .exited(let code): code
                case .signaled(let signal): 128 + signal
                }
            } catch {
                spawnedSink.finish(throwing: error)
                throw error
            }
        }
        // Waited for in a task of its own, so a cancelled caller still gets the process it started and can stop it.
        let pid: pid_t?
        do {
            pid = try await Task {
                var started = spawned.makeAsyncIterator()
                return try await started.next()
            }.value
        } catch {
            throw SpawnError(executable: executable, reason: "\(error)")
        }
        guard let pid else { throw SpawnError(executable: executable, reason: "it did not start") }
        return SpawnedProcess(pid: pid, task: task, state: state)
    }

    private static func execute(
        _ executable: Executable, _ arguments: Arguments, _ options: PlatformOptions,
        _ output: Output, started: (pid_t) -> Void
    ) async throws -> TerminationStatus {
        switch output {
        case .file(let path, let truncate):
            let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0o600)
            guard descriptor >= 0 else { throw Errno(rawValue: errno) }
            return try await Subprocess.run(
                executable, arguments: arguments, platformOptions: options, input: .none,
                output: .fileDescriptor(FileDescriptor(rawValue: descriptor), closeAfterSpawningProcess: true),
                error: .combinedWithOutput
            ) { execution in
                started(execution.processIdentifier.value)
            }.terminationStatus
        case .lines(let handler):
            return try await Subprocess.run(
                executable, arguments: arguments, platformOptions: options, input: .none,
                output: .sequence, error: .combinedWithOutput
            ) { execution in
                started(execution.processIdentifier.value)
                var splitter = LineSplitter()
                for try await buffer in execution.standardOutput {
                    for line in buffer.withUnsafeBytes({ splitter.append($0) }) { handler(line) }
                }
                if let last = splitter.finish() { handler(last) }
            }.terminationStatus
        }
    }

    /// Waits for the process to exit; returns its exit status (128 + N when signal N ended it). Throws only when
    /// the process could not be watched.
    public func waitForExit() async throws -> Int32 {
        try await task.value
    }

    /// Sends `signal` to the process, unless it has exited.
    public func signal(_ signal: Int32) {
        state.whileRunning { _ = kill(pid, signal) }
    }

    /// Begins a stop without waiting for it: SIGTERM to the process group, SIGKILL to the group after the grace.
    public func terminate() {
        task.cancel()
    }

    /// Stops the process (see `terminate`) and waits until it has exited.
    public func stop() async {
        terminate()
        _ = try? await task.value
    }

    /// Whether the run has ended; signals go out under its lock, so none is sent after the run (which reaps) ended.
    private final class State: Sendable {
        private let exited = Mutex(false)
        func markExited() { exited.withLock { $0 = true } }
        func whileRunning(_ body: () -> Void) { exited.withLock { if !$0 { body() } } }
    }
}
