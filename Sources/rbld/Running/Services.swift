// Services.swift -- the services `rbld run` runs under swift-service-lifecycle.
import CNetShim
import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import ServiceLifecycle
import Store
import Synchronization
import UnixSignals

/// Follows the store's change log and publishes changed zones, off the serving threads.
/// Used by `rbld run` (as a service) and `rbld serve` (in a task it cancels).
///
/// The publisher and its store connection are used only by `run()`'s task once start-up
/// has handed them over; other tasks talk to it through `requestReload`.
final class PublicationService: Service, @unchecked Sendable {
    private var publisher: Publisher
    private let store: Store
    private let snapshots: SnapshotStore
    private let interval: Duration
    private let logger: Logger
    private let metrics: RBLDMetrics?
    /// Set by SIGHUP: the zones to serve from now on, loaded whole at the next tick.
    private let pendingReload = Mutex<[String]?>(nil)

    init(publisher: Publisher, store: Store, snapshots: SnapshotStore, interval: Duration, logger: Logger,
         metrics: RBLDMetrics? = nil) {
        self.publisher = publisher
        self.store = store
        self.snapshots = snapshots
        self.interval = interval
        self.logger = logger
        self.metrics = metrics
    }

    func requestReload(zones: [String]) {
        pendingReload.withLock { $0 = zones }
    }

    /// Publishes changes every `interval` until shutdown or cancellation. Zones built from
    /// the store at start-up are written to the snapshot cache first (while DNS already
    /// answers), and every zone again at the end, so a restart loads from the cache.
    func run() async throws {
        publisher.saveSnapshotCaches()
        cnet_trim_heap()  // encoding the cache took as much heap again as the table: give it back
        while !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: interval) } catch { break }  // cancelled
            tick()
        }
        publisher.saveSnapshotCaches()
    }

    private func tick() {
        do {
            if let zones = pendingReload.withLock({ $0.take() }) {
                publisher = Publisher(store: store, zones: zones, logger: logger, clock: { Int64(time(nil)) })
                snapshots.publish(try publisher.loadAll())
                logger.notice("reloaded every zone from the store", metadata: ["zones": "\(zones.joined(separator: ", "))"])
            }
            // Lag: from this look at the store (where a new serial is first seen) to the
            // publication; the wait for this tick (at most `interval`) comes on top.
            let seen = ContinuousClock.now
            let changed = try publisher.update()
            guard !changed.isEmpty else { return }
            for zone in changed { snapshots.publish(zone: zone) }
            metrics?.publication(lag: ContinuousClock.now - seen)
            cnet_trim_heap()  // the previous tables are freed by now or soon
        } catch {
            // A busy or briefly unavailable store is retried at the next tick.
            logger.warning("store not readable", metadata: ["error": "\(error)"])
        }
    }
}

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

    private init(daemon: IngestDaemon?, logger: Logger, summary: [String]) {
        self.daemon = daemon
        self.logger = logger
        self.summary = summary
    }

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
        let maildirs = try settings.maildirs.map(IngestCommand.trapMaildir)
        var daemonConfiguration = IngestDaemon.Configuration(db: configuration.db, zone: zone, trustedNetworks: networks)
        daemonConfiguration.maildirs = maildirs
        daemonConfiguration.quarantine = settings.quarantine
        if let quarantine = settings.quarantine ?? maildirs.first.map({ $0.path + "/.quarantine" }) {
            daemonConfiguration.sideQuarantine = Quarantine(path: quarantine)
        }
        daemonConfiguration.batch = settings.batch
        daemonConfiguration.lmtp = settings.lmtp
        daemonConfiguration.lmtpOptions.session.hostname = IngestCommand.hostName()
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

/// Prunes change-log rows older than a week, hourly (`rbld expire` does it on demand).
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
                                                   dryRun: false, actor: "rbld run")
                    logger.info("expiry", metadata: ["zone": "\(zone)", "pruned_changes": "\(summary.prunedChanges)",
                                                     "expired_listings": "\(summary.expiredListings)"])
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

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            daemon.reload()
        }
    }
}
