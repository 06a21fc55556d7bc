// PublicationService.swift -- follows the store and publishes changed zones, as a service.

import DNSBL
import Logging
public import ServiceLifecycle
import Store
import Synchronization

/// Follows the store's change log and publishes changed zones, off the serving threads.
///
/// `rbld run` and `rbld serve` run it in their service group. The publisher and its store
/// connection are used only by ``run()``'s task once start-up has handed them over; other
/// tasks talk to it through ``requestReload(zones:)``.
///
/// - Important: A failed look at the store (busy, unreadable, corrupt) changes nothing
///   that is served: every zone keeps its last good snapshot, and the next tick retries.
///   Each failure is logged and reported to the observer (a metric), and so is each
///   successful read, so a server that has been answering from an old snapshot for a
///   while shows it; it never goes stale in silence.
public final class PublicationService: Service, @unchecked Sendable {
    /// Where the store is read.
    enum Source {
        /// The store at the configured path, opened again when the file there is replaced.
        case following(ReopeningStore)
        /// A source that is never reopened (a test's).
        case fixed(any ListingSource)
    }

    private let source: Source
    /// Reads the zones through the source's connection; nil after the store's file vanished
    /// or was replaced, until the file at the path opens.
    private var publisher: Publisher?
    /// The store's path, for log lines.
    private let path: String
    /// The zones served, as the last load or reload named them.
    private var zoneNames: [String]
    private let snapshots: SnapshotStore
    private let interval: Duration
    private let cacheInterval: Duration
    private let logger: Logger
    private let observer: (any PublicationObserver)?
    private let clock: @Sendable () -> Int64
    /// Tells secondaries of each published change (NOTIFY), when any are configured.
    private let notifier: ZoneNotifier?
    /// Keeps each replaced snapshot of a transferred zone, for IXFR.
    private let transfers: ZoneTransfers?
    /// Set by SIGHUP: the zones to serve from now on, loaded whole at the next tick.
    private let pendingReload = Mutex<[String]?>(nil)
    /// Consecutive failed ticks, so that a long outage is logged once, and its end too.
    private var failedTicks = 0
    /// When freed heap memory is next given back to the kernel: a moment after a
    /// publication, once the replaced tables' readers have let go of them.
    private var trimAfter: ContinuousClock.Instant?

    /// - Parameter publisher: the publisher that loaded the served zones, reading the
    ///   store `source` has open.
    init(publisher: Publisher, source: Source, snapshots: SnapshotStore, interval: Duration,
         cacheInterval: Duration, logger: Logger, observer: (any PublicationObserver)?, clock: @escaping @Sendable () -> Int64,
         notifier: ZoneNotifier? = nil, transfers: ZoneTransfers? = nil) {
        self.notifier = notifier
        self.transfers = transfers
        self.source = source
        self.publisher = publisher
        path = publisher.store.path
        zoneNames = publisher.zoneNames
        self.snapshots = snapshots
        self.interval = interval
        self.cacheInterval = cacheInterval
        self.logger = logger
        self.observer = observer
        self.clock = clock
    }

    /// Asks for every zone in `zones` to be loaded whole from the store at the next tick
    /// (SIGHUP); the zones served change to exactly these.
    public func requestReload(zones: [String]) {
        pendingReload.withLock { $0 = zones }
    }

    /// Publishes changes every `interval` until shutdown or cancellation. Zones built from
    /// the store at start-up are written to the snapshot cache first (while DNS already
    /// answers), changed zones again every `cacheInterval`, and every zone at the end: a
    /// restart, after a crash too, loads the cache and follows the change log from there.
    public func run() async throws {
        publisher?.saveSnapshotCaches()
        Heap.releaseFreeMemory()  // encoding the cache took as much heap again as the table
        var cached = ContinuousClock.now
        while !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: interval) } catch { break }  // cancelled
            tick()
            if let due = trimAfter, ContinuousClock.now >= due {
                Heap.releaseFreeMemory()
                trimAfter = nil
            }
            if ContinuousClock.now - cached >= cacheInterval {
                // Between ticks, on this task: the serving threads never wait for it.
                if publisher?.saveSnapshotCaches() == true { Heap.releaseFreeMemory() }
                cached = ContinuousClock.now
            }
        }
        publisher?.saveSnapshotCaches()
        await notifier?.stop()
    }

    /// One look at the store: that its file is still the one at the path, a pending reload,
    /// then the changes and expiries since the last look, published zone by zone.
    func tick() {
        do {
            guard var current = try currentPublisher() else { return }
            if let zones = pendingReload.withLock({ $0.take() }) {
                current = Publisher(store: current.store, zones: zones, logger: logger, clock: clock)
                let served = try current.loadAll()
                snapshots.publish(served)
                for zone in served.zones { notifier?.zoneChanged(zone.config.name) }
                publisher = current
                zoneNames = zones
                logger.notice("reloaded every zone from the store", metadata: ["zones": "\(zones.joined(separator: ", "))"])
            }
            // Lag: from this look at the store (where a new serial is first seen) to the
            // publication; the wait for this tick (at most `interval`) comes on top.
            let seen = ContinuousClock.now
            let changed = try current.update()
            succeeded()
            guard !changed.isEmpty else { return }
            for zone in changed {
                if let transfers, let previous = snapshots.load().zone(named: zone.config.name) {
                    transfers.retain(previous: previous)
                }
                snapshots.publish(zone: zone)
                notifier?.zoneChanged(zone.config.name)
            }
            observer?.published(lag: ContinuousClock.now - seen)
            // The replaced snapshots are freed when their last readers let go: a serving
            // thread at its next batch or receive timeout (200 ms), a transfer when it ends.
            trimAfter = ContinuousClock.now + .seconds(1)
        } catch {
            failed(error)
        }
    }

    /// The publisher to read through, after checking that the path still names its file.
    ///
    /// A file that vanished is a failed read (the served snapshots stay, the outage is
    /// logged and counted) until a file appears at the path. A file replaced at the path
    /// (a backup restored by copy and rename) is opened (see ``ReopeningStore``), and every
    /// zone is loaded whole from it and published. Returns nil when this tick has nothing
    /// more to do.
    private func currentPublisher() throws -> Publisher? {
        guard case .following(let connection) = source else { return publisher }
        if publisher != nil, !connection.isCurrent {
            logger.warning("the store file at the path is not the one being read (deleted, moved or replaced): closing it",
                           metadata: ["store": "\(path)"])
            publisher = nil  // holds the old connection, which must close before its log can go
        }
        if let publisher { return publisher }
        let reopened = Publisher(store: try connection.current(), zones: zoneNames, logger: logger, clock: clock)
        let served = try reopened.loadAll()
        snapshots.publish(served)
        for zone in served.zones { notifier?.zoneChanged(zone.config.name) }
        publisher = reopened
        succeeded()
        logger.notice("store file at the path opened again; every zone loaded from it", metadata: ["store": "\(path)"])
        reopened.saveSnapshotCaches()
        return nil
    }

    private func succeeded() {
        observer?.storeRead(at: clock())
        if failedTicks > 0 {
            logger.notice("store readable again; publishing resumed", metadata: ["failed_reads": "\(failedTicks)"])
            failedTicks = 0
        }
    }

    /// Retried at the next tick; the served snapshots stay the last good ones.
    private func failed(_ error: any Error) {
        failedTicks += 1
        observer?.storeReadFailed(error)
        if failedTicks == 1 || failedTicks.isMultiple(of: 300) {
            logger.warning("store not readable: still serving the last good snapshot", metadata: [
                "store": "\(path)", "error": "\(error)", "failed_reads": "\(failedTicks)"])
        }
    }
}
