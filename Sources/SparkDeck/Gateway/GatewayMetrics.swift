import Prometheus
import Synchronization

/// The gateway's Prometheus metrics. Each series is made once and then kept: a registry lookup (a lock, the name
/// and labels rebuilt and hashed) on every request cost more than the measurement.
public struct GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let series = Series()
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    /// The series made so far, by their labels.
    final class Series: Sendable {
        let durations = Mutex<[[String]: DurationHistogram]>([:])
        let firstBytes = Mutex<[[String]: DurationHistogram]>([:])
        let tokens = Mutex<[String: (prompt: Counter, completion: Counter)]>([:])
        let gates = Mutex<[String: (inFlight: Gauge, queued: Gauge)]>([:])
    }

    func finished(route: String, upstream: String, status: Int, duration: Duration, app: RequestApp? = nil) {
        let statusClass = status >= 100 && status < 600 ? ["1xx", "2xx", "3xx", "4xx", "5xx"][status / 100 - 1] : "\(status / 100)xx"
        let appLabel = app?.metricLabel ?? "open"
        let key = [route, upstream, statusClass, appLabel]
        let histogram = series.durations.withLock { cache in
            if let known = cache[key] { return known }
            let made = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "sparkdeck", subsystem: "gateway", metricName: "request_duration", unitName: "seconds",
                    helpText:
                        "Gateway requests from arrival to the last byte, by route, upstream, status class and app (API key name; open while no keys are set)"
                ),
                labels: [("route", route), ("upstream", upstream), ("status", statusClass), ("app", appLabel)],
                buckets: Self.latencyBuckets)
            cache[key] = made
            return made
        }
        histogram.record(duration)
    }

    func firstByte(route: String, upstream: String, after duration: Duration) {
        let key = [route, upstream]
        let histogram = series.firstBytes.withLock { cache in
            if let known = cache[key] { return known }
            let made = registry.makeDurationHistogram(
                descriptor: .init(
                    namespace: "sparkdeck", subsystem: "gateway", metricName: "time_to_first_byte", unitName: "seconds",
                    helpText: "From arrival to the upstream's first body byte (the first token, for streams)"),
                labels: [("route", route), ("upstream", upstream)], buckets: Self.latencyBuckets)
            cache[key] = made
            return made
        }
        histogram.record(duration)
    }

    func rejected(upstream: String, reason: String) {
        registry.makeCounter(
            descriptor: .init(
                namespace: "sparkdeck", subsystem: "gateway", metricName: "rejections", unitName: "total",
                helpText: "Requests answered 503 without reaching the upstream, by reason"),
            labels: [("upstream", upstream), ("reason", reason)]
        ).increment()
    }

    func tokens(upstream: String, prompt: Int, completion: Int) {
        let counters = series.tokens.withLock { cache in
            if let known = cache[upstream] { return known }
            let descriptor = MetricNameDescriptor(
                namespace: "sparkdeck", subsystem: "gateway", metricName: "tokens", unitName: "total",
                helpText: "Tokens reported in upstream usage, by kind")
            let made = (
                registry.makeCounter(descriptor: descriptor, labels: [("upstream", upstream), ("kind", "prompt")]),
                registry.makeCounter(descriptor: descriptor, labels: [("upstream", upstream), ("kind", "completion")])
            )
            cache[upstream] = made
            return made
        }
        counters.prompt.increment(by: Int64(prompt))
        counters.completion.increment(by: Int64(completion))
    }

    func gate(_ name: String, inFlight: Int, queued: Int) {
        let gauges = series.gates.withLock { cache in
            if let known = cache[name] { return known }
            let made = (
                registry.makeGauge(
                    descriptor: .init(
                        namespace: "sparkdeck", subsystem: "gateway", metricName: "in_flight",
                        unitName: "requests", helpText: "Requests holding an admission slot"),
                    labels: [("gate", name)]),
                registry.makeGauge(
                    descriptor: .init(
                        namespace: "sparkdeck", subsystem: "gateway", metricName: "queue_depth",
                        unitName: "requests", helpText: "Requests waiting for an admission slot"),
                    labels: [("gate", name)])
            )
            cache[name] = made
            return made
        }
        gauges.inFlight.set(to: Double(inFlight))
        gauges.queued.set(to: Double(queued))
    }
}
