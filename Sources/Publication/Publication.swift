// Publication.swift -- the start-up sequence store → zones → snapshots → server.

public import DNSBL
import Glibc
public import Logging
public import Store

/// What publication needs to start: the store, the zones, and the DNS server's addresses
/// and limits.
public struct PublicationConfiguration: Sendable {
    /// The store's path.
    public var db: String
    /// The zones served, in order.
    public var zones: [String]
    /// Settings and policies written to the store before anything is loaded (a
    /// configuration file's zones); empty: the store's own, as they are.
    public var definitions: [ZoneDefinition] = []
    /// What `definitions` came from, for the audit trail.
    public var definitionSource = "defaults"
    public var listen: [ListenAddress]
    public var udp = UDPServerConfiguration()
    public var tcp = TCPServerConfiguration()
    /// How often the store's change serial is looked at.
    public var pollInterval: Duration = .milliseconds(200)
    /// How often a changed zone's snapshot cache is written while serving (it bounds what
    /// a restart after a crash replays from the change log).
    public var cacheInterval: Duration = .seconds(600)
    /// Response rate limiting of UDP answers (off while its rate is 0).
    public var rateLimit = RateLimitConfiguration()
    /// Refused networks, fixed-code networks and daily quotas (none by default).
    public var clientPolicy = ClientPolicyConfiguration()
    /// Which zones are offered for transfer (AXFR, IXFR over TCP), to whom, with which keys.
    public var transfers: TransferPolicy = .none

    public init(db: String, zones: [String], listen: [ListenAddress]) {
        self.db = db
        self.zones = zones
        self.listen = listen
    }
}

/// The DNS side of rbld, started: every zone loaded from the store into a snapshot, the
/// server bound and answering from them, and the service that keeps them in step with the
/// store.
///
/// ```swift
/// let publication = try await Publication.start(configuration, logger: logger)
/// // run publication.service (and whatever else) in a ServiceGroup; then:
/// await publication.server.stop()
/// ```
public final class Publication: Sendable {
    /// The served state; the server reads it, the service replaces it.
    public let snapshots: SnapshotStore
    /// The bound, answering server.
    public let server: DNSServer<Responder>
    /// Follows the store's change log (run it in a service group).
    public let service: PublicationService
    /// Answers transfer requests, when a zone is offered for transfer (for its counters).
    public let transfers: ZoneTransfers?
    /// Sends NOTIFY, when a zone has secondaries to notify (for its counters).
    public let notifier: ZoneNotifier?

    /// Unix seconds from the system clock (`time(2)`: the responder reads it once per batch
    /// of queries).
    public static let systemClock: @Sendable () -> Int64 = { Int64(time(nil)) }

    private init(snapshots: SnapshotStore, server: DNSServer<Responder>, service: PublicationService,
                 transfers: ZoneTransfers?, notifier: ZoneNotifier?) {
        self.snapshots = snapshots
        self.server = server
        self.service = service
        self.transfers = transfers
        self.notifier = notifier
    }

    /// Opens the store, writes the configured zone definitions to it, loads every zone
    /// (from the snapshot cache when it is current), binds the DNS server, and returns once
    /// it answers. In that order, and nothing is bound when an earlier step fails.
    ///
    /// - Parameters:
    ///   - source: the store as publication reads it; nil: a connection to `configuration.db`
    ///     of its own (tests pass a store that can be made to fail).
    ///   - clock: Unix seconds, for expiry in the store and in the answers.
    /// - Throws: `PublicationError`: `.storeUnavailable` when the store cannot be opened or
    ///   written, `.badData` when what it holds cannot be served, `.cannotBind`.
    public static func start(
        _ configuration: PublicationConfiguration, logger: Logger, observer: (any PublicationObserver)? = nil,
        source: (any ListingSource)? = nil, clock: @escaping @Sendable () -> Int64 = Publication.systemClock
    ) async throws(PublicationError) -> Publication {
        Heap.mapLargeBlocksApart()
        let store: any ListingSource
        let followed: PublicationService.Source
        do {
            if let source {
                store = source
                followed = .fixed(source)
            } else {
                // The configured zone definitions are written to the store, and to every
                // file that replaces it at the path later.
                let writeDefinitions = { (store: Store) throws(StoreError) in
                    try ZoneConfigurator.apply(configuration.definitions, source: configuration.definitionSource,
                                               to: store, logger: logger)
                }
                let opened = try Store(path: configuration.db, clock: clock)
                try writeDefinitions(opened)
                store = opened
                followed = .following(ReopeningStore(opened, prepare: writeDefinitions))
            }
        } catch {
            // Store errors name the file themselves; say it once.
            let reason = error.reason.hasPrefix(configuration.db) ? error.reason : "\(configuration.db): \(error.reason)"
            throw PublicationError(.storeUnavailable, reason, storeError: error)
        }
        let publisher = Publisher(store: store, zones: configuration.zones, logger: logger, clock: clock)
        let served: ServedZones
        do {
            served = try publisher.loadAll()
        } catch let error as PublicationError {
            throw error
        } catch {
            throw PublicationError(.badData, "\(configuration.db): \(error)", storeError: error as? StoreError)
        }
        Heap.releaseFreeMemory()  // loading copied the cache blob and built arrays from it
        let snapshots = SnapshotStore(served)
        let responder = Responder(store: snapshots, clock: { UInt32(truncatingIfNeeded: clock()) },
                                  rateLimiter: ResponseRateLimiter(configuration.rateLimit),
                                  clientPolicy: ClientPolicy(configuration.clientPolicy))
        let transfers = configuration.transfers.isEmpty ? nil
            : ZoneTransfers(policy: configuration.transfers, snapshots: snapshots, clock: clock)
        let server = DNSServer(responder: responder, addresses: configuration.listen, udp: configuration.udp,
                               tcp: configuration.tcp, transfers: transfers, logger: logger)
        do {
            try await server.start()
        } catch {
            throw PublicationError(.cannotBind, "DNS: \(error)")
        }
        var notifier: ZoneNotifier?
        if ZoneNotifier.isNeeded(configuration.transfers) {
            let started = ZoneNotifier(policy: configuration.transfers, snapshots: snapshots, clock: clock, logger: logger)
            do {
                try await started.start()
            } catch {
                await server.stop()
                throw PublicationError(.cannotBind, "\(error)")
            }
            // Secondaries may have missed changes while rbld was down: tell them now.
            for zone in served.zones { started.zoneChanged(zone.config.name) }
            notifier = started
        }
        let service = PublicationService(publisher: publisher, source: followed, snapshots: snapshots,
                                         interval: configuration.pollInterval, cacheInterval: configuration.cacheInterval,
                                         logger: logger, observer: observer,
                                         clock: clock, notifier: notifier, transfers: transfers)
        return Publication(snapshots: snapshots, server: server, service: service, transfers: transfers, notifier: notifier)
    }

    /// The snapshot `zone` is served from: the store's listings (or its snapshot cache) as
    /// publication loads them (what `rbld export --format zone` writes).
    public static func snapshot(of zone: String, in store: Store, logger: Logger) throws -> ZoneSnapshot {
        let publisher = Publisher(store: store, zones: [zone], logger: logger, clock: Store.systemClock)
        guard let snapshot = try publisher.loadAll().zones.first else {
            throw PublicationError(.badData, "zone \(zone): nothing loaded")
        }
        return snapshot
    }

    /// Builds `zone`'s table from the store and writes it to the snapshot cache, so that
    /// the next server start loads it in milliseconds instead of reading every row (what
    /// `rbld import` does after a bulk load).
    ///
    /// - Returns: the table's IPv4 and IPv6 entry counts.
    public static func cacheSnapshot(of zone: String, in store: Store, logger: Logger) throws -> (v4: Int, v6: Int) {
        let publisher = Publisher(store: store, zones: [zone], logger: logger, clock: Store.systemClock)
        let table = try publisher.loadAll().zones.first?.table
        publisher.saveSnapshotCaches()
        return (table?.v4Count ?? 0, table?.v6Count ?? 0)
    }
}
