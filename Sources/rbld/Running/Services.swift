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
///
/// SIGHUP replaces the daemon when the `ingest` section changed (``reload(_:)``): the
/// running one finishes its messages in flight and closes its LMTP listener, then one
/// with the new Maildirs, trusted networks and LMTP address starts. Meanwhile Maildir
/// messages wait in new/ and an MTA's LMTP connection is refused, which it retries.
final class IngestService: Service, @unchecked Sendable {
    private let logger: Logger
    let summary: [String]
    private let counts = Mutex(IngestCounts())
    var totals: IngestCounts { counts.withLock { $0 } }
    /// Between `run` and `reload`: what stops the running daemon, and the hand-over.
    private let handover = Mutex(Handover())

    private struct Handover {
        /// Raised to stop the daemon running now.
        var stop: StopFlag?
        var shuttingDown = false
        /// A reload waiting for the running daemon to finish.
        var finished: CheckedContinuation<Bool, Never>?
        /// `run` waiting for the daemon a reload starts (nil: shut down).
        var next: CheckedContinuation<IngestDaemon?, Never>?
    }

    /// The daemon `run` starts with; nil: nothing to ingest (`rbld serve`).
    private let first: IngestDaemon?

    /// A service around a daemon already started (its LMTP address bound).
    init(daemon: IngestDaemon?, logger: Logger, summary: [String] = []) {
        first = daemon
        self.logger = logger
        self.summary = summary
    }

    /// Nothing to ingest (`rbld serve`): the service only waits for shutdown.
    static var off: IngestService { IngestService(daemon: nil, logger: Logger(label: "rbld.ingest"), summary: []) }

    /// Opens the LMTP listener, when configured; Maildirs are checked here so a typo fails
    /// at start, not at the first message. Without either the daemon idles until a reload
    /// configures one.
    static func start(_ configuration: Configuration, logger: Logger, metrics: RBLDMetrics?) async throws -> IngestService {
        let daemon = IngestDaemon(configuration: try daemonConfiguration(configuration), logger: logger, metrics: metrics)
        return IngestService(daemon: daemon, logger: logger, summary: try await start(daemon).summary)
    }

    /// Starts `daemon` (binds its LMTP address) and says what it ingests.
    private static func start(_ daemon: IngestDaemon) async throws -> (bound: ListenAddress?, summary: [String]) {
        let settings = daemon.configuration
        var summary: [String] = []
        let bound = try await daemon.start()
        if let bound { summary.append("rbld: LMTP on \(bound), hits go to \(settings.zone)") }
        if !settings.maildirs.isEmpty { summary.append("rbld: watching \(settings.maildirs.map(\.path).joined(separator: ", "))") }
        if summary.isEmpty { summary.append("rbld: ingest: no LMTP address and no Maildir configured") }
        return (bound, summary)
    }

    /// The daemon's settings from the configuration's `ingest` section.
    ///
    /// - Throws: `Failure` 65 for bad trusted networks, 66 for a Maildir that is not one.
    static func daemonConfiguration(_ configuration: Configuration) throws -> IngestDaemon.Configuration {
        let settings = configuration.ingest
        let zone = configuration.zoneNames.first ?? ""
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
        return daemonConfiguration
    }

    func run() async throws {
        guard var daemon = first else {
            try? await gracefulShutdown()
            return
        }
        while true {
            let stop = StopFlag()
            handover.withLock { $0.stop = stop }
            let totals = await withGracefulShutdownHandler {
                await daemon.run(until: stop)
            } onGracefulShutdown: { [self] in
                logger.notice("ingest: finishing the messages in flight")
                handover.withLock { state in
                    state.shuttingDown = true
                    state.stop?.raise()
                }
            }
            counts.withLock { $0.add(totals) }
            // Stopped for shutdown, or for a reload, which hands over the next daemon.
            let next = await withCheckedContinuation { (continuation: CheckedContinuation<IngestDaemon?, Never>) in
                let (finished, replaced) = handover.withLock { state -> (CheckedContinuation<Bool, Never>?, Bool) in
                    state.stop = nil
                    let finished = state.finished
                    state.finished = nil
                    guard !state.shuttingDown, finished != nil else {
                        continuation.resume(returning: nil)
                        return (finished, false)
                    }
                    state.next = continuation
                    return (finished, true)
                }
                // A reload that raced with shutdown replaces nothing.
                finished?.resume(returning: replaced)
            }
            guard let next else { return }
            daemon = next
        }
    }

    /// Applies a changed `ingest` section: stops the running daemon after its messages in
    /// flight, then starts one with `configuration`. When that cannot start (the LMTP
    /// address taken), the running settings (`fallback`) are started again and the error
    /// is thrown.
    ///
    /// - Returns: what now runs, for the log; nil when nothing ran to replace (`serve`, or
    ///   shutting down).
    /// - Throws: `Failure` for a section that cannot apply; nothing was stopped when the
    ///   section itself is bad (trusted networks, a Maildir that is not one).
    func reload(_ configuration: Configuration, fallback: Configuration, metrics: RBLDMetrics?) async throws -> [String]? {
        let settings = try Self.daemonConfiguration(configuration)
        let stopped = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            handover.withLock { state in
                guard let stop = state.stop, !state.shuttingDown, state.finished == nil else {
                    continuation.resume(returning: false)
                    return
                }
                state.finished = continuation
                stop.raise()
            }
        }
        guard stopped else { return nil }
        var next = IngestDaemon(configuration: settings, logger: logger, metrics: metrics)
        var summary: [String] = []
        var failure: (any Error)?
        do {
            (_, summary) = try await Self.start(next)
        } catch {
            failure = error
            next = IngestDaemon(configuration: (try? Self.daemonConfiguration(fallback)) ?? settings, logger: logger, metrics: metrics)
            summary = (try? await Self.start(next))?.summary ?? []
        }
        let waiting = handover.withLock { state -> CheckedContinuation<IngestDaemon?, Never>? in
            defer { state.next = nil }
            return state.next
        }
        if let waiting {
            waiting.resume(returning: next)
        } else {
            // Shut down meanwhile: close what was just opened.
            let stop = StopFlag()
            stop.raise()
            _ = await next.run(until: stop)
        }
        if let failure { throw failure }
        return summary
    }
}

/// Serves `/metrics` (started and bound by `Daemon.start`) until shutdown. SIGHUP may move
/// it to another address (``move(to:)``) or close it.
final class MetricsService: Service, Sendable {
    private let endpoint: Mutex<MetricsEndpoint?>
    /// Makes an endpoint on an address, serving the same registry and health check.
    private let make: (@Sendable (ListenAddress) -> MetricsEndpoint)?

    init(endpoint: MetricsEndpoint?, make: (@Sendable (ListenAddress) -> MetricsEndpoint)? = nil) {
        self.endpoint = Mutex(endpoint)
        self.make = make
    }

    func run() async throws {
        try? await gracefulShutdown()
        await take()?.stop()
    }

    /// The running endpoint, no longer this service's to stop.
    private func take() -> MetricsEndpoint? {
        endpoint.withLock { endpoint in
            defer { endpoint = nil }
            return endpoint
        }
    }

    /// Serves `/metrics` on `address` from now on (nil: nowhere): the old listener closes
    /// first, so the same port may be asked for on another address. When `address` cannot
    /// be bound, `old` is bound again and the error thrown.
    ///
    /// - Returns: the address as bound; nil when closed, or when no endpoint can be made
    ///   (metrics were off at start: they take effect at the next restart).
    @discardableResult
    func move(to address: ListenAddress?, from old: ListenAddress?) async throws -> ListenAddress? {
        await take()?.stop()
        guard let address, let make else { return nil }
        let fresh = make(address)
        do {
            let bound = try await fresh.start()
            endpoint.withLock { $0 = fresh }
            return bound
        } catch {
            if let old {
                let restored = make(old)
                if (try? await restored.start()) != nil { endpoint.withLock { $0 = restored } }
            }
            throw error
        }
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
            await daemon.reload()
        }
    }
}
