// Services.swift -- the services `rbld run` and `rbld serve` run under swift-service-lifecycle.

import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import ServiceLifecycle
import Store
import Synchronization
import UnixSignals

/// Keeps the DNS server (started and bound by `Daemon.start`) answering until shutdown.
struct DNSService: Service {
    let server: DNSServer<Responder>

    func run() async throws {
        try? await gracefulShutdown()
        await server.stop()
    }
}

/// The ingest daemon: Maildir watch and LMTP. On shutdown it finishes the messages in
/// flight (LMTP replies 250 only after the commit; a Maildir message not committed stays
/// in new/), so nothing is lost.
final class IngestService: Service, @unchecked Sendable {
    private let daemon: IngestDaemon?
    private let logger: Logger
    let summary: [String]
    private let counts = Mutex(IngestCounts())
    var totals: IngestCounts { counts.withLock { $0 } }

    /// A service around a daemon already started (its LMTP address bound).
    init(daemon: IngestDaemon?, logger: Logger, summary: [String] = []) {
        self.daemon = daemon
        self.logger = logger
        self.summary = summary
    }

    /// Nothing to ingest (`rbld serve`): the service only waits for shutdown.
    static var off: IngestService { IngestService(daemon: nil, logger: Logger(label: "rbld.ingest"), summary: []) }

    /// Opens the LMTP listener, when configured; Maildirs are checked here so a typo fails
    /// at start, not at the first message.
    static func start(_ configuration: Configuration, logger: Logger, metrics: RBLDMetrics?) async throws -> IngestService {
        let settings = configuration.ingest
        guard let zone = configuration.zoneNames.first, settings.lmtp != nil || !settings.maildirs.isEmpty else {
            return IngestService(daemon: nil, logger: logger, summary: ["rbld: ingest: no LMTP address and no Maildir configured"])
        }
        let networks: TrustedNetworks
        do {
            networks = try configuration.trustedNetworks()
        } catch {
            throw Failure(.dataError, "\(configuration.source ?? "configuration"): ingest.trusted-networks: \(error)")
        }
        let maildirs = try settings.maildirs.map(trapMaildir)
        var daemonConfiguration = IngestDaemon.Configuration(db: configuration.db, zone: zone, trustedNetworks: networks)
        daemonConfiguration.maildirs = maildirs
        daemonConfiguration.quarantine = settings.quarantine
        daemonConfiguration.sideQuarantine = Quarantine(path: DefaultQuarantine.path(configured: settings.quarantine,
                                                                                   maildirs: maildirs, db: configuration.db))
        daemonConfiguration.batch = settings.batch
        daemonConfiguration.lmtp = settings.lmtp
        daemonConfiguration.lmtpOptions.session.hostname = hostName()
        daemonConfiguration.lmtpOptions.session.maxMessageByteCount = settings.maxMessageSize
        daemonConfiguration.lmtpOptions.idleTimeout = settings.lmtpIdleTimeout
        daemonConfiguration.lmtpOptions.maxConnections = settings.lmtpMaxConnections
        let daemon = IngestDaemon(configuration: daemonConfiguration, logger: logger, metrics: metrics)
        var summary: [String] = []
        if let bound = try await daemon.start() { summary.append("rbld: LMTP on \(bound), hits go to \(zone)") }
        if !maildirs.isEmpty { summary.append("rbld: watching \(maildirs.map(\.path).joined(separator: ", "))") }
        return IngestService(daemon: daemon, logger: logger, summary: summary)
    }

    func run() async throws {
        guard let daemon else {
            try? await gracefulShutdown()
            return
        }
        let stop = StopFlag()
        let totals = await withGracefulShutdownHandler {
            await daemon.run(until: stop)
        } onGracefulShutdown: { [logger] in
            logger.notice("ingest: finishing the messages in flight")
            stop.raise()
        }
        counts.withLock { $0 = totals }
    }
}

/// Serves `/metrics` (started and bound by `Daemon.start`) until shutdown.
struct MetricsService: Service, @unchecked Sendable {
    /// Only stopped, once, from this service's task.
    let endpoint: MetricsEndpoint?

    func run() async throws {
        try? await gracefulShutdown()
        await endpoint?.stop()
    }
}

/// Hourly: prunes change-log rows older than a week, removes expired manual listings and
/// applies each zone's evidence retention (`policy.keep-hits`, `policy.max-hits-per-source`),
/// so the store stays bounded (`rbld expire --retention` does the same on demand).
/// Listings need no job: they expire continuously in the DNS answers.
struct ExpiryService: Service {
    let db: String
    let zones: [String]
    let logger: Logger
    var interval: Duration = .seconds(3600)
    var changeLogAge: Int64 = 7 * 86400

    func run() async throws {
        while true {
            do { try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) } } catch { return }
            if Task.isShuttingDownGracefully { return }
            do {
                let store = try Store(path: db)
                for zone in zones {
                    let summary = try store.expire(zone: zone, hitsOlderThan: nil, changeLogOlderThan: changeLogAge,
                                                   retention: true, dryRun: false, actor: "rbld run")
                    logger.info("expiry", metadata: ["zone": "\(zone)", "pruned_changes": "\(summary.prunedChanges)",
                                                     "expired_listings": "\(summary.expiredListings)",
                                                     "deleted_hits": "\(summary.deletedHits + summary.cappedHits)",
                                                     "deleted_sources": "\(summary.deletedSources)"])
                }
            } catch {
                logger.warning("expiry skipped, retried in an hour", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// SIGHUP re-reads the configuration.
struct ReloadService: Service, @unchecked Sendable {
    /// Used only to call `reload()`, one signal at a time from this service's task.
    let daemon: Daemon
    /// Trapped since start-up (``Daemon/start(_:role:logger:)``), before the daemon said it
    /// is ready: a SIGHUP sent at once is kept for this service, never the default action
    /// (which would end the process).
    let hangups: UnixSignalsSequence

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            daemon.reload()
        }
    }
}
