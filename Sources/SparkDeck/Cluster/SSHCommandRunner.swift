import Foundation

/// Runs commands on a node with the system OpenSSH client: the key passed explicitly, no prompts, a connect timeout,
/// new host keys accepted once and checked ever after against SparkDeck's own known_hosts, and one shared
/// connection per node (ControlMaster) so a probe does not pay a handshake.
public struct SSHCommandRunner: CommandRunner {
    public let node: Node
    let settings: SSHSettings
    let keyPath: String
    let knownHostsPath: String
    let controlPath: String
    let scratchDirectory: String
    static let connectTimeoutSeconds = 5

    /// - Parameters:
    ///   - dataDirectory: SparkDeck's data folder; `ssh/` inside it holds `known_hosts` and the default key.
    ///   - scratchDirectory: where command output is written while a command runs (default: `CommandScratch`).
    public init(node: Node, dataDirectory: String, scratchDirectory: String? = nil) throws {
        guard let settings = node.ssh else { throw CommandRunnerError.couldNotStart("node \(node.id) has no ssh settings") }
        self.node = node
        self.settings = settings
        let sshDirectory = (dataDirectory as NSString).appendingPathComponent("ssh")
        try FileManager.default.createDirectory(
            atPath: sshDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        keyPath = settings.keyPath ?? (sshDirectory as NSString).appendingPathComponent("id_ed25519")
        knownHostsPath = (sshDirectory as NSString).appendingPathComponent("known_hosts")
        controlPath = try Self.controlDirectory(for: sshDirectory) + "/%C"
        self.scratchDirectory = try scratchDirectory ?? CommandScratch.folder(in: dataDirectory)
    }

    /// Unix socket paths are limited to 108 bytes: a long data path gets its control sockets under /tmp.
    static func controlDirectory(for sshDirectory: String) throws -> String {
        var directory = (sshDirectory as NSString).appendingPathComponent("cm")
        if directory.utf8.count > 60 {
            let digest = sshDirectory.utf8.reduce(UInt64(1_469_598_103_934_665_603)) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
            directory = "/tmp/sparkdeck-cm-\(String(digest, radix: 16))"
        }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        // The /tmp name can be guessed: a folder someone else made there first could hold a socket that poses as
        // our SSH connection. Use it only if it is ours and closed to everyone else.
        var info = stat()
        guard lstat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid(),
            info.st_mode & 0o077 == 0
        else {
            throw CommandRunnerError.couldNotStart(
                "the SSH control folder \(directory) is not a folder of this user with mode 0700; remove it and start again")
        }
        return directory
    }

    /// The ssh argument list; `command` is passed as one argument after `--`, never parsed by a local shell.
    func argv(_ command: String) -> [String] {
        [
            "/usr/bin/ssh",
            "-i", keyPath,
            "-p", "\(settings.port)",
            "-o", "BatchMode=yes",
            "-o", "IdentitiesOnly=yes",
            "-o", "ConnectTimeout=\(Self.connectTimeoutSeconds)",
            "-o", "StrictHostKeyChecking=accept-new",
            "-o", "UserKnownHostsFile=\(knownHostsPath)",
            "-o", "ControlMaster=auto",
            "-o", "ControlPath=\(controlPath)",
            "-o", "ControlPersist=60",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3",
            "-o", "LogLevel=ERROR",
            "-T",
            "\(settings.user)@\(node.host)",
            "--", command,
        ]
    }

    private func command(_ text: String) -> ProcessCommand {
        let node = self.node.id
        let knownHosts = knownHostsPath
        return ProcessCommand(argv: argv(text)) { result in Self.interpret(result, node: node, knownHosts: knownHosts) }
    }

    public func run(_ command: String, timeout: Duration) async throws -> CommandResult {
        try await self.command(command).run(timeout: timeout, scratch: scratchDirectory)
    }

    public func follow(_ command: String) -> AsyncThrowingStream<String, any Error> {
        self.command(command).follow()
    }

    /// Closes the shared connection to the node (at shutdown, or when the node is known to have gone away).
    public func disconnect() async {
        var arguments = argv("true")
        arguments.removeLast(2)
        arguments.insert(contentsOf: ["-O", "exit"], at: 1)
        _ = try? await ProcessCommand(argv: arguments) { _ in nil }.run(timeout: .seconds(5), scratch: scratchDirectory)
    }

    /// ssh exits 255 when it could not run the command at all; its last words say why.
    static func interpret(_ result: CommandResult, node: String, knownHosts: String) -> CommandRunnerError? {
        let output = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.exitCode == 127 { return .commandNotFound(node: node, output: output) }
        guard result.exitCode == 255 else { return nil }
        let detail = output.split(separator: "\n").last.map(String.init) ?? "ssh exited with 255"
        if output.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || output.contains("Host key verification failed") {
            return .hostKeyChanged(node: node, knownHosts: knownHosts)
        }
        if output.contains("Permission denied") || output.contains("Too many authentication failures") {
            return .authRefused(node: node, detail: detail)
        }
        for marker in [
            "Connection refused", "Connection timed out", "No route to host", "Network is unreachable",
            "Could not resolve", "Operation timed out", "Connection reset", "Connection closed",
        ]
        where output.contains(marker) {
            return .unreachable(node: node, detail: detail)
        }
        return .sshFailed(node: node, detail: detail)
    }
}

/// The command runner for each node of the inventory.
public struct RunnerPool: Sendable {
    private let runners: [String: any CommandRunner]

    /// Runners for the inventory's nodes, writing command output under `dataDirectory` (emptied first: this is
    /// made once, at start-up).
    public init(inventory: Inventory, dataDirectory: String) throws {
        var runners: [String: any CommandRunner] = [:]
        let scratch = try CommandScratch.prepare(dataDirectory: dataDirectory)
        for node in inventory.nodes {
            switch node.transport {
            case .local: runners[node.id] = LocalCommandRunner(node: node.id, scratchDirectory: scratch)
            case .ssh: runners[node.id] = try SSHCommandRunner(node: node, dataDirectory: dataDirectory, scratchDirectory: scratch)
            }
        }
        self.runners = runners
    }

    public init(runners: [String: any CommandRunner]) { self.runners = runners }

    public func runner(for node: String) -> (any CommandRunner)? { runners[node] }

    /// Closes every shared SSH connection.
    public func disconnectAll() async {
        for runner in runners.values {
            if let ssh = runner as? SSHCommandRunner { await ssh.disconnect() }
        }
    }
}
