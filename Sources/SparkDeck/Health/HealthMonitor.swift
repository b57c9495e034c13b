import Foundation
import Logging
import ServiceLifecycle

/// Probes every service's health endpoint and every SSH node's port on its own loop, and feeds the status board.
///
/// A probe starts every `interval_ms` (250 ms by default) and fails after `timeout_ms` (500 ms): their sum stays under
/// one second, so no outage of 1 s or more can fall between two probes. After a failure the next probe follows at
/// once (after `retryGapMs`), so a recovery is seen within a few tens of milliseconds.
public struct HealthMonitor: Service {
    let inventory: Inventory
    let board: StatusBoard
    let prober: any Prober
    /// Runs the nodes' GPU and container probes; nil to skip them.
    let runners: RunnerPool?
    let logger: Logger
    /// Pause after a failed probe before the next one, so a refusing port is not hammered.
    let retryGapMs: Int
    /// How often the served models of the LLM service are re-read while it is up.
    static let modelRefreshEvery = 20

    public init(
        inventory: Inventory, board: StatusBoard, prober: any Prober = SocketProber(), runners: RunnerPool? = nil,
        logger: Logger, retryGapMs: Int = 50
    ) {
        self.inventory = inventory
        self.board = board
        self.prober = prober
        self.runners = runners
        self.logger = logger
        self.retryGapMs = retryGapMs
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for service in inventory.services {
                    group.addTask { await watch(service) }
                }
                for node in inventory.nodes {
                    group.addTask { await watch(node) }
                    if let runner = runners?.runner(for: node.id) {
                        group.addTask { await watchResources(node, runner: runner) }
                    }
                }
                group.addTask { await publishLatencies() }
            }
        }
    }

    func watch(_ service: ClusterService) async {
        guard let url = URL(string: service.baseURL), let host = url.host else { return }
        let port = url.port ?? (url.scheme == "https" ? 443 : 80)
        let path = url.path + service.health.path
        let key = StatusBoard.Key(kind: .service, id: service.id)
        var probesSinceModels = Self.modelRefreshEvery
        await loop(interval: service.health.intervalMs) {
            let sent = Timestamp.now()
            let clock = ContinuousClock.now
            let answer = await prober.httpGet(host: host, port: port, path: path, timeoutMs: service.health.timeoutMs)
            let observation = Self.observation(answer, kind: service.kind, sent: sent, elapsed: ContinuousClock.now - clock)
            let wasReady = await board.state(of: key).isServing
            await board.record(key, observation)
            if service.kind == .vllm, observation.verdict == .ready {
                probesSinceModels += 1
                if !wasReady || probesSinceModels >= Self.modelRefreshEvery {
                    probesSinceModels = 0
                    await refreshServedModels(host: host, port: port, basePath: url.path, timeoutMs: service.health.timeoutMs)
                }
            }
            return observation.verdict == .ready || observation.verdict == .loading
        }
    }

    func watch(_ node: Node) async {
        let key = StatusBoard.Key(kind: .node, id: node.id)
        guard node.transport == .ssh, let ssh = node.ssh else {
            // A local node is this machine: reachable by definition.
            let now = Timestamp.now()
            await board.record(key, Observation(verdict: .ready, sentAt: now, finishedAt: now))
            return
        }
        let settings = HealthCheckSettings.defaults
        await loop(interval: settings.intervalMs) {
            let sent = Timestamp.now()
            let clock = ContinuousClock.now
            let answer = await prober.tcpConnect(host: node.host, port: ssh.port, timeoutMs: settings.timeoutMs)
            var observation = Self.observation(answer, kind: .vllm, sent: sent, elapsed: ContinuousClock.now - clock)
            if observation.verdict == .refused {
                observation.verdict = .failed
                observation.cause = "SSH port \(ssh.port) refused the connection"
            }
            await board.record(key, observation)
            return observation.verdict == .ready
        }
    }

    /// Reads the node's GPU and containers every `probes.interval_seconds`.
    func watchResources(_ node: Node, runner: any CommandRunner) async {
        while !Task.isCancelled {
            let stats = await NodeStats.read(node, runner: runner)
            await board.setNodeStats(node.id, stats)
            do { try await Task.sleep(for: .seconds(node.probes.intervalSeconds)) } catch { return }
        }
    }

    /// Runs `probe` every `interval` ms until cancelled; a probe that returns false is followed at once.
    private func loop(interval: Int, _ probe: () async -> Bool) async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let healthy = await probe()
            let next = healthy ? started + .milliseconds(interval) : ContinuousClock.now + .milliseconds(retryGapMs)
            do { try await Task.sleep(until: next) } catch { return }
        }
    }

    private func publishLatencies() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            await board.publishIfLatenciesMoved()
        }
    }

    private func refreshServedModels(host: String, port: Int, basePath: String, timeoutMs: Int) async {
        let answer = await prober.httpGet(host: host, port: port, path: basePath + "/v1/models", timeoutMs: timeoutMs * 4)
        guard case .http(200, let body) = answer, let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let entries = object["data"] as? [[String: Any]]
        else { return }
        await board.setServedModels(entries.compactMap { $0["id"] as? String })
    }

    static func observation(_ answer: ProbeAnswer, kind: ServiceKind, sent: Double, elapsed: Duration) -> Observation {
        let (verdict, cause) = ReadinessRule.verdict(kind: kind, answer: answer)
        let elapsedMs = elapsed.milliseconds
        var latency: Double?
        if case .http = answer { latency = elapsedMs }
        return Observation(verdict: verdict, latencyMs: latency, cause: cause, sentAt: sent, finishedAt: sent + elapsedMs / 1000)
    }
}
