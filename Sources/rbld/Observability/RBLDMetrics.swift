// RBLDMetrics.swift -- every rbld metric in one Prometheus registry: pushed, pulled at scrape, served.

import DNSBL
import Ingest
import Logging
import Metrics
import Prometheus
import Publication
import Synchronization

/// The Prometheus metrics of one rbld process (docs/METRICS.md lists them all).
///
/// Two kinds of values meet here. Ingest, store commits and publications are recorded as
/// they happen (``recordIngest(_:)``, ``storeCommit(_:)``, and as publication's observer):
/// they are rare. DNS queries are far too frequent for that, so the DNS server counts them in its
/// own per-thread counters and ``observe(dns:)`` copies the totals in when Prometheus
/// scrapes, together with the zones' table sizes and the process's memory.
///
/// ``process`` also bootstraps swift-metrics' `MetricsSystem` with the same registry, so a
/// library that reports through swift-metrics appears on the same endpoint. rbld's own
/// metrics go to the registry directly, with help texts, and tests can make isolated
/// instances with ``init(registry:)``.
///
/// ```swift
/// let metrics = RBLDMetrics.process
/// metrics.observe(dns: server)              // a started DNSServer<Responder>
/// metrics.observe(snapshots: snapshots)
/// let endpoint = metrics.endpoint(address: try ListenAddress(parsing: "127.0.0.1:9153"), logger: logger)
/// print("metrics on \(try await endpoint.start())")
/// // ... metrics.recordIngest(outcome, classification: c), metrics.storeCommit(duration) ...
/// await endpoint.stop()
/// ```
final class RBLDMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// What publication last said, for `/healthz`.
    let publicationHealth = PublicationHealth()
    private let pulled = Mutex(Pulled())

    /// What is read at each scrape, and the last totals copied in.
    private struct Pulled {
        var mirror = CounterMirror()
        var sources: [@Sendable (inout CounterMirror, PrometheusCollectorRegistry) -> Void] = []
    }

    /// The process-wide instance; the first use bootstraps `MetricsSystem` to its registry.
    static let process: RBLDMetrics = {
        let metrics = RBLDMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        return metrics
    }()

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    /// Refreshes every pulled value; the endpoint calls it before each scrape.
    func collect() {
        pulled.withLock { pulled in
            for source in pulled.sources { source(&pulled.mirror, registry) }
        }
        if let bytes = ProcessStats.residentMemoryBytes() { gauge(.residentMemory).set(Int64(bytes)) }
        if let count = ProcessStats.openDescriptors() { gauge(.openFDs).set(Int64(count)) }
    }

    /// Observes `server` and the zones it serves, and starts `/metrics` on `address`.
    ///
    /// - Returns: the running endpoint and its bound address (the kernel's port for port 0).
    /// - Throws: `Failure` 69 naming the address when it cannot be bound.
    func serve(dns server: DNSServer<Responder>, snapshots: SnapshotStore, at address: ListenAddress,
               health: HealthCheck? = nil, logger: Logger) async throws -> (endpoint: MetricsEndpoint, address: ListenAddress) {
        observe(dns: server)
        observe(snapshots: snapshots)
        let started = endpoint(address: address, health: health, logger: logger)
        return (started, try await started.start())
    }

    /// A `/metrics` endpoint on `address` serving this registry, collecting before each
    /// scrape, and `/healthz` when given a check.
    func endpoint(address: ListenAddress, health: HealthCheck? = nil, logger: Logger) -> MetricsEndpoint {
        var answer: (@Sendable () -> HealthAnswer)?
        if let health { answer = { health.response() } }
        return MetricsEndpoint(address: address, registry: registry, logger: logger, health: answer) { [self] in collect() }
    }

    // MARK: - Pulled at scrape time

    /// Reports a DNS server's query, transport and connection counters at each scrape.
    func observe(dns server: DNSServer<Responder>) {
        let statistics = server.responder.statistics
        observe { mirror, registry in
            let queries = statistics.totals()
            for (key, count) in queries.queries {
                mirror.mirror(count, to: .dnsQueries, labels: [
                    ("transport", key.transport.label), ("zone", key.zone ?? "(none)"), ("qtype", key.type.name),
                    ("rcode", key.outcome.rcodeName), ("listed", key.outcome == .listed ? "true" : "false"),
                ], in: registry)
            }
            for transport in [Transport.udp, .tcp] {
                mirror.mirror(queries.truncated[transport] ?? 0, to: .dnsTruncated,
                              labels: [("transport", transport.label)], in: registry)
            }
            let counters = server.counters()
            let udp = counters.udp, tcp = counters.tcp
            mirror.mirror(udp.received, to: .dnsReceived, labels: [("transport", "udp")], in: registry)
            mirror.mirror(tcp.received, to: .dnsReceived, labels: [("transport", "tcp")], in: registry)
            // The UDP loop counts every response the responder withheld; those the rate
            // limiter withheld are told apart.
            let rateLimited = queries.policy[.rateLimitDropped] ?? 0
            mirror.mirror(udp.dropped &- min(udp.dropped, rateLimited), to: .dnsDropped,
                          labels: [("transport", "udp"), ("reason", "unanswerable")], in: registry)
            mirror.mirror(rateLimited, to: .dnsDropped, labels: [("transport", "udp"), ("reason", "rate-limited")], in: registry)
            for action in [PolicyAction.rateLimitDropped, .rateLimitSlipped] {
                mirror.mirror(queries.policy[action] ?? 0, to: .dnsRateLimited, labels: [("action", action.label)], in: registry)
            }
            for action in [PolicyAction.refused, .fixedCode, .overQuota] {
                mirror.mirror(queries.policy[action] ?? 0, to: .dnsClientPolicy, labels: [("action", action.label)], in: registry)
            }
            mirror.mirror(udp.truncated, to: .dnsDropped, labels: [("transport", "udp"), ("reason", "oversize")], in: registry)
            mirror.mirror(tcp.dropped, to: .dnsDropped, labels: [("transport", "tcp"), ("reason", "unanswerable")], in: registry)
            mirror.mirror(udp.sendErrors, to: .dnsSendErrors, in: registry)
            mirror.mirror(udp.receiveErrors, to: .dnsReceiveErrors, in: registry)
            mirror.mirror(tcp.connectionsAccepted, to: .tcpConnections, labels: [("result", "accepted")], in: registry)
            mirror.mirror(tcp.connectionsRejected, to: .tcpConnections, labels: [("result", "rejected")], in: registry)
            mirror.mirror(tcp.idleClosed, to: .tcpClosed, labels: [("reason", "idle")], in: registry)
            mirror.mirror(tcp.framingErrors, to: .tcpClosed, labels: [("reason", "framing")], in: registry)
            registry.makeGauge(descriptor: MetricName.tcpOpen.descriptor).set(Int64(tcp.connectionsOpen))
        }
    }

    /// Reports the served zones' entries, table memory and serial at each scrape.
    func observe(snapshots: SnapshotStore) {
        observe { _, registry in
            for zone in snapshots.load().zones {
                let name = zone.config.name
                func set(_ metric: MetricName, _ labels: [(String, String)], _ value: Int) {
                    registry.makeGauge(descriptor: metric.descriptor, labels: labels).set(Int64(value))
                }
                set(.zoneEntries, [("zone", name), ("family", "ipv4")], zone.table.v4Count)
                set(.zoneEntries, [("zone", name), ("family", "ipv6")], zone.table.v6Count)
                set(.zoneTableBytes, [("zone", name)], zone.table.memoryBytes)
                set(.zoneSerial, [("zone", name)], Int(zone.config.soa.serial))
            }
        }
    }

    /// Reports zone transfers served and refused, and NOTIFY sent and failed, at each scrape.
    func observe(transfers: ZoneTransfers?, notifier: ZoneNotifier?) {
        guard transfers != nil || notifier != nil else { return }
        observe { mirror, registry in
            if let counts = transfers?.counts() {
                mirror.mirror(UInt64(counts.axfr), to: .transfers, labels: [("type", "axfr")], in: registry)
                mirror.mirror(UInt64(counts.ixfr), to: .transfers, labels: [("type", "ixfr")], in: registry)
                for check in TransferOutcome.Check.allCases {
                    mirror.mirror(UInt64(counts.refused[check] ?? 0), to: .transfersRefused, labels: [("reason", check.rawValue)],
                                  in: registry)
                }
            }
            if let counts = notifier?.notifyCounts() {
                mirror.mirror(UInt64(counts.sent), to: .notifySent, in: registry)
                mirror.mirror(UInt64(counts.answered), to: .notifyAnswered, in: registry)
                mirror.mirror(UInt64(counts.refused), to: .notifyFailed, labels: [("reason", "refused")], in: registry)
                mirror.mirror(UInt64(counts.unanswered), to: .notifyFailed, labels: [("reason", "unanswered")], in: registry)
            }
        }
    }

    private func observe(_ source: @escaping @Sendable (inout CounterMirror, PrometheusCollectorRegistry) -> Void) {
        pulled.withLock { $0.sources.append(source) }
    }

    // MARK: - Recorded as it happens

    /// Counts one ingested message that reached a final outcome (stored, deliberately not
    /// stored, or quarantined after classification), with the classifier's verdict and kind.
    func recordIngest(_ outcome: IngestOutcome, classification: Classification?) {
        registry.makeCounter(descriptor: MetricName.ingestMessages.descriptor, labels: [
            ("outcome", outcome.label),
            ("verdict", classification?.verdict.rawValue ?? "none"),
            ("kind", classification?.kind.rawValue ?? "none"),
        ]).increment()
    }

    /// Records how long one store commit of ingested messages took.
    func storeCommit(_ duration: Duration) {
        histogram(.storeCommit).record(duration)
    }


    // MARK: -

    /// 1 ms to 10 s: SQLite commits in WAL mode take about a millisecond, a rebuilt zone longer.
    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    fileprivate func histogram(_ metric: MetricName) -> DurationHistogram {
        registry.makeDurationHistogram(descriptor: metric.descriptor, buckets: Self.durationBuckets)
    }

    fileprivate func gauge(_ metric: MetricName) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: metric.descriptor)
    }
}

extension Transport {
    /// The `transport` label value.
    var label: String {
        switch self {
        case .udp: "udp"
        case .tcp: "tcp"
        }
    }
}

extension RBLDMetrics: PublicationObserver {
    /// Records how long a change took from being seen in the store to being served.
    func published(lag: Duration) {
        histogram(.publicationLag).record(lag)
        publicationHealth.published(lag: lag)
    }

    func storeRead(at time: Int64) {
        gauge(.publicationLastRead).set(time)
        publicationHealth.read(at: time)
    }

    func storeReadFailed(_ error: any Error) {
        registry.makeCounter(descriptor: MetricName.publicationStoreErrors.descriptor).increment()
        publicationHealth.failed(error)
    }

    func exportWritten(zone: String, path: String, at time: Int64) {
        let labels = [("zone", zone), ("file", path)]
        registry.makeCounter(descriptor: MetricName.exportsWritten.descriptor, labels: labels).increment()
        registry.makeGauge(descriptor: MetricName.exportLastWritten.descriptor, labels: labels).set(time)
    }

    func exportFailed(zone: String, path: String, _ error: any Error) {
        registry.makeCounter(descriptor: MetricName.exportsFailed.descriptor, labels: [("zone", zone), ("file", path)]).increment()
    }
}
