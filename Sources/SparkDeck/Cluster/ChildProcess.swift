import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process with its output appended to a file, awaitable until it exits.
///
/// Started with `posix_spawn` and reaped with `waitpid` on a thread of its own: Foundation's `Process` learns of an
/// exit through a descriptor the child inherits, so a command that leaves a background process behind (a launch
/// recipe does) would never be seen to exit. Output goes to a file, not a pipe, for the same reason. The child gets
/// default signal handling, no descriptors but 0–2, and a process group of its own, so a Ctrl-C in the terminal
/// reaches SparkDeck, which then stops its children in order.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []

    public struct SpawnError: Error, CustomStringConvertible {
        public var executable: String
        public var code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// Where the child's standard output and error go.
    public enum Output: Sendable {
        /// Appended to (or, with `truncate`, written over) a file.
        case file(String, truncate: Bool)
        /// A pipe read through `lines()`.
        case pipe
    }

    /// The read end of the output pipe, for `.pipe`.
    private let pipeReadEnd: Int32?

    public convenience init(executable: String, arguments: [String], outputPath: String, truncate: Bool = false) throws {
        try self.init(executable: executable, arguments: arguments, output: .file(outputPath, truncate: truncate))
    }

    public init(executable: String, arguments: [String], output: Output) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var pipeEnds: [Int32] = [-1, -1]
        switch output {
        case .file(let path, let truncate):
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND), 0o644)
        case .pipe:
            guard pipe(&pipeEnds) == 0 else { throw SpawnError(executable: executable, code: errno) }
            _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        }
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        Self.closeFrom3?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environment.forEach { free($0) } }

        var child = pid_t()
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, &environment)
        if pipeEnds[1] >= 0 { close(pipeEnds[1]) }
        guard code == 0 else {
            if pipeEnds[0] >= 0 { close(pipeEnds[0]) }
            throw SpawnError(executable: executable, code: code)
        }
        pid = child
        pipeReadEnd = pipeEnds[0] >= 0 ? pipeEnds[0] : nil
        Thread.detachNewThread { [self, child] in
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            finish(Self.exitCode(status))
        }
    }

    // glibc 2.34+ has posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc module does not import; without
    // it a child could keep SparkDeck's listening socket open after SparkDeck exits.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom3: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
    static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private func finish(_ status: Int32) {
        lock.lock()
        exitStatus = status
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume(returning: status) }
    }

    /// Waits for the process to exit; returns its exit status (128 + N when signal N ended it).
    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let exitStatus {
                lock.unlock()
                continuation.resume(returning: exitStatus)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    public var hasExited: Bool {
        lock.lock()
        defer { lock.unlock() }
        return exitStatus != nil
    }

    public func signal(_ signal: Int32) {
        guard !hasExited else { return }
        kill(pid, signal)
    }

    /// The child's output line by line (`.pipe` only), until it closes its output. Read once.
    public func lines() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(4096))
        guard let fd = pipeReadEnd else {
            continuation.finish()
            return stream
        }
        Thread.detachNewThread {
            var splitter = LineSplitter()
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                for line in splitter.append(buffer[..<count]) { continuation.yield(line) }
            }
            if let last = splitter.finish() { continuation.yield(last) }
            close(fd)
            continuation.finish()
        }
        return stream
    }

    /// Signals the child's whole process group (it has one of its own), reaching what it started too.
    public func signalGroup(_ signal: Int32) {
        guard !hasExited else { return }
        kill(-pid, signal)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    public func stop(grace: Duration = .seconds(3)) async {
        signal(SIGTERM)
        let exited = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await self.waitForExit(); return true }
            group.addTask { try? await Task.sleep(for: grace); return false }
            let first = await group.next() ?? false
            if !first { self.signal(SIGKILL) }
            group.cancelAll()
            return first
        }
        if !exited { _ = await waitForExit() }
    }
}
