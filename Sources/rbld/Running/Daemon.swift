// Daemon.swift -- `rbld run` and `rbld serve`: publication, serving, ingest and expiry in one process.

import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import NIOCore
import NIOPosix
import Publication
import ServiceLifecycle
import Store
import UnixSignals
import Web

/// The whole of rbld in one process, under swift-service-lifecycle. `rbld run` is all of
/// it; `rbld serve` is the same with ingest switched off.
///
/// Start-up is ordered and fails early with an exit code: publication opens the store,
/// writes the configuration's zones to it, loads every zone and binds the DNS sockets;
/// then the LMTP listener and the metrics endpoint. Only then do the services run:
///
/// | service | does | on SIGTERM/SIGINT |
/// |---|---|---|
/// | publication | follows the change log, swaps tables | stops last |
/// | dns | answers UDP and TCP | stops after ingest |
/// | metrics | `/metrics` for Prometheus, when configured | stops after ingest |
/// | web | pages, JSON API, admin (`web.listen` or `--web`), when configured | stops after ingest |
/// | ingest | Maildir watch + LMTP (`run` only) | finishes the messages in flight first |
/// | exports | writes the configured `exports:` files when their zone changed | stops at once |
/// | expiry | prunes old change-log rows hourly | stops at once |
/// | reload | SIGHUP: re-reads the configuration and applies it (``reload()``) | stops at once |
///
/// ServiceGroup shuts services down in reverse order, so no message is cut off and DNS
/// answers until ingest has committed its last batch.
final class Daemon {
    /// What a daemon does beyond serving.
    struct Role: Sendable {
        /// Ingest trap mail (Maildir watch, LMTP): `rbld run`.
        var ingests = true
        /// Write the configuration's zone settings and policies to the store, at start and on
        /// SIGHUP. `rbld serve` does only for a file named with --config: the implicit
        /// zones/rbld.yaml gives it defaults, and settings imported with a zone file stand.
        var appliesZoneDefinitions = true
        /// Lays the command's flags over a configuration file read again on SIGHUP, so a
        /// flag keeps winning over the file.
        var overlay: @Sendable (Configuration) throws -> Configuration = { $0 }

        static let run = Role()
    }

    let configuration: Configuration
    let role: Role
    private let logger: Logger
    private let publication: Publication
    private let ingest: IngestService
    private let metricsService: MetricsService
    private let metrics: RBLDMetrics?
    private let web: WebSite?
    /// Keeps the configuration's `exports:` files current.
    private let exports: ExportService
    /// The configuration as applied by start-up and the SIGHUPs since; only ``reload()``
    /// (one signal at a time, from the reload service's task) reads and writes it.
    private var applied: Configuration
    /// SIGHUP, trapped before start-up reports ready (see ``ReloadService``).
    private let hangups: UnixSignalsSequence
    /// What start-up reports: where rbld listens and what it serves.
    private(set) var summary: [String] = []

    private init(configuration: Configuration, role: Role, logger: Logger, publication: Publication,
                 ingest: IngestService, metricsService: MetricsService, metrics: RBLDMetrics?, web: WebSite?,
                 exports: ExportService, hangups: UnixSignalsSequence) {
        self.configuration = configuration
        applied = configuration
        self.role = role
        self.logger = logger
        self.publication = publication
        self.ingest = ingest
        self.metricsService = metricsService
        self.metrics = metrics
        self.web = web
        self.exports = exports
        self.hangups = hangups
    }

    /// Opens, loads and binds everything, in order.
    ///
    /// - Throws: `Failure` 74 (store), 65 (data in the store), 69 (an address cannot be bound).
    static func start(_ configuration: Configuration, role: Role = .run, logger: Logger) async throws -> Daemon {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let metrics = configuration.metrics == nil ? nil : RBLDMetrics.process
        let publication: Publication
        do {
            publication = try await Publication.start(configuration.publication(applyingDefinitions: role.appliesZoneDefinitions),
                                                      logger: logger, observer: metrics)
        } catch {
            throw Failure(error)
        }
        let server = publication.server

        let ingest: IngestService
        var endpoint: MetricsEndpoint?
        var metricsAddress: ListenAddress?
        var makeEndpoint: (@Sendable (ListenAddress) -> MetricsEndpoint)?
        do {
            ingest = role.ingests ? try await IngestService.start(configuration, logger: logger, metrics: metrics) : .off
            if let address = configuration.metrics, let metrics {
                let health = HealthCheck(db: configuration.db, pollInterval: configuration.dns.pollInterval,
                                         publication: metrics.publicationHealth)
                metrics.observe(transfers: publication.transfers, notifier: publication.notifier)
                (endpoint, metricsAddress) = try await metrics.serve(dns: server, snapshots: publication.snapshots,
                                                                     at: address, health: health, logger: logger)
                makeEndpoint = { metrics.endpoint(address: $0, health: health, logger: logger) }
            }
        } catch {
            await server.stop()
            throw error
        }

        var web: WebSite?
        if let webConfiguration = configuration.webConfiguration, let listen = configuration.web.listen {
            // Hummingbird binds when its service runs; an address that cannot be bound is
            // found here, so start-up fails early (69) as for the DNS and metrics addresses.
            if let problem = await Self.bindProblem(listen) {
                await server.stop()
                await endpoint?.stop()
                throw Failure(.unavailable, "web: cannot listen on \(listen): \(problem)")
            }
            do {
                // The web side counts what the DNS server answered, for /stats; it never
                // takes a lock the UDP threads hold while answering.
                // Lookups take the answer from the snapshots DNS answers from.
                web = try WebSite(configuration: webConfiguration, logger: logger, queriesAnswered: { [server] in
                    let counters = server.counters()
                    return counters.udp.answered &+ counters.tcp.answered
                }, served: SnapshotListings(snapshots: publication.snapshots),
                   servedLag: configuration.dns.pollInterval * 2 + .seconds(1))
            } catch let error as StoreError {
                await server.stop()
                throw Failure(error)
            } catch {
                await server.stop()
                throw Failure(.software, "web: \(error)")
            }
        }

        let exports = ExportService(exports: configuration.exports, snapshots: publication.snapshots,
                                    logger: logger, observer: metrics)
        let daemon = Daemon(configuration: configuration, role: role, logger: logger, publication: publication,
                            ingest: ingest, metricsService: MetricsService(endpoint: endpoint, make: makeEndpoint),
                            metrics: metrics, web: web, exports: exports, hangups: hangups)
        for zone in publication.snapshots.load().zones {
            daemon.summary.append("rbld: serving \(zone.config.name) (serial \(zone.config.soa.serial), "
                                  + "\(zone.table.v4Count) IPv4 + \(zone.table.v6Count) IPv6 entries) from \(configuration.db)")
        }
        daemon.summary.append("rbld: DNS on \(server.boundAddresses.map(\.description).joined(separator: ", ")) (UDP and TCP)")
        let rrl = configuration.dns.rrl
        if rrl.rate > 0 {
            daemon.summary.append("rbld: UDP responses limited to \(rrl.rate)/s per client network (/\(rrl.ipv4PrefixLength), "
                                  + "/\(rrl.ipv6PrefixLength)) and answer class, slip \(rrl.slip)")
        }
        daemon.summary += ingest.summary
        for export in configuration.exports {
            daemon.summary.append("rbld: exporting \(export.zone) as \(export.format.rawValue)"
                                  + (export.family.map { " (IPv\($0 == .v4 ? 4 : 6))" } ?? "")
                                  + " to \(export.path) when changed, looked at every \(export.interval)")
        }
        if let metricsAddress { daemon.summary.append("rbld: metrics on http://\(metricsAddress)/metrics, health on /healthz") }
        return daemon
    }

    /// Why a TCP socket cannot be bound to `address` now (in use, not a local address), or
    /// nil when it can; the test listener is closed again at once.
    static func bindProblem(_ address: ListenAddress) async -> String? {
        guard address.port != 0 else { return nil }
        do {
            let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: Int(address.port)).get()
            try await listener.close()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Runs every service until SIGTERM or SIGINT, then shuts them down in order.
    func run() async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: publication.service, serviceName: "publication"),
            .init(service: DNSService(server: publication.server), serviceName: "dns"),
            .init(service: metricsService, serviceName: "metrics"),
        ]
        if let web {
            services.append(.init(service: web.application { address in
                print("rbld: web on http://\(address)/")
                flushStandardOutput()
            }, serviceName: "web"))
        }
        services += [
            .init(service: ingest, serviceName: "ingest"),
            .init(service: exports, serviceName: "exports"),
            .init(service: ExpiryService(db: configuration.db, zones: configuration.zoneNames, logger: logger), serviceName: "expiry"),
            .init(service: ReloadService(daemon: self, hangups: hangups), serviceName: "reload"),
        ]
        var group = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.logging.keys.serviceKey = "service"
        try await ServiceGroup(configuration: group).run()
        logger.notice("stopped", metadata: ["ingested": "\(ingest.totals)"])
    }

    /// SIGHUP: re-reads the file and applies what can change while running: zones, their
    /// settings and policies; the log level; the DNS listen addresses (new ones bound before
    /// removed ones close; the ones that stay keep answering); the `ingest` section (the
    /// ingest daemon is replaced after its messages in flight: Maildirs, trusted networks,
    /// LMTP address); the metrics address. A bad file is logged and the running
    /// configuration kept; a section that cannot apply (an address that cannot be bound)
    /// is logged and keeps its running settings. DNS keeps answering throughout, from the
    /// old tables until the new ones are built. Without a file to apply (no file, or `serve`
    /// without --config), every zone is reloaded from the store as it is.
    func reload() async {
        guard let path = configuration.source, role.appliesZoneDefinitions else {
            logger.notice("SIGHUP: no configuration file to apply; reloading every zone from the store")
            publication.service.requestReload(zones: configuration.zoneNames)
            return
        }
        let fresh: Configuration
        do {
            fresh = try role.overlay(ConfigurationFile.load(path))
        } catch {
            logger.error("SIGHUP: configuration not reloaded, keeping the running one", metadata: ["error": "\(error)"])
            return
        }
        let running = applied
        var restartNeeded: [String] = []
        if fresh.db != running.db { restartNeeded.append("db") }
        var dnsOtherThanListen = fresh.dns
        dnsOtherThanListen.listen = running.dns.listen
        if dnsOtherThanListen != running.dns { restartNeeded.append("dns (but listen)") }
        if fresh.metrics != running.metrics, running.metrics == nil { restartNeeded.append("metrics") }
        if fresh.exports != running.exports { restartNeeded.append("exports") }
        if fresh.logLevel != logger.logLevel {
            DaemonLogHandler.setLevel(fresh.logLevel)
            logger.notice("SIGHUP: log level changed", metadata: ["log_level": "\(fresh.logLevel)"])
        }
        if !restartNeeded.isEmpty {
            logger.warning("SIGHUP: these sections changed and take effect at the next restart",
                           metadata: ["sections": "\(restartNeeded.joined(separator: ", "))"])
        }
        do {
            let store = try Store(path: configuration.db)
            try ZoneConfigurator.apply(fresh.zoneDefinitions, source: path, to: store, logger: logger)
        } catch {
            logger.error("SIGHUP: zones not reloaded: the store refused them", metadata: ["error": "\(error)"])
            return
        }
        publication.service.requestReload(zones: fresh.zoneNames)
        var next = running
        next.zones = fresh.zones
        next.logLevel = fresh.logLevel
        if fresh.dns.listen != running.dns.listen { next.dns.listen = await applyListen(fresh.dns.listen, running: running.dns.listen) }
        if role.ingests, Self.ingestChanged(from: running, to: fresh) {
            do {
                if let summary = try await ingest.reload(fresh, fallback: running, metrics: metrics) {
                    next.ingest = fresh.ingest
                    logger.notice("SIGHUP: ingest restarted with the new settings", metadata: ["ingest": "\(summary.joined(separator: "; "))"])
                }
            } catch {
                next.zones = running.zones  // the trusted networks follow the first zone's listable ranges
                logger.error("SIGHUP: ingest settings not applied, ingest runs as before", metadata: ["error": "\(error)"])
            }
        }
        if fresh.metrics != running.metrics, running.metrics != nil {
            do {
                let bound = try await metricsService.move(to: fresh.metrics, from: running.metrics)
                next.metrics = fresh.metrics
                logger.notice("SIGHUP: metrics moved", metadata: ["address": "\(bound.map { "http://\($0)/metrics" } ?? "off")"])
            } catch {
                logger.error("SIGHUP: metrics address not changed", metadata: ["error": "\(error)"])
            }
        }
        applied = next
        logger.notice("SIGHUP: configuration reloaded", metadata: ["file": "\(path)", "zones": "\(fresh.zoneNames.joined(separator: ", "))"])
    }

    /// Serves DNS on `wanted`; returns the addresses served afterwards (`running` when
    /// they could not change).
    private func applyListen(_ wanted: [ListenAddress], running: [ListenAddress]) async -> [ListenAddress] {
        do {
            let (added, removed) = try await publication.server.update(addresses: wanted)
            logger.notice("SIGHUP: DNS listen addresses changed", metadata: [
                "added": "\(added.map(\.description).joined(separator: ", "))",
                "removed": "\(removed.map(\.description).joined(separator: ", "))",
                "serving": "\(publication.server.boundAddresses.map(\.description).joined(separator: ", "))",
            ])
            return wanted
        } catch {
            logger.error("SIGHUP: DNS listen addresses not changed", metadata: ["error": "\(error)"])
            return running
        }
    }

    /// Whether what ingest runs with differs: its section, the zone it records in, or the
    /// trusted networks (which the first zone's listable ranges add to).
    static func ingestChanged(from running: Configuration, to fresh: Configuration) -> Bool {
        fresh.ingest != running.ingest || fresh.zoneNames.first != running.zoneNames.first
            || (try? fresh.trustedNetworks()) != (try? running.trustedNetworks())
    }
}
