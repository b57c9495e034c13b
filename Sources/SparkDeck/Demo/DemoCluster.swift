import Foundation
import Logging
import ServiceLifecycle

/// A simulated two-node cluster on loopback: the always-on SparkSim services, kept running the way a container
/// restart policy would, and the inventory that describes them. The LLM sim is started and stopped only by the
/// model recipes.
public struct DemoCluster: Service {
    /// One always-on simulated service.
    public struct Sim: Sendable {
        public var serviceID: String
        public var arguments: [String]
    }

    public let dataDirectory: String
    public let inventoryPath: String
    public let sims: [Sim]
    let executable: String
    let logger: Logger
    /// Pause before a sim that exited is started again.
    let restartDelay: Duration

    /// Requests the demo's ASR sim serves at full speed: the knee a capacity sweep of it finds.
    public static let asrCapacity = 2
    /// The same for the TTS sim.
    public static let ttsCapacity = 2

    public var demoDirectory: String { Self.path(dataDirectory, "demo") }
    var pidDirectory: String { Self.path(demoDirectory, "pids") }
    var logDirectory: String { Self.path(demoDirectory, "logs") }

    /// Picks free loopback ports, writes `<data>/demo/inventory.yaml` and returns the cluster that serves it.
    public static func prepare(
        dataDirectory: String, executable: String, logger: Logger,
        restartDelay: Duration = .seconds(1)
    ) throws -> DemoCluster {
        let demo = path(dataDirectory, "demo")
        for folder in [demo, path(demo, "pids"), path(demo, "logs")] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let ports = try FreePort.find(count: 5)
        let controller = ProcessInfo.processInfo.processIdentifier
        let common = ["--exit-with", "\(controller)", "--access-log"]
        let sims = [
            Sim(
                serviceID: "asr",
                arguments: ["sim", "asr", "--port", "\(ports[1])", "--load-seconds", "3", "--capacity", "\(Self.asrCapacity)"] + common),
            Sim(
                serviceID: "tts",
                arguments: ["sim", "tts", "--port", "\(ports[2])", "--load-seconds", "1", "--capacity", "\(Self.ttsCapacity)"] + common),
            Sim(
                serviceID: "embeddings",
                arguments: ["sim", "embeddings", "--port", "\(ports[3])", "--load-seconds", "1", "--sparse-format", "lexical_weights"]
                    + common),
            Sim(serviceID: "qdrant", arguments: ["sim", "qdrant", "--port", "\(ports[4])", "--load-seconds", "0.5"] + common),
        ]
        let inventoryPath = path(demo, "inventory.yaml")
        let yaml = DemoInventory.yaml(ports: ports, executable: executable, demoDirectory: demo, controllerPID: controller)
        try yaml.write(toFile: inventoryPath, atomically: true, encoding: .utf8)
        return DemoCluster(
            dataDirectory: dataDirectory, inventoryPath: inventoryPath, sims: sims,
            executable: executable, logger: logger, restartDelay: restartDelay)
    }

    public func run() async throws {
        let stopping = CancelFlag()
        await withTaskGroup(of: Void.self) { group in
            for sim in sims {
                group.addTask { await supervise(sim, stopping: stopping) }
            }
            try? await gracefulShutdown()
            stopping.set()
            group.cancelAll()
        }
    }

    /// Starts `sim`, and starts it again whenever it exits, until shutdown; then stops it.
    func supervise(_ sim: Sim, stopping: CancelFlag) async {
        let pidFile = Self.path(pidDirectory, "\(sim.serviceID).pid")
        while !stopping.isSet {
            let child: SpawnedProcess
            do {
                child = try await SpawnedProcess.start(
                    executable, arguments: sim.arguments,
                    output: .file(Self.path(logDirectory, "\(sim.serviceID).log"), truncate: false))
            } catch {
                logger.error("demo: cannot start the \(sim.serviceID) sim: \(error)")
                try? await Task.sleep(for: restartDelay)
                continue
            }
            try? "\(child.pid)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
            let status = await withTaskCancellationHandler {
                try? await child.waitForExit()
            } onCancel: {
                child.terminate()
            }
            try? FileManager.default.removeItem(atPath: pidFile)
            if stopping.isSet || Task.isCancelled {
                await child.stop()
                break
            }
            logger.warning(
                "demo: the \(sim.serviceID) sim exited (status \(status.map(String.init) ?? "unknown")); restarting it in \(restartDelay)")
            try? await Task.sleep(for: restartDelay)
        }
    }

    static func path(_ directory: String, _ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }
}

/// Free TCP ports on loopback, found by binding port 0.
public enum FreePort {
    public static func find(count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        var ports: [Int] = []
        for _ in 0..<count {
            #if canImport(Glibc)
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
                let fd = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            guard fd >= 0 else { throw PortError() }
            sockets.append(fd)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else { throw PortError() }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    struct PortError: Error, CustomStringConvertible {
        var description: String { "no free port on 127.0.0.1" }
    }
}
