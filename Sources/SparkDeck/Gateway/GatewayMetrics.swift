import Prometheus

/// The gateway's Prometheus metrics.
public struct GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    static let latencyBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                             .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                             .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60)]

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func finished(route: String, upstream: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "sparkdeck", subsystem: "gateway", metricName: "request_duration", unitName: "seconds",
                              helpText: "Gateway requests from arrival to the last byte, by route, upstream and status class"),
            labels: [("route", route), ("upstream", upstream), ("status", "\(status / 100)xx")], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func firstByte(route: String, upstream: String, after duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "sparkdeck", subsystem: "gateway", metricName: "time_to_first_byte", unitName: "seconds",
                              helpText: "From arrival to the upstream's first body byte (the first token, for streams)"),
            labels: [("route", route), ("upstream", upstream)], buckets: Self.latencyBuckets
        ).record(duration)
    }

    func rejected(upstream: String, reason: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "sparkdeck", subsystem: "gateway", metricName: "rejections", unitName: "total",
                              helpText: "Requests answered 503 without reaching the upstream, by reason"),
            labels: [("upstream", upstream), ("reason", reason)]
        ).increment()
    }

    func tokens(upstream: String, prompt: Int, completion: Int) {
        let descriptor = MetricNameDescriptor(namespace: "sparkdeck", subsystem: "gateway", metricName: "tokens", unitName: "total",
                                              helpText: "Tokens reported in upstream usage, by kind")
        registry.makeCounter(descriptor: descriptor, labels: [("upstream", upstream), ("kind", "prompt")]).increment(by: Int64(prompt))
        registry.makeCounter(descriptor: descriptor, labels: [("upstream", upstream), ("kind", "completion")]).increment(by: Int64(completion))
    }

    func gate(_ name: String, inFlight: Int, queued: Int) {
        registry.makeGauge(descriptor: .init(namespace: "sparkdeck", subsystem: "gateway", metricName: "in_flight", unitName: "requests",
                                             helpText: "Requests holding an admission slot"),
                           labels: [("gate", name)]).set(to: Double(inFlight))
        registry.makeGauge(descriptor: .init(namespace: "sparkdeck", subsystem: "gateway", metricName: "queue_depth", unitName: "requests",
                                             helpText: "Requests waiting for an admission slot"),
                           labels: [("gate", name)]).set(to: Double(queued))
    }
}
