import Prometheus

/// The health monitor's Prometheus metrics.
public struct HealthMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    static let probeBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5),
    ]

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func probeFinished(target: String, kind: TargetKind, latencyMs: Double?, ok: Bool) {
        let labels = [("target", target), ("target_kind", kind.rawValue)]
        if let latencyMs {
            registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "sparkdeck", metricName: "probe_duration", unitName: "seconds",
                    helpText: "Health probe round trip, answered probes only"),
                labels: labels, buckets: Self.probeBuckets
            ).record(.nanoseconds(Int64(latencyMs * 1_000_000)))
        }
        if !ok {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "sparkdeck", metricName: "probe_failures", unitName: "total",
                    helpText: "Health probes that failed, timed out or were refused"),
                labels: labels
            ).increment()
        }
    }

    func stateChanged(target: String, kind: TargetKind, to state: HealthState, outageStarted: Bool) {
        let labels = [("target", target), ("target_kind", kind.rawValue)]
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "sparkdeck", metricName: "target", unitName: "up",
                helpText: "1 while a service or node is up or degraded, else 0"),
            labels: labels
        ).set(to: state.isServing ? 1 : 0)
        if outageStarted {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "sparkdeck", metricName: "outages", unitName: "total",
                    helpText: "Outages started (a target went down or back to loading)"),
                labels: labels
            ).increment()
        }
    }

    func sseClients(_ count: Int) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "sparkdeck", metricName: "sse_clients", unitName: "count",
                helpText: "Connected /api/events streams")
        ).set(to: Double(count))
    }
}
