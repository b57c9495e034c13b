import Foundation
import Hummingbird
import Prometheus

/// The controller's own endpoints: liveness, readiness, version and metrics.
struct SystemController {
    let board: StatusBoard
    let registry: PrometheusCollectorRegistry
    let events: EventBroadcaster
    let metrics: HealthMetrics
    let gates: GatewayGates
    let gatewayMetrics: GatewayMetrics

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("/healthz") { _, _ in Response.json(.object(["status": .string("ok")])) }
        router.get("/readyz") { _, _ in
            // Reaching this handler means the store is open and the inventory loaded: both happen before the
            // server starts listening.
            let states = await board.serviceStates()
            return Response.json(
                .object([
                    "status": .string("ready"),
                    "upstreams": .object(states.mapValues { .string($0.rawValue) }),
                ]))
        }
        router.get("/api/version") { _, _ in
            Response.json(
                .object([
                    "version": .string(SparkDeckVersion.version), "package_version": .string(SparkDeckVersion.packageVersion),
                ]))
        }
        router.get("/metrics") { _, _ in
            // Gauges of things SparkDeck can count are read at scrape time, so they are exact.
            metrics.sseClients(await events.subscriberCount)
            for (name, load) in gates.snapshot() { gatewayMetrics.gate(name, inFlight: load.inFlight, queued: load.queued) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}
