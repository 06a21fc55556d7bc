// MetricName.swift -- the name and help text of every metric rbld exports (docs/METRICS.md).

import Prometheus

/// A Prometheus metric family: `rbld_` + subsystem + name + unit, and its `# HELP` text.
///
/// The registry insists that every use of a name carries the same help text, so each family
/// is spelled once, here, and used everywhere by these constants.
struct MetricName: Sendable {
    let subsystem: String?
    let base: String
    let unit: String
    let help: String

    init(_ subsystem: String?, _ base: String, unit: String, help: String) {
        (self.subsystem, self.base, self.unit, self.help) = (subsystem, base, unit, help)
    }

    var descriptor: MetricNameDescriptor {
        MetricNameDescriptor(namespace: "rbld", subsystem: subsystem, metricName: base, unitName: unit, helpText: help)
    }

    /// The full name, as scraped.
    var name: String { descriptor.name }

    // DNS (from the servers' and the responder's own counters, mirrored at each scrape).
    static let dnsQueries = MetricName("dns", "queries", unit: "total",
        help: "DNS queries answered, by transport, zone, query type, response code and whether a listing was answered.")
    static let dnsTruncated = MetricName("dns", "responses_truncated", unit: "total",
        help: "DNS answers sent with TC=1 because they did not fit the client's size.")
    static let dnsReceived = MetricName("dns", "received", unit: "total",
        help: "DNS messages received: UDP datagrams, TCP length-prefixed messages.")
    static let dnsDropped = MetricName("dns", "dropped", unit: "total",
        help: "DNS messages not answered: unanswerable (no header to echo, or a response), oversize (UDP datagram longer than the buffer), rate-limited (UDP response over its client network's rate).")
    static let dnsRateLimited = MetricName("dns", "rrl_limited", unit: "total",
        help: "UDP responses over their client network's rate: dropped, or slipped (sent truncated, TC=1).")
    static let dnsClientPolicy = MetricName("dns", "client_policy", unit: "total",
        help: "Queries answered by the client policy: refused (REFUSED), fixed-code (127.255.255.254), over-quota (127.255.255.255).")
    static let dnsSendErrors = MetricName("dns", "udp_send_errors", unit: "total",
        help: "UDP replies the kernel refused to send.")
    static let dnsReceiveErrors = MetricName("dns", "udp_receive_errors", unit: "total",
        help: "Failed UDP receive calls.")
    static let tcpConnections = MetricName("dns", "tcp_connections", unit: "total",
        help: "TCP connections, accepted or rejected at the connection cap.")
    static let tcpClosed = MetricName("dns", "tcp_connections_closed", unit: "total",
        help: "TCP connections closed by the server, by reason: idle timeout or framing error.")
    static let tcpOpen = MetricName("dns", "tcp_connections_open", unit: "",
        help: "TCP connections open now.")

    // Served zones.
    static let zoneEntries = MetricName("zone", "entries", unit: "",
        help: "Entries (listed prefixes and exclusions) in the served table, by zone and address family.")
    static let zoneTableBytes = MetricName("zone", "table", unit: "bytes",
        help: "Memory of the served prefix table, by zone.")
    static let zoneSerial = MetricName("zone", "serial", unit: "",
        help: "SOA serial of the served zone (the store's change serial it reflects).")
    static let publicationLag = MetricName(nil, "publication_lag", unit: "seconds",
        help: "Time from the publisher seeing a new change serial to the new snapshot being served.")
    static let publicationStoreErrors = MetricName("publication", "store_errors", unit: "total",
        help: "Failed looks at the store by the publisher; every zone kept serving its last good snapshot.")
    static let publicationLastRead = MetricName("publication", "last_read_timestamp", unit: "seconds",
        help: "Unix time of the publisher's last successful look at the store: how fresh the served snapshots are.")

    // Zone transfers and NOTIFY (from their own counters, mirrored at each scrape).
    static let transfers = MetricName("transfer", "served", unit: "total",
        help: "Zone transfer requests answered, by type: AXFR, IXFR (a difference, the full zone, or the SOA alone when up to date).")
    static let transfersRefused = MetricName("transfer", "refused", unit: "total",
        help: "Zone transfer requests refused, by the check that refused them: acl (zone not offered, client not allowed), tsig (key, signature, time, or not signed with the zone's key), request (malformed, not a served zone).")
    static let notifySent = MetricName("notify", "sent", unit: "total",
        help: "NOTIFY messages sent to secondaries, retries included.")
    static let notifyAnswered = MetricName("notify", "answered", unit: "total",
        help: "NOTIFY messages a secondary answered with NOERROR.")
    static let notifyFailed = MetricName("notify", "failed", unit: "total",
        help: "NOTIFY rounds that failed, by reason: refused (the secondary answered with an error code), unanswered (no answer after the last retry).")

    // Exports for mirrors.
    static let exportsWritten = MetricName("exports", "written", unit: "total",
        help: "Export files written because their zone changed, by zone and file.")
    static let exportsFailed = MetricName("exports", "failed", unit: "total",
        help: "Export files that could not be written, by zone and file; the file kept its last contents.")
    static let exportLastWritten = MetricName("export", "last_written_timestamp", unit: "seconds",
        help: "Unix time an export file was last written, by zone and file.")

    // Ingest.
    static let ingestMessages = MetricName("ingest", "messages", unit: "total",
        help: "Trap messages ingested, by outcome, classifier verdict and kind.")
    static let storeCommit = MetricName("store", "commit", unit: "seconds",
        help: "Time to commit one batch of ingested messages to the store.")

    // Process.
    static let residentMemory = MetricName("process", "resident_memory", unit: "bytes",
        help: "Resident memory of the rbld process.")
    static let openFDs = MetricName("process", "open_fds", unit: "",
        help: "Open file descriptors of the rbld process.")
}
