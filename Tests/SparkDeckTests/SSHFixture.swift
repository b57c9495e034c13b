import Foundation

@testable import SparkDeck

/// Real OpenSSH servers on loopback addresses (127.0.0.2, 127.0.0.3, ...), one per simulated node, with a key
/// generated for the test. Needs `/usr/sbin/sshd` (scripts/install-test-deps installs openssh-server) and root.
final class SSHFixture: @unchecked Sendable {
    let directory: String
    let keyPath: String
    let user: String
    let port: Int
    let hosts: [String]
    private var servers: [String: SpawnedProcess] = [:]

    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") && getuid() == 0
    }

    init(hosts: [String]) async throws {
        self.hosts = hosts
        directory = try TestSupport.temporaryDirectory()
        keyPath = directory + "/id_ed25519"
        user = String(cString: getpwuid(getuid()).pointee.pw_name)
        port = try FreePort.find(count: 1)[0]
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        try await Self.shell(
            "ssh-keygen -q -t ed25519 -N '' -f \(ShellQuote.quote(keyPath)) && "
                + "ssh-keygen -q -t ed25519 -N '' -f \(ShellQuote.quote(directory + "/host_ed25519")) && "
                + "cp \(ShellQuote.quote(keyPath + ".pub")) \(ShellQuote.quote(directory + "/authorized_keys"))")
        for host in hosts { try await start(host) }
    }

    /// Starts (or restarts) the sshd of one node and waits until it accepts connections.
    func start(_ host: String) async throws {
        let config = directory + "/sshd_config_\(host)"
        try """
        Port \(port)
        ListenAddress \(host)
        HostKey \(directory)/host_ed25519
        PidFile \(directory)/sshd_\(host).pid
        AuthorizedKeysFile \(directory)/authorized_keys
        PermitRootLogin prohibit-password
        PubkeyAuthentication yes
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        PrintMotd no
        LogLevel ERROR

        """.write(toFile: config, atomically: true, encoding: .utf8)
        servers[host] = try await SpawnedProcess.start(
            "/usr/sbin/sshd", arguments: ["-D", "-e", "-f", config],
            output: .file(directory + "/sshd_\(host).log", truncate: false))
        let up = await TestSupport.eventually(timeout: .seconds(10)) {
            if case .http = await SocketProber().tcpConnect(host: host, port: self.port, timeoutMs: 200) { return true }
            return false
        }
        guard up else {
            let log = (try? String(contentsOfFile: directory + "/sshd_\(host).log", encoding: .utf8)) ?? ""
            throw SSHFixtureError(message: "sshd on \(host):\(port) did not start: \(log)")
        }
    }

    /// Stops one node's sshd (the node becomes unreachable over SSH).
    func stop(_ host: String) async {
        // A stop signals the whole process group: the listener and the per-connection servers that hold open sessions.
        await servers[host]?.stop()
        servers[host] = nil
    }

    func shutdown() async {
        for host in servers.keys { await stop(host) }
    }

    struct SSHFixtureError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func shell(_ command: String) async throws {
        let result = try await LocalCommandRunner().run(command, timeout: .seconds(30))
        guard result.succeeded else { throw SSHFixtureError(message: "\(command): \(result.output)") }
    }

    func node(_ id: String, host: String) -> Node {
        Node(id: id, host: host, transport: .ssh, ssh: SSHSettings(user: user, port: port, keyPath: keyPath))
    }
}
