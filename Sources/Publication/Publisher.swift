// Publisher.swift -- keeps the served snapshots in step with the store.

import DNSBL
import Logging
import Store

/// Loads each zone from the store (or its snapshot cache) and then follows the store's
/// change log, rebuilding a zone's table off the serving threads and publishing it whole.
///
/// One publisher owns one store connection and runs on one task; serving threads only
/// ever see frozen `ZoneSnapshot`s through the `SnapshotStore`.
final class Publisher {
    let store: any ListingSource
    let zoneNames: [String]
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private var zones: [String: ZoneState] = [:]

    /// What the publisher keeps per zone between updates.
    private struct ZoneState {
        var factory: SnapshotFactory
        /// The served table. Changes are merged into it (`PrefixTable.applying`), so no
        /// editable copy of it is kept between changes.
        var table: PrefixTable
        var serial: Int64
        /// The serial of the snapshot cache in the store for this table, if it holds one.
        var cachedSerial: Int64?
        /// Prefixes to re-resolve when their listing expires: another layer (a scored
        /// listing under an expiring manual one) may take over, and expiry is not in the
        /// change log. Keyed by expiry time in Unix seconds.
        var expiries: [Int64: [IPPrefix]] = [:]

        mutating func noteExpiry(of listing: Listing) {
            if let expires = listing.expires, !listing.excluded { expiries[expires, default: []].append(listing.prefix) }
        }

        /// Removes and returns the prefixes whose listings expired by `now`.
        mutating func takeExpired(now: Int64) -> [IPPrefix] {
            let due = expiries.keys.filter { $0 <= now }
            return due.flatMap { expiries.removeValue(forKey: $0) ?? [] }
        }
    }

    init(store: any ListingSource, zones: [String], logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        zoneNames = zones
        self.logger = logger
        self.clock = clock
    }

    /// Loads every zone. Fast path: the zone's snapshot cache, then the change log from the
    /// cache's serial to the store's (as a running server follows it), so a restart after a
    /// crash costs the changes since the last cache, not a rebuild. A cache that is damaged,
    /// made for other settings, or older than the change log reaches, is rebuilt from the
    /// store. A zone built from the store is not cached here (that would delay the first
    /// answer): `saveSnapshotCaches()` does it once serving has begun.
    func loadAll() throws -> ServedZones {
        let serial = try store.changeSerial()
        for name in zoneNames {
            let settings = try store.zoneSettings(name) ?? ZoneSettings.defaults(zone: name)
            // Read in pieces straight into the table's arrays: no copy of the blob is held.
            let cached = try store.readSnapshotCache(zone: name) { cacheSerial, size, read in
                (serial: cacheSerial,
                 restored: cacheSerial <= serial ? SnapshotCache.decode(count: size, settings: settings, read: read) : nil)
            }
            if let cached, cached.serial <= serial {
                if let restored = cached.restored {
                    var state = ZoneState(factory: restored.factory, table: restored.table, serial: cached.serial,
                                          cachedSerial: cached.serial)
                    state.expiries = Self.expiries(in: restored.table)
                    zones[name] = state
                    logger.info("zone loaded from snapshot cache", metadata: [
                        "zone": "\(name)", "cache_serial": "\(cached.serial)", "serial": "\(serial)"])
                    continue
                }
                logger.warning("snapshot cache refused (damaged, of another version, or for other zone settings); building the zone from the store",
                               metadata: ["zone": "\(name)", "cache_serial": "\(cached.serial)"])
            }
            zones[name] = try build(zone: name, settings: settings)
        }
        // Zones from an older cache follow the change log up to the serial read above
        // (a batch at a time; a log that no longer reaches back rebuilds the zone).
        var rounds = 0
        while zones.values.contains(where: { $0.serial < serial }) && rounds < 1000 {
            _ = try update()
            rounds += 1
        }
        let snapshots = try zoneNames.compactMap { name in
            try zones[name].map { try $0.factory.snapshot(table: $0.table, serial: $0.serial) }
        }
        try? store.shrinkMemory()  // polling from here on needs few pages
        return ServedZones(snapshots)
    }

    /// Writes each zone's table to the store's snapshot cache unless it is there already,
    /// so that the next start loads in a fraction of a second instead of rebuilding. Called
    /// after start-up, every cache interval while serving, and at shutdown; a read-only
    /// store or a busy one is skipped. True when a cache was written.
    @discardableResult
    func saveSnapshotCaches() -> Bool {
        guard !store.readOnly else { return false }
        var saved = false
        for name in zoneNames {
            guard var state = zones[name], state.cachedSerial != state.serial else { continue }
            let start = ContinuousClock.now
            do {
                try store.saveSnapshotCache(zone: name, serial: state.serial,
                                            size: SnapshotCache.size(factory: state.factory, table: state.table)) { sink throws(StoreError) in
                    try SnapshotCache.write(factory: state.factory, table: state.table, to: sink)
                }
            } catch {
                logger.warning("snapshot cache not saved", metadata: ["zone": "\(name)", "error": "\(error)"])
                continue
            }
            state.cachedSerial = state.serial
            zones[name] = state
            saved = true
            logger.info("snapshot cache saved", metadata: [
                "zone": "\(name)", "serial": "\(state.serial)", "duration": "\(ContinuousClock.now - start)"])
        }
        try? store.shrinkMemory()
        return saved
    }

    /// The expiring entries of a table loaded from the snapshot cache.
    private static func expiries(in table: PrefixTable) -> [Int64: [IPPrefix]] {
        var expiries: [Int64: [IPPrefix]] = [:]
        table.forEachEntry { entry in
            guard entry.value.expires != 0, entry.value.listing != 0, let prefix = IPPrefix(entry) else { return }
            expiries[Int64(entry.value.expires), default: []].append(prefix)
        }
        return expiries
    }

    /// A zone built from scratch from the store's resolved listings.
    /// Builds a zone's table from the store, entry by entry: the store's rows become the
    /// builder's entries directly, never a list of every listing first.
    private func build(zone name: String, settings: ZoneSettings) throws -> ZoneState {
        var state = ZoneState(factory: SnapshotFactory(settings: settings), table: .empty, serial: 0)
        var builder = PrefixTableBuilder()
        var entries = 0
        var failure: (any Error)?
        let (serial, stored) = try store.forEachActiveListing(zone: name, now: clock(), reserve: { _ in }) { listing in
            guard failure == nil else { return }
            do { try state.factory.insert(listing, into: &builder) } catch { failure = error }
            state.noteExpiry(of: listing)
            entries += 1
        }
        if let failure { throw failure }
        if stored != settings {
            return try build(zone: name, settings: stored)  // changed between the two reads
        }
        state.table = builder.freeze()
        state.serial = serial
        logger.info("zone built from store", metadata: ["zone": "\(name)", "serial": "\(serial)", "entries": "\(entries)"])
        return state
    }

    /// Logs expired `prefixes` in the store's change log; false when the store takes no
    /// writes (read-only, or failing), and the expiry is applied without a new serial.
    private func logExpiries(_ prefixes: [IPPrefix], zone: String) -> Bool {
        guard !store.readOnly else { return false }
        do {
            try store.logExpiries(prefixes, zone: zone)
            return true
        } catch {
            logger.warning("expiry not logged in the store; served without a new serial", metadata: [
                "zone": "\(zone)", "prefixes": "\(prefixes.count)", "error": "\(error)"])
            return false
        }
    }

    /// Changes read from the store's log at once: a slice's listings are resolved into the
    /// delta before the next slice is read.
    static let changesPerRead = 10_000
    /// Changes applied by one update at most; a larger import is published over several.
    static let changesPerUpdate = 100_000

    /// Resolves `prefixes` as the store serves them now and records the result in `delta`
    /// (and their expiries in `state`).
    private func resolve(_ prefixes: [IPPrefix], zone: String, now: Int64, state: inout ZoneState,
                         into delta: inout PrefixTableDelta) throws {
        guard !prefixes.isEmpty else { return }
        let resolved = try store.listings(for: prefixes, zone: zone, now: now)
        for (prefix, listing) in zip(prefixes, resolved) {
            if let listing {
                try state.factory.insert(listing, into: &delta)
                state.noteExpiry(of: listing)
            } else {
                SnapshotFactory.remove(prefix, from: &delta)
            }
        }
    }

    /// Applies what changed since the last look, and re-resolves listings whose time ran
    /// out; returns the zones to publish, if any.
    ///
    /// All or nothing: when a read fails, no zone moves on (each keeps its table, serial
    /// and pending expiries), so the next call retries the same work and no change is
    /// skipped; the served snapshots stay the last good ones meanwhile.
    func update() throws -> [ZoneSnapshot] {
        var serial = try store.changeSerial()
        let now = clock()
        var next: [String: ZoneState] = [:]
        var published: [ZoneSnapshot] = []
        for name in zoneNames {
            guard let current = zones[name] else { continue }
            var state = current
            var prefixes = state.takeExpired(now: now)
            // An expiry is logged as a change, so that it moves the serial: secondaries
            // (NOTIFY, IXFR) and exports see it. The prefixes then come back below with
            // the other changes. A store that takes no writes has them re-resolved here,
            // under the old serial.
            if !prefixes.isEmpty, logExpiries(prefixes, zone: name) {
                prefixes = []
                serial = try store.changeSerial()
            }
            var delta = PrefixTableDelta()
            try resolve(prefixes, zone: name, now: now, state: &state, into: &delta)
            // A zone is behind while its serial is. Its changes are read and resolved a
            // slice at a time, so only the delta grows with a large import, not the
            // listings read for it; what is left over after `changesPerUpdate` is continued
            // at the next call even when nothing new was committed.
            var read = 0
            let settings = state.serial < serial
                ? try store.zoneSettings(name) ?? ZoneSettings.defaults(zone: name) : state.factory.settings
            while state.serial < serial, read < Self.changesPerUpdate {
                guard settings == state.factory.settings,
                      let batch = try store.changes(zone: name, after: state.serial, limit: Self.changesPerRead)
                else {
                    // Apex or template changed, or the log no longer reaches back.
                    state = try build(zone: name, settings: settings)
                    delta = PrefixTableDelta()
                    break
                }
                try resolve(batch.changes.map(\.prefix), zone: name, now: now, state: &state, into: &delta)
                state.serial = batch.serial
                read += max(batch.changes.count, 1)
            }
            if delta.count > 0 { state.table = state.table.applying(delta) }
            if state.table !== current.table {
                published.append(try state.factory.snapshot(table: state.table, serial: state.serial))
            }
            next[name] = state
        }
        zones.merge(next) { $1 }
        return published
    }
}
