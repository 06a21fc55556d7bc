// Store.swift -- the rbld SQLite store: open/validate/migrate, zones, change serial, caches.

import Foundation
internal import CSQLite

/// The SQLite store: hits, sources, manual entries, exclusions, delistings, audit, change log.
///
/// One `Store` is one SQLite connection. It is not thread-safe: open one per thread or
/// process role (the DNS server's reader, the ingest writer, an admin command). SQLite's
/// WAL mode lets readers run while one writer commits; writers wait for each other up to
/// the busy timeout, then fail with `.busy` (temporary: exit 75, LMTP 4xx).
///
/// Every write is one transaction, so a killed writer leaves the store as it was before
/// that write or after it, never between.
public final class Store {
    /// The database file.
    public let path: String
    /// True when opened read-only (no migration, no writes).
    public let readOnly: Bool
    let db: SQLiteDatabase
    /// Unix seconds "now" for audit rows and hit bookkeeping; injected by tests.
    let clock: @Sendable () -> Int64
    private var zoneIDs: [String: Int64] = [:]
    /// Whether ``shrinkMemory()`` set the page cache to a few pages for good.
    private var pageCacheShrunk = false
    private var zoneCache: [Int64: (settings: ZoneSettings, policy: ListingPolicy)] = [:]
    /// Writable stores checkpoint the WAL in the background (nil when read-only).
    let checkpointer: Checkpointer?
    /// The file opened at `path` (device and inode), to notice when the path names another.
    let fileIdentity: StoreFileIdentity?
    /// The shared-memory index (`-shm`) of the write-ahead log this connection uses, seen
    /// at open: whose leftover must go when the file at the path is replaced.
    public private(set) var logIdentity: StoreFileIdentity?

    /// The schema version this binary writes.
    public static var schemaVersion: Int { Schema.currentVersion }

    /// How long a writer waits for another writer's lock before failing with `.busy`.
    public static let busyTimeoutMilliseconds: Int32 = 10_000

    /// The system clock in unix seconds.
    public static let systemClock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }

    /// Opens (and, when writable, creates and migrates) the store at `path`.
    ///
    /// The file is checked before anything is written: a file that is not SQLite, an SQLite
    /// database of another application, or an rbld store with a newer schema is refused
    /// with a `StoreError` naming the path, and left untouched.
    ///
    /// - Parameters:
    ///   - path: The database file; created when writable and missing.
    ///   - readOnly: Open for reading only (the file must exist and be an rbld store).
    ///   - clock: Unix seconds for audit times and hit bookkeeping (tests move it).
    /// - Throws: `StoreError` with `.io`, `.notADatabase`, `.foreignDatabase`,
    ///   `.newerSchema`, `.corrupt` or `.busy`.
    public init(path: String, readOnly: Bool = false, clock: @escaping @Sendable () -> Int64 = Store.systemClock) throws(StoreError) {
        self.path = path
        self.readOnly = readOnly
        self.clock = clock
        let exists = FileManager.default.fileExists(atPath: path)
        if readOnly, !exists { throw StoreError(.io, "\(path): no such store") }
        db = try SQLiteDatabase(path: path, readOnly: readOnly, create: true)
        fileIdentity = StoreFileIdentity(path: path)
        sqlite3_busy_timeout(db.handle, Store.busyTimeoutMilliseconds)

        // Validate before writing anything (journal_mode=WAL would rewrite the header).
        let (applicationID, version, objectCount) = try Store.identify(db)
        let fresh = applicationID == 0 && objectCount == 0
        if !fresh {
            guard applicationID == Schema.applicationID else {
                throw StoreError(.foreignDatabase, "\(path): an SQLite database, but not an rbld store (application id \(applicationID), \(objectCount) schema objects); refusing to touch it")
            }
            guard version <= Schema.currentVersion else {
                throw StoreError(.newerSchema, "\(path): store schema version \(version) is newer than this rbld understands (\(Schema.currentVersion)); upgrade rbld")
            }
        }
        try db.execute("PRAGMA foreign_keys = ON")
        // 64 MiB page cache at most (allocated as used): random inserts into the hit and
        // source indexes of a million-row store stay in memory instead of thrashing.
        try db.execute("PRAGMA cache_size = -65536")
        // Read-only connections (export, show, stats: one bulk read, then exit) read pages
        // through a memory map instead of a read() per page miss. Writable ones, which the
        // long-running processes hold, do not: an ingest touches pages all over a large
        // store, and mapped pages stay in the process's RSS (up to the whole file), while
        // the page cache above bounds what such a connection keeps.
        if readOnly { try db.execute("PRAGMA mmap_size = 1073741824") }
        try db.execute("PRAGMA temp_store = MEMORY")
        if readOnly {
            if fresh { throw StoreError(.notFound, "\(path): an empty database, not an rbld store yet") }
            if version < Schema.currentVersion {
                throw StoreError(.newerSchema, "\(path): store schema version \(version) is older than this rbld's (\(Schema.currentVersion)); open it once writable to migrate")
            }
            checkpointer = nil
            logIdentity = StoreFileIdentity(path: path + "-shm")  // opened by the reads above
            return
        }
        let mode = try db.statement("PRAGMA journal_mode = WAL")
        _ = try mode.step()
        mode.reset()
        try db.execute("PRAGMA synchronous = FULL")
        // The WAL is checkpointed by a thread of its own from 256 MB on, so that commits do
        // not wait for the copy; a writer copies only past 1 GB, when that thread cannot keep
        // up. Rarely, not after every batch: index and source pages that consecutive batches
        // of random sources dirty again are copied back once (BENCHMARKS.md). Each commit is
        // still synced to the WAL (synchronous=FULL), so this costs no durability. After a
        // checkpoint that caught up, the WAL file is cut back to 256 MB.
        let checkpointer = Checkpointer(path: path, threshold: 65_536, limit: 262_144)
        checkpointer.attach(to: db.handle)
        self.checkpointer = checkpointer
        try db.execute("PRAGMA journal_size_limit = 268435456")
        if fresh || version < Schema.currentVersion { try migrate() }
        // A read in WAL mode opens (or creates) the log's shared-memory file.
        try db.execute("PRAGMA user_version")
        logIdentity = StoreFileIdentity(path: path + "-shm")
    }

    deinit {
        // The thread's connection closes first; the hook must not outlive the checkpointer.
        checkpointer?.stop()
        if checkpointer != nil { Checkpointer.detach(from: db.handle) }
    }

    /// Reads application_id, user_version and the number of schema objects.
    private static func identify(_ db: SQLiteDatabase) throws(StoreError) -> (Int32, Int, Int) {
        let idStatement = try db.statement("PRAGMA application_id")
        guard try idStatement.step() else { throw StoreError(.internalError, "\(db.path): PRAGMA application_id returned nothing") }
        let applicationID = Int32(truncatingIfNeeded: idStatement.int64(0))
        idStatement.reset()
        let versionStatement = try db.statement("PRAGMA user_version")
        _ = try versionStatement.step()
        let version = versionStatement.int(0)
        versionStatement.reset()
        let countStatement = try db.statement("SELECT count(*) FROM sqlite_master")
        _ = try countStatement.step()
        let count = countStatement.int(0)
        countStatement.reset()
        return (applicationID, version, count)
    }

    /// Applies the missing migrations in one transaction (re-checked under the write lock,
    /// in case another process migrated first).
    private func migrate() throws(StoreError) {
        try db.writeTransaction { () throws(StoreError) in
            let (applicationID, version, objectCount) = try Store.identify(db)
            if applicationID != Schema.applicationID, !(applicationID == 0 && objectCount == 0) {
                throw StoreError(.foreignDatabase, "\(path): not an rbld store; refusing to touch it")
            }
            guard version <= Schema.currentVersion else {
                throw StoreError(.newerSchema, "\(path): store schema version \(version) is newer than this rbld understands")
            }
            for index in version..<Schema.currentVersion {
                try db.execute(Schema.migrations[index])
            }
            try setPragmas(version: Schema.currentVersion)
        }
    }

    private func setPragmas(version: Int) throws(StoreError) {
        // Pragmas take no parameters; these are the only two values we ever set.
        try db.execute("PRAGMA application_id = 1919052900")  // 0x72626C64, "rbld"
        switch version {
        case 1: try db.execute("PRAGMA user_version = 1")
        case 2: try db.execute("PRAGMA user_version = 2")
        case 3: try db.execute("PRAGMA user_version = 3")
        case 4: try db.execute("PRAGMA user_version = 4")
        case 5: try db.execute("PRAGMA user_version = 5")
        case 6: try db.execute("PRAGMA user_version = 6")
        case 7: try db.execute("PRAGMA user_version = 7")
        default: throw StoreError(.internalError, "no user_version statement for schema \(version)")
        }
    }

    // MARK: - Zones

    /// The names of all zones in the store, sorted.
    public func zoneNames() throws(StoreError) -> [String] {
        let statement = try db.statement("SELECT name FROM zones ORDER BY name")
        defer { statement.reset() }
        var names: [String] = []
        while try statement.step() { names.append(statement.text(0) ?? "") }
        return names
    }

    /// The zone's id, or nil when the store has no such zone.
    func existingZoneID(_ name: String) throws(StoreError) -> Int64? {
        let name = ZoneSettings.normalizedName(name)
        if let id = zoneIDs[name] { return id }
        let statement = try db.statement("SELECT id FROM zones WHERE name = ?1")
        statement.bind(1, name)
        defer { statement.reset() }  // an unreset statement pins the connection's read snapshot
        guard try statement.step() else { return nil }
        let id = statement.int64(0)
        zoneIDs[name] = id
        return id
    }

    /// The zone's id, creating the zone with default settings and policy when missing.
    /// Call inside a write transaction.
    func zoneID(creating name: String) throws(StoreError) -> Int64 {
        let name = ZoneSettings.normalizedName(name)
        guard Store.isValidZoneName(name) else { throw StoreError(.invalidInput, "'\(name)' is not a valid zone name") }
        if let id = try existingZoneID(name) { return id }
        let statement = try db.statement("INSERT INTO zones(name, settings, policy, created) VALUES (?1, ?2, ?3, ?4)")
        statement.bind(1, name).bind(2, try Store.json(ZoneSettings.defaults(zone: name)))
            .bind(3, try Store.json(ListingPolicy.defaults)).bind(4, clock())
        try statement.run()
        let id = db.lastInsertRowID
        zoneIDs[name] = id
        try logReset(zoneID: id)
        return id
    }

    /// A zone name: dot-separated labels of letters, digits, `-` and `_`, 1...63 bytes each.
    public static func isValidZoneName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63
                && label.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) }
        }
    }

    /// Settings and policy of a zone (cached per connection; a change made by another
    /// process is seen after `reloadZones()`).
    func zoneConfig(_ zoneID: Int64) throws(StoreError) -> (settings: ZoneSettings, policy: ListingPolicy) {
        if let cached = zoneCache[zoneID] { return cached }
        let statement = try db.statement("SELECT settings, policy FROM zones WHERE id = ?1")
        statement.bind(1, zoneID)
        guard try statement.step() else { throw StoreError(.notFound, "\(path): no zone with id \(zoneID)") }
        let settings: ZoneSettings = try Store.decode(statement.text(0) ?? "", what: "zone settings", path: path)
        let policy: ListingPolicy = try Store.decode(statement.text(1) ?? "", what: "listing policy", path: path)
        statement.reset()
        zoneCache[zoneID] = (settings, policy)
        return (settings, policy)
    }

    /// Forgets cached zone settings and policies (another process may have changed them).
    public func reloadZones() {
        zoneCache.removeAll()
        zoneIDs.removeAll()
    }

    /// Drops the memory map and the page cache down to a few pages, for a long-lived reader
    /// that only polls (`rbld serve` after its initial load): the pages of a large snapshot
    /// blob would otherwise stay resident for the life of the process.
    public func shrinkMemory() throws(StoreError) {
        try db.execute("PRAGMA mmap_size = 0")
        try db.execute("PRAGMA cache_size = -512")
        pageCacheShrunk = true
        sqlite3_db_release_memory(db.handle)
    }

    /// Runs `body`, which streams a large blob, with a page cache of 2 MiB: the blob's
    /// pages pass through the cache once and must not stay resident (a 10M-entry snapshot
    /// cache is some 60 MB of pages, as much again as the table it holds).
    func withSmallPageCache<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try db.execute("PRAGMA cache_size = -2048")
        defer {
            if pageCacheShrunk { try? db.execute("PRAGMA cache_size = -512") } else { try? db.execute("PRAGMA cache_size = -65536") }
            sqlite3_db_release_memory(db.handle)
        }
        return try body()
    }

    /// The zone's served settings, or nil when the store has no such zone.
    public func zoneSettings(_ zone: String) throws(StoreError) -> ZoneSettings? {
        reloadZones()
        guard let id = try existingZoneID(zone) else { return nil }
        return try zoneConfig(id).settings
    }

    /// Saves a zone's settings (creating the zone); the DNS side rebuilds on the next poll.
    /// A change is audited with `actor` and `reason`; saving the same settings writes nothing.
    public func saveZoneSettings(_ settings: ZoneSettings, actor: String = "rbld", reason: String = "zone settings") throws(StoreError) {
        try db.writeTransaction { () throws(StoreError) in
            try saveZoneSettingsInTransaction(settings, actor: actor, reason: reason)
        }
    }

    func saveZoneSettingsInTransaction(_ settings: ZoneSettings, actor: String, reason: String) throws(StoreError) {
        var settings = settings
        settings.name = ZoneSettings.normalizedName(settings.name)
        let id = try zoneID(creating: settings.name)
        let before = try zoneConfig(id).settings
        guard before != settings else { return }
        let statement = try db.statement("UPDATE zones SET settings = ?1 WHERE id = ?2")
        statement.bind(1, try Store.json(settings)).bind(2, id)
        try statement.run()
        zoneCache[id] = nil
        try audit(zoneID: id, actor: actor, action: "settings", prefix: nil, reason: reason,
                  before: try Store.json(before), after: try Store.json(settings))
        try logReset(zoneID: id)
    }

    /// The zone's listing policy (defaults when the zone does not exist yet).
    public func listingPolicy(zone: String) throws(StoreError) -> ListingPolicy {
        reloadZones()
        guard let id = try existingZoneID(zone) else { return .defaults }
        return try zoneConfig(id).policy
    }

    /// Saves the zone's listing policy and recomputes when each source's listing ends.
    public func saveListingPolicy(_ policy: ListingPolicy, zone: String, actor: String, reason: String) throws(StoreError) {
        try db.writeTransaction { () throws(StoreError) in
            let id = try zoneID(creating: zone)
            let before = try zoneConfig(id).policy
            guard before != policy else { return }
            let statement = try db.statement("UPDATE zones SET policy = ?1 WHERE id = ?2")
            statement.bind(1, try Store.json(policy)).bind(2, id)
            try statement.run()
            zoneCache[id] = nil
            try audit(zoneID: id, actor: actor, action: "policy", prefix: nil, reason: reason,
                      before: try Store.json(before), after: try Store.json(policy))
            try rescoreAllSources(zoneID: id, policy: policy)
            try logReset(zoneID: id)
        }
    }

    // MARK: - Change serial and log

    /// The serial of the last committed change that can alter what is served (0 for none).
    ///
    /// One indexed read; it only ever increases, also across log pruning.
    public func changeSerial() throws(StoreError) -> Int64 {
        let statement = try db.statement("SELECT seq FROM sqlite_sequence WHERE name = 'change_log'")
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : 0
    }

    /// Number of changed prefixes above which one "rebuild everything" row is logged instead.
    ///
    /// A server merges logged changes into its table (about twice the table's memory at
    /// the peak) but rebuilds the whole zone after a reset row (a builder of every entry
    /// besides the table it serves), so the limit is high: an import or a policy change of
    /// a few hundred thousand prefixes is still merged.
    static let changeLogBulkLimit = 200_000

    func logChange(zoneID: Int64, prefix: IPPrefix) throws(StoreError) {
        let statement = try db.statement("INSERT INTO change_log(zone_id, time, family, addr, plen) VALUES (?1, ?2, ?3, ?4, ?5)")
        statement.bind(1, zoneID).bind(2, clock()).bindPrefix(3, prefix)
        try statement.run()
    }

    func logReset(zoneID: Int64) throws(StoreError) {
        let statement = try db.statement("INSERT INTO change_log(zone_id, time, family) VALUES (?1, ?2, 0)")
        statement.bind(1, zoneID).bind(2, clock())
        try statement.run()
    }

    /// Logs changed prefixes, or one reset row when there are too many.
    func logChanges(zoneID: Int64, _ prefixes: some Collection<IPPrefix>) throws(StoreError) {
        if prefixes.count > Store.changeLogBulkLimit { return try logReset(zoneID: zoneID) }
        for prefix in prefixes { try logChange(zoneID: zoneID, prefix: prefix) }
    }

    /// Logs that the listings of `prefixes` in `zone` ran out, so that their expiry is a
    /// change like any other: the change serial moves, and with it the zone's SOA serial,
    /// which tells secondaries and exports that the zone changed. The publisher calls it
    /// when an expiry falls due; nothing else in the store changes (the rows stay until
    /// `expire` removes them).
    public func logExpiries(_ prefixes: [IPPrefix], zone: String) throws(StoreError) {
        guard !prefixes.isEmpty else { return }
        try db.writeTransaction { () throws(StoreError) in
            guard let zoneID = try existingZoneID(zone) else { return }
            try logChanges(zoneID: zoneID, prefixes)
        }
    }

    /// Prefixes whose served state may have changed after `serial`, oldest first.
    ///
    /// Apply each with `listing(for:zone:now:)`, then continue from the batch's `serial`.
    ///
    /// - Returns: nil when the log no longer reaches back to `serial`, or a bulk change
    ///   (a big import, new zone settings or policy) lies in between: rebuild from
    ///   ``activeSnapshot(zone:now:)``.
    public func changes(zone: String, after serial: Int64, limit: Int = 10_000) throws(StoreError) -> ChangeBatch? {
        try db.readTransaction { () throws(StoreError) -> ChangeBatch? in
            let current = try changeSerial()
            if serial >= current { return ChangeBatch(serial: max(serial, current), changes: []) }
            if serial < (try prunedThrough()) { return nil }
            guard let id = try existingZoneID(zone) else { return ChangeBatch(serial: current, changes: []) }
            let statement = try db.statement("""
                SELECT serial, family, addr, plen FROM change_log
                WHERE serial > ?2 AND serial <= ?3 AND zone_id = ?1 ORDER BY serial LIMIT ?4
                """)
            statement.bind(1, id).bind(2, serial).bind(3, current).bind(4, limit)
            var changes: [ListingChange] = []
            while try statement.step() {
                if statement.int64(1) == 0 { statement.reset(); return nil }
                guard let prefix = statement.prefix(1) else { statement.reset(); return nil }
                changes.append(ListingChange(serial: statement.int64(0), prefix: prefix))
            }
            let through = changes.count == limit ? changes[changes.count - 1].serial : current
            return ChangeBatch(serial: through, changes: changes)
        }
    }

    func prunedThrough() throws(StoreError) -> Int64 {
        let statement = try db.statement("SELECT value FROM meta WHERE key = 'change_log_pruned_through'")
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : 0
    }

    // MARK: - Trap keys

    /// The secret that ingest keys trap addresses with (`HMAC-SHA256(secret, address)`), so
    /// that hits can be told apart by trap while no trap address is stored. Made at random
    /// when the store is created; it never leaves the store file, so whoever holds the file
    /// can test guesses of trap addresses, and nobody else can.
    public func trapKeySecret() throws(StoreError) -> [UInt8] {
        let statement = try db.statement("SELECT value FROM meta WHERE key = 'trap_key_secret'")
        defer { statement.reset() }
        guard try statement.step(), let secret = statement.blob(0), secret.count >= 16 else {
            throw StoreError(.corrupt, "\(path): the trap key secret is missing")
        }
        return secret
    }

    // MARK: - Snapshot cache

    /// The DNS side's cached snapshot bytes for the zone and the serial they reflect.
    public func snapshotCache(zone: String) throws(StoreError) -> (serial: Int64, bytes: [UInt8])? {
        try readSnapshotCache(zone: zone) { serial, size, read in
            (serial, (try? [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                try read(0, UnsafeMutableRawBufferPointer(buffer))
                initialized = size
            }) ?? [])
        }
    }

    /// Reads the zone's cached snapshot in pieces, for a large one never held whole:
    /// `body` gets the serial it reflects, its size in bytes, and `read(offset, destination)`,
    /// which fills `destination` from that byte on (valid only while `body` runs). Nil when
    /// the zone has no cache.
    public func readSnapshotCache<T>(
        zone: String,
        _ body: (_ serial: Int64, _ size: Int, _ read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) -> T
    ) throws(StoreError) -> T? {
        guard let id = try existingZoneID(zone) else { return nil }
        return try withSmallPageCache { () throws(StoreError) -> T? in try db.readTransaction { () throws(StoreError) -> T? in
            let statement = try db.statement("SELECT serial FROM snapshot_cache WHERE zone_id = ?1")
            statement.bind(1, id)
            defer { statement.reset() }
            guard try statement.step() else { return nil }
            let serial = statement.int64(0)
            return try db.withBlob("snapshot_cache", "bytes", row: id, writable: false) { blob in
                body(serial, blob.count) { offset, destination in try blob.read(at: offset, into: destination) }
            }
        } }
    }

    /// Stores the DNS side's snapshot bytes (replacing the previous ones). Not a served
    /// change: the change serial does not move.
    public func saveSnapshotCache(zone: String, serial: Int64, bytes: [UInt8]) throws(StoreError) {
        try saveSnapshotCache(zone: zone, serial: serial, size: bytes.count) { sink throws(StoreError) in
            // `withUnsafeBytes` rethrows untyped: the sink's own error is carried out.
            var failure: StoreError?
            bytes.withUnsafeBytes { buffer in
                do throws(StoreError) { try sink(buffer) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// Stores a snapshot of `size` bytes that `write` passes to its sink piece by piece,
    /// in order, straight into the store: a large one is never held whole. In one
    /// transaction, so a crash leaves the old cache or the new one; fewer or more bytes
    /// than `size` is an error and nothing is stored.
    public func saveSnapshotCache(
        zone: String, serial: Int64, size: Int,
        _ write: (_ sink: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) -> Void
    ) throws(StoreError) {
        try withSmallPageCache { () throws(StoreError) in try db.writeTransaction { () throws(StoreError) in
            let id = try zoneID(creating: zone)
            // A delete and an insert, not INSERT OR REPLACE: with foreign keys on, a replace
            // keeps every page of the old blob in an in-memory statement journal until it
            // ends (+40 MB of resident memory for a 40 MB cache).
            try db.statement("DELETE FROM snapshot_cache WHERE zone_id = ?1").bind(1, id).run()
            let statement = try db.statement("INSERT INTO snapshot_cache(zone_id, serial, bytes) VALUES (?1, ?2, zeroblob(?3))")
            statement.bind(1, id).bind(2, serial).bind(3, size)
            try statement.run()
            try db.withBlob("snapshot_cache", "bytes", row: id, writable: true) { blob throws(StoreError) in
                var offset = 0
                try write { piece throws(StoreError) in
                    guard piece.count <= size - offset else {
                        throw StoreError(.internalError, "\(path): the snapshot cache is larger than the \(size) bytes announced")
                    }
                    try blob.write(at: offset, piece)
                    offset += piece.count
                }
                guard offset == size else {
                    throw StoreError(.internalError, "\(path): the snapshot cache has \(offset) of the \(size) bytes announced")
                }
            }
        } }
    }

    // MARK: - Audit

    @discardableResult
    func audit(zoneID: Int64?, actor: String, action: String, prefix: IPPrefix?, reason: String,
               before: String?, after: String?) throws(StoreError) -> Int64 {
        let statement = try db.statement("""
            INSERT INTO audit(time, zone_id, actor, action, family, addr, plen, prefix, reason, before, after)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
            """)
        statement.bind(1, clock()).bind(2, zoneID).bind(3, actor).bind(4, action)
        if let prefix { statement.bindPrefix(5, prefix).bind(8, prefix.description) }
        statement.bind(9, reason).bind(10, before).bind(11, after)
        try statement.run()
        return db.lastInsertRowID
    }

    // MARK: - JSON

    static func json(_ value: some Encodable) throws(StoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreError(.internalError, "cannot encode \(type(of: value)): \(error)")
        }
    }

    static func decode<T: Decodable>(_ text: String, what: String, path: String) throws(StoreError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw StoreError(.corrupt, "\(path): unreadable \(what): \(error)")
        }
    }
}

/// A batch of change-log entries for one zone (from `Store.changes`).
public struct ChangeBatch: Hashable, Sendable {
    /// The serial the caller has caught up through after applying `changes`.
    public var serial: Int64
    /// Prefixes to re-resolve, oldest first (may repeat a prefix).
    public var changes: [ListingChange]
}

extension Store {
    /// Checks the file and the store's invariants; returns the problems found (empty: fine).
    ///
    /// SQLite's `integrity_check` and `foreign_key_check`, then: every source's hit count
    /// equals its stored hits, and the change serial is not behind the log.
    public func integrityCheck() throws(StoreError) -> [String] {
        try db.readTransaction { () throws(StoreError) -> [String] in
            var problems: [String] = []
            let integrity = try db.statement("PRAGMA integrity_check")
            while try integrity.step() {
                let line = integrity.text(0) ?? ""
                if line != "ok" { problems.append("integrity: \(line)") }
            }
            let foreign = try db.statement("PRAGMA foreign_key_check")
            while try foreign.step() { problems.append("foreign key: \(foreign.text(0) ?? "?") row \(foreign.int64(1))") }
            let counts = try db.statement("""
                SELECT count(*) FROM sources s
                WHERE s.hit_count != (SELECT count(*) FROM hits h WHERE h.zone_id = s.zone_id AND h.family = s.family AND h.addr = s.addr)
                """)
            if try counts.step(), counts.int(0) > 0 { problems.append("\(counts.int(0)) source(s) whose hit count differs from their hits") }
            counts.reset()
            let serial = try db.statement("SELECT (SELECT coalesce(max(serial), 0) FROM change_log) <= (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'change_log')")
            if try serial.step(), serial.int(0) != 1 { problems.append("change serial behind the change log") }
            serial.reset()
            return problems
        }
    }
}
