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
    /// The open store and the publisher reading it; nil after the store's file vanished or
    /// was replaced, until a store at the path opens again.
    private var connection: (store: any ListingSource, publisher: Publisher)?
    /// The store's path, for log lines while no connection is open.
    private let path: String
    /// The zones served, as the last load or reload named them.
    private var zoneNames: [String]
    /// Opens the store at the path again (with the configured zone definitions), after the
    /// file there was replaced; nil: the source cannot be reopened (a test's).
    private let reopen: (() throws -> any ListingSource)?
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
    /// Set when the connection to a file no longer at the path was closed: the `-wal` and
    /// `-shm` files beside the path are the old file's until they are removed. Holds the
    /// closed connection's `-shm` (nil inside when unknown).
    private var leftoverLog: StoreFileIdentity??

    init(publisher: Publisher, store: any ListingSource, snapshots: SnapshotStore, interval: Duration,
         cacheInterval: Duration, logger: Logger, observer: (any PublicationObserver)?, clock: @escaping @Sendable () -> Int64,
         notifier: ZoneNotifier? = nil, transfers: ZoneTransfers? = nil, reopen: (() throws -> any ListingSource)? = nil) {
        self.notifier = notifier
        self.transfers = transfers
        connection = (store, publisher)
        path = store.path
        zoneNames = publisher.zoneNames
        self.reopen = reopen
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
        connection?.publisher.saveSnapshotCaches()
        Heap.releaseFreeMemory()  // encoding the cache took as much heap again as the table
        var cached = ContinuousClock.now
        while !Task.isShuttingDownGracefully {
            do { try await Task.sleep(for: interval) } catch { break }  // cancelled
            tick()
            if ContinuousClock.now - cached >= cacheInterval {
                // Between ticks, on this task: the serving threads never wait for it.
                if connection?.publisher.saveSnapshotCaches() == true { Heap.releaseFreeMemory() }
                cached = ContinuousClock.now
            }
        }
        connection?.publisher.saveSnapshotCaches()
        await notifier?.stop()
    }

    /// One look at the store: that its file is still the one at the path, a pending reload,
    /// then the changes and expiries since the last look, published zone by zone.
    func tick() {
        do {
            guard let current = try currentConnection() else { return }
            let store = current.store
            if let zones = pendingReload.withLock({ $0.take() }) {
                let reloaded = Publisher(store: store, zones: zones, logger: logger, clock: clock)
                let served = try reloaded.loadAll()
                snapshots.publish(served)
                for zone in served.zones { notifier?.zoneChanged(zone.config.name) }
                connection = (store, reloaded)
                zoneNames = zones
                logger.notice("reloaded every zone from the store", metadata: ["zones": "\(zones.joined(separator: ", "))"])
            }
            // Lag: from this look at the store (where a new serial is first seen) to the
            // publication; the wait for this tick (at most `interval`) comes on top.
            let seen = ContinuousClock.now
            // A large change is served in steps under the previous serial; transfers keep
            // the snapshot from before the first step, the one secondaries may hold.
            var stepped: Set<String> = []
            func retainPrevious(of zone: ZoneSnapshot) {
                guard stepped.insert(zone.config.name).inserted else { return }
                if let transfers, let previous = snapshots.load().zone(named: zone.config.name) {
                    transfers.retain(previous: previous)
                }
            }
            let changed = try (connection?.publisher ?? current.publisher).update { step in
                retainPrevious(of: step)
                snapshots.publish(zone: step)
            }
            succeeded()
            guard !changed.isEmpty else { return }
            for zone in changed {
                retainPrevious(of: zone)
                snapshots.publish(zone: zone)
                notifier?.zoneChanged(zone.config.name)
            }
            observer?.published(lag: ContinuousClock.now - seen)
            Heap.releaseFreeMemory()  // the previous tables are freed by now or soon
        } catch {
            failed(error)
        }
    }

    /// The connection to read through, after checking that the path still names its file.
    ///
    /// A file that vanished is a failed read (the served snapshots stay, the outage is
    /// logged and counted) until a file appears at the path. A file replaced at the path
    /// (a backup restored by copy and rename) is opened, and every zone is loaded whole
    /// from it and published. The old connection is closed first, and the WAL and
    /// shared-memory files SQLite leaves beside the path for a deleted file are removed (it
    /// waits while another connection has them open): they carry the path's name, and a new
    /// connection would read the old log into the new file. Returns nil when this tick has
    /// nothing more to do.
    private func currentConnection() throws -> (store: any ListingSource, publisher: Publisher)? {
        if let connection {
            switch connection.store.fileState() {
            case .current:
                return connection
            case .missing, .replaced:
                guard reopen != nil else { return connection }
                logger.warning("the store file at the path is not the one being read (deleted, moved or replaced): closing it",
                               metadata: ["store": "\(path)"])
                self.connection = nil
                leftoverLog = .some(connection.store.logIdentity)
            }
        }
        guard let reopen else { return nil }
        if let left = leftoverLog {
            guard Store.removeLeftoverLog(of: path, left: left) == .clear else {
                throw StoreError(.busy, "\(path): the previous store file's -wal and -shm files are still open in another "
                    + "connection (another rbld process, an sqlite3 shell); the file at the path is not opened until it closes")
            }
            leftoverLog = nil
        }
        guard StoreFileIdentity.exists(path) else {
            throw StoreError(.io, "\(path): no store file at the path (deleted or moved away); "
                + "serving the last good snapshot until one appears there")
        }
        let store = try reopen()
        let publisher = Publisher(store: store, zones: zoneNames, logger: logger, clock: clock)
        let served = try publisher.loadAll()
        snapshots.publish(served)
        for zone in served.zones { notifier?.zoneChanged(zone.config.name) }
        connection = (store, publisher)
        succeeded()
        logger.notice("store file at the path opened again; every zone loaded from it", metadata: ["store": "\(path)"])
        publisher.saveSnapshotCaches()
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
