// CounterMirror.swift -- raises Prometheus counters to totals that are counted elsewhere.

import Prometheus

/// Copies totals kept outside the registry (the DNS servers' per-thread counters) into
/// Prometheus counters at scrape time, by adding what grew since the last scrape.
///
/// Adding the difference, rather than resetting and setting, keeps every counter
/// monotonic even when two scrapes overlap. Not thread-safe: ``RBLDMetrics`` runs all
/// mirroring under one lock.
struct CounterMirror {
    private var last: [String: UInt64] = [:]

    mutating func mirror(_ total: UInt64, to metric: MetricName, labels: [(String, String)] = [],
                         in registry: PrometheusCollectorRegistry) {
        let key = metric.name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
        let previous = last[key]
        // Totals only grow; an equal one needs no work once the series exists.
        if let previous, total <= previous { return }
        let counter = registry.makeCounter(descriptor: metric.descriptor, labels: labels)
        counter.increment(by: Int64(clamping: total - (previous ?? 0)))
        last[key] = total
    }
}
