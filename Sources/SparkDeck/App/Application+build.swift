import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

/// Where SparkDeck listens, what it controls and where it keeps its state.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var inventory: Inventory
    /// The file the inventory was read from: a capacity sweep's applied limits are written to it.
    public var inventoryPath: String?
    /// Demo mode: the cluster is SparkSim on loopback; the dashboard says so.
    public var demo: Bool
    /// Host names besides IP addresses and local names that requests may name SparkDeck by (`HostPolicy`).
    public var allowedHosts: [String]
    /// How long a connection may stay without a request, or take to send a request's head, before it is closed.
    public var idleTimeout: Duration = .seconds(60)

    public init(
        host: String = "0.0.0.0", port: Int = 9999, dataDirectory: String, inventory: Inventory, inventoryPath: String? = nil,
        demo: Bool = false, allowedHosts: [String] = []
    ) {
        self.inventoryPath = inventoryPath
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.inventory = inventory
        self.demo = demo
        self.allowedHosts = allowedHosts
    }
}

/// Everything the routes and services share, built once at start-up.
public struct AppDependencies: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger
    public let store: Store
    public let events: EventBroadcaster
    public let board: StatusBoard
    public let log: ConnectivityLog
    public let registry: PrometheusCollectorRegistry
    public let metrics: HealthMetrics
    public let assets: DashboardAssets
    public let openAPI: OpenAPIDocument
    public let runners: RunnerPool
    public let swapStore: SwapStore
    public let orchestrator: SwapOrchestrator
    public let httpClients: UpstreamClients
    public let gates: GatewayGates
    public let gatewayMetrics: GatewayMetrics
    public let core: UpstreamCore
    public let keys: APIKeyStore
    public let activity: GatewayActivity
    /// Per-app activity: the request log and per-minute counts (`/api/activity`).
    public let apps: AppActivity
    public let scrubber: Scrubber
    public let vault: PlaceholderVault
    public let redactionWorkers: RedactionWorkers
    public let actions: MaintenanceActions
    public let spool: AudioSpool
    public let audioJobs: AudioJobs
    public let sweeps: CapacitySweeps
    /// Caps the `/api/events` streams open at once (followed logs have their own, smaller cap).
    public let streams: StreamLimiter

    public init(configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        store = try Store(dataDirectory: configuration.dataDirectory)
        events = EventBroadcaster()
        log = ConnectivityLog(store: store)
        registry = PrometheusCollectorRegistry()
        metrics = HealthMetrics(registry: registry)
        let traffic = TrafficClock()
        board = try StatusBoard(
            inventory: configuration.inventory, log: log, events: events, metrics: metrics,
            demo: configuration.demo, logger: logger, traffic: traffic)
        assets = try DashboardAssets.bundled()
        openAPI = try OpenAPIDocument.bundled()
        runners = try RunnerPool(inventory: configuration.inventory, dataDirectory: configuration.dataDirectory)
        swapStore = SwapStore(store: store)
        httpClients = UpstreamClients()
        let sender = UpstreamSender(clients: httpClients, board: board, logger: logger)
        let gates = GatewayGates()
        self.gates = gates
        orchestrator = SwapOrchestrator(
            inventory: configuration.inventory, runners: runners, store: swapStore, board: board,
            events: events, sender: sender, gatewayInFlight: { gates.inFlight(serviceID: $0) },
            logger: logger)
        gatewayMetrics = GatewayMetrics(registry: registry)
        activity = GatewayActivity()
        apps = AppActivity(store: ActivityStore(store: store))
        core = UpstreamCore(
            sender: sender, gates: gates, observer: GatewayObserver(metrics: gatewayMetrics, activity: activity, apps: apps),
            traffic: traffic)
        keys = APIKeyStore(store: store)
        scrubber = Scrubber(names: try PersonNameDetector.bundled(), standingTerms: configuration.inventory.redactionTerms)
        vault = try PlaceholderVault(store: store, dataDirectory: configuration.dataDirectory)
        redactionWorkers = RedactionWorkers(gates: gates)
        actions = try MaintenanceActions(
            inventory: configuration.inventory, runners: runners,
            store: ActionStore(store: store), events: events)
        spool = try AudioSpool(dataDirectory: configuration.dataDirectory)
        audioJobs = AudioJobs(
            store: AudioJobStore(store: store), spool: spool, events: events, inventory: configuration.inventory, core: core,
            logger: logger)
        streams = StreamLimiter()
        let orchestrator = orchestrator
        sweeps = CapacitySweeps(
            inventory: configuration.inventory, inventoryPath: configuration.inventoryPath, sender: sender, gates: gates,
            store: SweepStore(store: store), events: events, currentSwap: { orchestrator.current() },
            activeModel: { await orchestrator.activeModelID() }, logger: logger)
    }
}

/// Builds the router: every route SparkDeck serves.
public func buildRouter(_ dependencies: AppDependencies) -> Router<SparkDeckRequestContext> {
    // HEAD on every GET route: the GET's status and headers, no body (RFC 9110 9.3.2).
    let router = Router(context: SparkDeckRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outermost, so the answers the inner middleware make of errors are marked too.
    router.add(middleware: CancelOnDisconnectMiddleware())
    router.add(middleware: RequestIdMiddleware())
    router.add(
        middleware: HostGuardMiddleware(
            policy: .forServer(bindAddress: dependencies.configuration.host, listed: dependencies.configuration.allowedHosts)))
    router.add(middleware: APIKeyMiddleware(keys: dependencies.keys))
    SystemController(
        board: dependencies.board, registry: dependencies.registry, events: dependencies.events,
        metrics: dependencies.metrics, gates: dependencies.gates,
        gatewayMetrics: dependencies.gatewayMetrics
    ).addRoutes(to: router)
    StatusController(
        board: dependencies.board, events: dependencies.events, log: dependencies.log, keys: dependencies.keys,
        streams: dependencies.streams
    ).addRoutes(to: router)
    SwapsController(
        inventory: dependencies.configuration.inventory, orchestrator: dependencies.orchestrator,
        store: dependencies.swapStore
    ).addRoutes(to: router)
    LLMGatewayController(
        inventory: dependencies.configuration.inventory, board: dependencies.board,
        currentSwap: dependencies.orchestrator.current, core: dependencies.core
    ).addRoutes(to: router)
    SpeechController(inventory: dependencies.configuration.inventory, core: dependencies.core, voices: VoiceCache()).addRoutes(to: router)
    let audioJobs = AudioJobsController(
        jobs: dependencies.audioJobs, spool: dependencies.spool, inventory: dependencies.configuration.inventory,
        core: dependencies.core)
    audioJobs.addRoutes(to: router)
    TranscriptionController(inventory: dependencies.configuration.inventory, core: dependencies.core, long: audioJobs).addRoutes(to: router)
    EmbeddingsController(inventory: dependencies.configuration.inventory, core: dependencies.core).addRoutes(to: router)
    SearchController(inventory: dependencies.configuration.inventory, core: dependencies.core, sizes: DenseSizeCache()).addRoutes(
        to: router)
    ActionsController(actions: dependencies.actions).addRoutes(to: router)
    ActivityController(apps: dependencies.apps).addRoutes(to: router)
    CapacityController(sweeps: dependencies.sweeps).addRoutes(to: router)
    GuidanceController(inventory: dependencies.configuration.inventory, gates: dependencies.gates).addRoutes(to: router)
    let orchestrator = dependencies.orchestrator
    ServiceLogsController(
        inventory: dependencies.configuration.inventory, runners: dependencies.runners,
        activeModel: { await orchestrator.activeModelID() }
    ).addRoutes(to: router)
    RedactionController(
        scrubber: dependencies.scrubber, vault: dependencies.vault, workers: dependencies.redactionWorkers,
        observer: dependencies.core.observer
    ).addRoutes(to: router)
    PrivateChatController(
        scrubber: dependencies.scrubber, vault: dependencies.vault, workers: dependencies.redactionWorkers,
        external: dependencies.configuration.inventory.externalModel,
        core: dependencies.core
    ).addRoutes(to: router)
    dependencies.openAPI.addRoutes(to: router)
    dependencies.assets.addRoutes(to: router)
    return router
}

/// Builds the SparkDeck application: the HTTP server plus the health monitor and event heartbeat services.
/// `services` are run alongside (demo mode adds its SparkSim supervisor).
public func buildApplication(
    _ configuration: ServerConfiguration, logger: Logger, services: [any Service] = [],
    onServerRunning: @escaping @Sendable () async -> Void = {}
) throws -> some ApplicationProtocol {
    try buildApplication(
        AppDependencies(configuration: configuration, logger: logger), logger: logger, services: services,
        onServerRunning: onServerRunning)
}

/// Builds the application from dependencies made beforehand (demo mode hands its services the orchestrator).
public func buildApplication(
    _ dependencies: AppDependencies, logger: Logger, services: [any Service] = [],
    onServerRunning: @escaping @Sendable () async -> Void = {}
) -> some ApplicationProtocol {
    let configuration = dependencies.configuration
    let monitor = HealthMonitor(
        inventory: configuration.inventory, board: dependencies.board,
        runners: dependencies.runners, logger: logger)
    return Application(
        router: buildRouter(dependencies),
        // The idle timeout also bounds reading a request's head: a client trickling its headers is closed with it.
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [ClientConnectionHandler()], idleTimeout: .init(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "SparkDeck"),
        services: services + [
            // First, so it stops last (services stop in reverse order): the counts of every request are in.
            ActivityFlusher(apps: dependencies.apps, logger: logger),
            monitor, EventHeartbeat(events: dependencies.events),
            SwapReconciler(orchestrator: dependencies.orchestrator),
            SweepReconciler(sweeps: dependencies.sweeps),
            HTTPClientShutdown(clients: dependencies.httpClients),
            // After the HTTP clients: services shut down in reverse order, so jobs stop while the clients still work.
            AudioJobResumer(jobs: dependencies.audioJobs),
            GatewayStatusPublisher(
                board: dependencies.board, keys: dependencies.keys,
                gates: dependencies.gates, activity: dependencies.activity),
        ],
        onServerRunning: { _ in await onServerRunning() },
        logger: logger
    )
}
