// Daemon.swift -- `rbld run`: serving, ingest, expiry and publication in one process.
import CNetShim
import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import ServiceLifecycle
import Store
import UnixSignals

/// The whole of rbld in one process, under swift-service-lifecycle.
///
/// Start-up is ordered and fails early with an exit code: the store is opened and the
/// configuration's zones written to it, every zone is loaded, the DNS sockets are bound,
/// then the LMTP listener and the metrics endpoint. Only then do the services run:
///
/// | service | does | on SIGTERM/SIGINT |
/// |---|---|---|
/// | publication | follows the change log, swaps tables | stops last |
/// | dns | answers UDP and TCP | stops after ingest |
/// | metrics | `/metrics` for Prometheus, when configured | stops after ingest |
/// | ingest | Maildir watch + LMTP | finishes the messages in flight first |
/// | expiry | prunes old change-log rows hourly | stops at once |
/// | reload | SIGHUP: re-reads the configuration | stops at once |
///
/// ServiceGroup shuts services down in reverse order, so no message is cut off and DNS
/// answers until ingest has committed its last batch.
final class Daemon {
    let configuration: Configuration
    private let logger: Logger
    private let publication: PublicationService
    private let server: DNSServer<Responder>
    private let ingest: IngestService
    private let endpoint: MetricsEndpoint?
    /// What start-up reports: where rbld listens and what it serves.
    private(set) var summary: [String] = []

    private init(configuration: Configuration, logger: Logger, publication: PublicationService,
                 server: DNSServer<Responder>, ingest: IngestService, endpoint: MetricsEndpoint?) {
        self.configuration = configuration
        self.logger = logger
        self.publication = publication
        self.server = server
        self.ingest = ingest
        self.endpoint = endpoint
    }

    /// Opens, loads and binds everything, in order.
    ///
    /// - Throws: `Failure` 74 (store), 65 (data in the store), 69 (an address cannot be bound).
    static func start(_ configuration: Configuration, logger: Logger) async throws -> Daemon {
        let store = try storeCall { () throws(StoreError) -> Store in
            let store = try Store(path: configuration.db)
            try ZoneConfigurator.apply(configuration, to: store, logger: logger)
            return store
        }
        let metrics = configuration.metrics == nil ? nil : RBLDMetrics.process
        let publisher = Publisher(store: store, zones: configuration.zoneNames, logger: logger, clock: { Int64(time(nil)) })
        let served: ServedZones
        do { served = try publisher.loadAll() } catch { throw Failure(.dataError, "\(configuration.db): \(error)") }
        cnet_trim_heap()  // loading copied the cache blob and built arrays from it
        let snapshots = SnapshotStore(served)
        let publication = PublicationService(publisher: publisher, store: store, snapshots: snapshots,
                                             interval: configuration.dns.pollInterval, logger: logger, metrics: metrics)

        let server = configuration.dns.makeServer(serving: snapshots, logger: logger)
        do { try await server.start() } catch { throw Failure(.unavailable, "DNS: \(error)") }

        let ingest: IngestService
        var endpoint: MetricsEndpoint?
        var metricsAddress: ListenAddress?
        do {
            ingest = try await IngestService.start(configuration, logger: logger, metrics: metrics)
            if let address = configuration.metrics, let metrics {
                (endpoint, metricsAddress) = try await metrics.serve(dns: server, snapshots: snapshots, at: address, logger: logger)
            }
        } catch {
            await server.stop()
            throw error
        }

        let daemon = Daemon(configuration: configuration, logger: logger, publication: publication, server: server,
                            ingest: ingest, endpoint: endpoint)
        for zone in served.zones {
            daemon.summary.append("rbld: serving \(zone.config.name) (serial \(zone.config.soa.serial), "
                                  + "\(zone.table.v4Count) IPv4 + \(zone.table.v6Count) IPv6 entries) from \(configuration.db)")
        }
        daemon.summary.append("rbld: DNS on \(server.boundAddresses.map(\.description).joined(separator: ", ")) (UDP and TCP)")
        daemon.summary += ingest.summary
        if let metricsAddress { daemon.summary.append("rbld: metrics on http://\(metricsAddress)/metrics") }
        return daemon
    }

    /// Runs every service until SIGTERM or SIGINT, then shuts them down in order.
    func run() async throws {
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: publication, serviceName: "publication"),
            .init(service: DNSService(server: server), serviceName: "dns"),
            .init(service: MetricsService(endpoint: endpoint), serviceName: "metrics"),
            .init(service: ingest, serviceName: "ingest"),
            .init(service: ExpiryService(db: configuration.db, zones: configuration.zoneNames, logger: logger), serviceName: "expiry"),
            .init(service: ReloadService(daemon: self), serviceName: "reload"),
        ]
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.logging.keys.serviceKey = "service"
        try await ServiceGroup(configuration: group).run()
        logger.notice("stopped", metadata: ["ingested": "\(ingest.totals)"])
    }

    /// SIGHUP: re-reads the file and applies what can change while running (zones, their
    /// settings and policies). A bad file is logged and the running configuration kept;
    /// DNS keeps answering throughout, from the old tables until the new ones are built.
    func reload() {
        guard let path = configuration.source else {
            logger.notice("SIGHUP: no configuration file to re-read; reloading every zone from the store")
            publication.requestReload(zones: configuration.zoneNames)
            return
        }
        let fresh: Configuration
        do {
            fresh = try ConfigurationFile.load(path)
        } catch {
            logger.error("SIGHUP: configuration not reloaded, keeping the running one", metadata: ["error": "\(error)"])
            return
        }
        var restartNeeded: [String] = []
        if fresh.db != configuration.db { restartNeeded.append("db") }
        if fresh.dns != configuration.dns { restartNeeded.append("dns") }
        if fresh.ingest != configuration.ingest { restartNeeded.append("ingest") }
        if fresh.metrics != configuration.metrics { restartNeeded.append("metrics") }
        if fresh.logLevel != configuration.logLevel { restartNeeded.append("log-level") }
        if !restartNeeded.isEmpty {
            logger.warning("SIGHUP: these sections changed and take effect at the next restart",
                           metadata: ["sections": "\(restartNeeded.joined(separator: ", "))"])
        }
        do {
            let store = try Store(path: configuration.db)
            try ZoneConfigurator.apply(fresh, to: store, logger: logger)
        } catch {
            logger.error("SIGHUP: zones not reloaded: the store refused them", metadata: ["error": "\(error)"])
            return
        }
        publication.requestReload(zones: fresh.zoneNames)
        logger.notice("SIGHUP: configuration reloaded", metadata: ["file": "\(path)", "zones": "\(fresh.zoneNames.joined(separator: ", "))"])
    }
}

/// Writes the configuration's zone settings and listing policies to the store, where the
/// DNS side and ingest read them. Unchanged values write nothing; changes are audited with
/// the actor `config`.
enum ZoneConfigurator {
    static func apply(_ configuration: Configuration, to store: Store, logger: Logger) throws(StoreError) {
        let reason = "configuration \(configuration.source ?? "defaults")"
        for zone in configuration.zones {
            let before = (settings: try store.zoneSettings(zone.settings.name), policy: try store.listingPolicy(zone: zone.settings.name))
            try store.saveZoneSettings(zone.settings, actor: "config", reason: reason)
            try store.saveListingPolicy(zone.policy, zone: zone.settings.name, actor: "config", reason: reason)
            if before.settings != zone.settings || before.policy != zone.policy {
                logger.info("zone configured", metadata: ["zone": "\(zone.settings.name)", "from": "\(reason)"])
            }
        }
    }
}

extension Duration {
    /// In seconds, for logs.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
