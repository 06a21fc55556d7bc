// Publisher.swift -- keeps the served snapshots in step with the store.
import DNSBL
import Ingest
import Logging

/// Loads each zone from the store (or its snapshot cache) and then follows the store's
/// change log, rebuilding a zone's table off the serving threads and publishing it whole.
///
/// One publisher owns one `Store` connection and runs on one task; serving threads only
/// ever see frozen `ZoneSnapshot`s through the `SnapshotStore`.
final class Publisher {
    private let store: Store
    private let zoneNames: [String]
    private let logger: Logger
    private let clock: @Sendable () -> Int64
    private var zones: [String: ZoneState] = [:]
    private var seenSerial: Int64 = -1

    /// What the publisher keeps per zone between updates.
    private struct ZoneState {
        var factory: SnapshotFactory
        var table: PrefixTable
        /// Built lazily from `table` at the first change, then kept.
        var builder: PrefixTableBuilder?
        var serial: Int64
    }

    init(store: Store, zones: [String], logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.store = store
        zoneNames = zones
        self.logger = logger
        self.clock = clock
    }

    /// Loads every zone; fast path: a snapshot cache written at the store's current serial.
    func loadAll() throws -> ServedZones {
        let serial = try store.changeSerial()
        var snapshots: [ZoneSnapshot] = []
        for name in zoneNames {
            let settings = try store.zoneSettings(name) ?? ZoneSettings.defaults(zone: name)
            if let cached = try store.snapshotCache(zone: name), cached.serial == serial,
               let restored = SnapshotCache.decode(cached.bytes, settings: settings) {
                zones[name] = ZoneState(factory: restored.factory, table: restored.table, serial: serial)
                snapshots.append(try restored.factory.snapshot(table: restored.table, serial: serial))
                logger.info("zone loaded from snapshot cache", metadata: ["zone": "\(name)", "serial": "\(serial)"])
                continue
            }
            let state = try build(zone: name, settings: settings)
            zones[name] = state
            snapshots.append(try state.factory.snapshot(table: state.table, serial: state.serial))
            if !store.readOnly {
                try? store.saveSnapshotCache(zone: name, serial: state.serial,
                                             bytes: SnapshotCache.encode(factory: state.factory, table: state.table))
            }
        }
        seenSerial = serial
        return ServedZones(snapshots)
    }

    /// A zone built from scratch from the store's resolved listings.
    private func build(zone name: String, settings: ZoneSettings) throws -> ZoneState {
        let active = try store.activeSnapshot(zone: name, now: clock())
        var factory = SnapshotFactory(settings: active.settings)
        var builder = PrefixTableBuilder()
        for listing in active.listings { try factory.insert(listing, into: &builder) }
        let table = builder.freeze()
        logger.info("zone built from store", metadata: [
            "zone": "\(name)", "serial": "\(active.serial)", "entries": "\(active.listings.count)"])
        return ZoneState(factory: factory, table: table, builder: builder, serial: active.serial)
    }

    /// Applies what changed since the last look; returns the zones to publish, if any.
    func update() throws -> [ZoneSnapshot] {
        let serial = try store.changeSerial()
        guard serial != seenSerial else { return [] }
        var published: [ZoneSnapshot] = []
        for name in zoneNames {
            guard var state = zones[name] else { continue }
            let settings = try store.zoneSettings(name) ?? ZoneSettings.defaults(zone: name)
            if settings != state.factory.settings {
                state = try build(zone: name, settings: settings)  // apex or template changed
            } else if let batch = try store.changes(zone: name, after: state.serial, limit: 100_000) {
                guard batch.serial != state.serial else { continue }
                var builder = state.builder ?? state.table.builder()
                let now = clock()
                for change in batch.changes {
                    if let listing = try store.listing(for: change.prefix, zone: name, now: now) {
                        try state.factory.insert(listing, into: &builder)
                    } else {
                        SnapshotFactory.remove(change.prefix, from: &builder)
                    }
                }
                state.table = builder.freeze()
                state.builder = builder
                state.serial = batch.serial
            } else {
                state = try build(zone: name, settings: settings)  // the log no longer reaches back
            }
            zones[name] = state
            published.append(try state.factory.snapshot(table: state.table, serial: state.serial))
        }
        seenSerial = serial
        return published
    }
}
