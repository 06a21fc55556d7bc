// Store+Listings.swift -- the listing policy applied: what to serve now, per zone and prefix.

/// Everything the DNS side needs to build a zone, read in one consistent snapshot.
public struct ActiveSnapshot: Sendable {
    /// The change serial this state reflects; continue with `Store.changes(after:)`.
    public var serial: Int64
    /// The zone's settings (defaults when the store has no such zone yet).
    public var settings: ZoneSettings
    /// Entries to serve, policy applied (unordered).
    public var listings: [Listing]
}

extension Store {
    /// Everything to serve at `now`, with the listing policy applied.
    ///
    /// Precedence (DESIGN.md): an exclusion wins over everything (entries inside it are
    /// dropped, and it is served as a `!` hole); a manual or imported entry lists
    /// regardless of score or delisting; a delisting suppresses a scored source until a
    /// hit newer than the delisting; otherwise a source is listed while its listing runs
    /// (`sources.until > now`). Scoring never lists the policy's `neverList` ranges.
    /// A scored source inside a wider manual network keeps its own entry (its code).
    public func activeListings(zone: String, now: Int64) throws(StoreError) -> [Listing] {
        try activeSnapshot(zone: zone, now: now).listings
    }

    /// ``activeListings(zone:now:)`` together with the serial and settings it matches.
    public func activeSnapshot(zone: String, now: Int64) throws(StoreError) -> ActiveSnapshot {
        try db.readTransaction { () throws(StoreError) -> ActiveSnapshot in
            reloadZones()
            let serial = try changeSerial()
            guard let zoneID = try existingZoneID(zone) else {
                return ActiveSnapshot(serial: serial, settings: .defaults(zone: zone), listings: [])
            }
            let (settings, policy) = try zoneConfig(zoneID)
            var listings: [Listing] = []

            var exclusions = PrefixIndex<Void>()
            let exclusionRows = try db.statement("SELECT family, addr, plen FROM exclusions WHERE zone_id = ?1")
            exclusionRows.bind(1, zoneID)
            while try exclusionRows.step() {
                guard let prefix = exclusionRows.prefix(0) else { throw corruptRow("exclusions") }
                exclusions.insert(prefix, ())
                listings.append(Listing(prefix: prefix, excluded: true, code: 0))
            }

            let sourceCount = try count("SELECT count(*) FROM sources WHERE zone_id = ?1 AND until > ?2", zoneID, now)
            // Manual hosts, in key order: the sources (also in key order) merge against them.
            var manualHosts: [IPPrefix] = []
            let manualRows = try db.statement("""
                SELECT family, addr, plen, code, txt, expires FROM manual_listings
                WHERE zone_id = ?1 AND (expires IS NULL OR expires > ?2) ORDER BY family, addr, plen
                """)
            manualRows.bind(1, zoneID).bind(2, now)
            listings.reserveCapacity(listings.count + (try count("SELECT count(*) FROM manual_listings WHERE zone_id = ?1 AND ?2 = ?2", zoneID, now)) + sourceCount)
            while try manualRows.step() {
                guard let prefix = manualRows.prefix(0) else { throw corruptRow("manual_listings") }
                if !exclusions.isEmpty, exclusions.covers(prefix) { continue }
                let code = manualRows.isNull(3) ? settings.defaultCode : UInt8(clamping: manualRows.int(3))
                listings.append(Listing(prefix: prefix, code: code, text: manualRows.text(4), expires: manualRows.optionalInt64(5)))
                if sourceCount > 0, prefix.isHost { manualHosts.append(prefix) }
            }

            guard sourceCount > 0 else { return ActiveSnapshot(serial: serial, settings: settings, listings: listings) }
            if !manualHosts.indices.dropFirst().allSatisfy({ manualHosts[$0 - 1] < manualHosts[$0] }) { manualHosts.sort() }
            var manualIndex = 0
            let delistings = try loadDelistings(zoneID: zoneID)
            let sourceRows = try db.statement("""
                SELECT family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, kinds, until, last_seen
                FROM sources WHERE zone_id = ?1 AND +until > ?2 ORDER BY family, addr
                """)
            // `+until`: scan the table in key order rather than visiting it in `until` order
            // through the index (a random lookup per row).
            sourceRows.bind(1, zoneID).bind(2, now)
            while try sourceRows.step() {
                guard let prefix = sourceRows.prefix(0) else { throw corruptRow("sources") }
                while manualIndex < manualHosts.count, manualHosts[manualIndex] < prefix { manualIndex += 1 }
                if manualIndex < manualHosts.count, manualHosts[manualIndex] == prefix { continue }  // manual wins
                if policy.isNeverListed(prefix) { continue }
                if !exclusions.isEmpty, exclusions.covers(prefix) { continue }
                let lastSeen = sourceRows.int64(5)
                if !delistings.isEmpty, delistings.firstCovering(prefix, where: { _, created in created >= lastSeen }) { continue }
                listings.append(Listing(prefix: prefix, code: Store.sourceCode(kindsMask: sourceRows.int64(3)), expires: sourceRows.int64(4)))
            }
            return ActiveSnapshot(serial: serial, settings: settings, listings: listings)
        }
    }

    /// The resolved state of exactly `prefix` at `now` (nil: not an entry of the table).
    ///
    /// Consistent with ``activeListings(zone:now:)``: for every prefix, this returns the
    /// entry that list contains for it, or nil when it contains none.
    public func listing(for prefix: IPPrefix, zone: String, now: Int64) throws(StoreError) -> Listing? {
        try db.readTransaction { () throws(StoreError) -> Listing? in
            guard let zoneID = try existingZoneID(zone) else { return nil }
            let (settings, policy) = try zoneConfig(zoneID)
            if try exactRowExists(table: .exclusions, zoneID: zoneID, prefix: prefix) {
                return Listing(prefix: prefix, excluded: true, code: 0)
            }
            if try coveringExclusion(zoneID: zoneID, prefix: prefix) != nil { return nil }
            let manual = try db.statement("""
                SELECT code, txt, expires FROM manual_listings
                WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4 AND (expires IS NULL OR expires > ?5)
                """)
            manual.bind(1, zoneID).bindPrefix(2, prefix).bind(5, now)
            if try manual.step() {
                let code = manual.isNull(0) ? settings.defaultCode : UInt8(clamping: manual.int(0))
                let listing = Listing(prefix: prefix, code: code, text: manual.text(1), expires: manual.optionalInt64(2))
                manual.reset()
                return listing
            }
            guard prefix.isHost, !policy.isNeverListed(prefix),
                  let source = try sourceState(zoneID: zoneID, host: prefix)?.score,
                  let until = source.until, until > now
            else { return nil }
            if try coveringDelisting(zoneID: zoneID, prefix: prefix, notOlderThan: source.lastSeen) != nil { return nil }
            return Listing(prefix: prefix, code: source.code, expires: until)
        }
    }

    /// ``listing(for:zone:now:)`` for many prefixes at once (applying a change batch):
    /// one read transaction, exclusions and delistings loaded once.
    ///
    /// - Returns: the resolved listing of each prefix, in the order given (nil: remove).
    public func listings(for prefixes: [IPPrefix], zone: String, now: Int64) throws(StoreError) -> [Listing?] {
        try db.readTransaction { () throws(StoreError) -> [Listing?] in
            guard let zoneID = try existingZoneID(zone) else { return prefixes.map { _ in nil } }
            let exclusionCount = try count("SELECT count(*) FROM exclusions WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            let delistingCount = try count("SELECT count(*) FROM delistings WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            // Small batches against big tables: point lookups beat loading the tables.
            guard prefixes.count > 16, exclusionCount + delistingCount <= 50 * prefixes.count + 10_000 else {
                var results: [Listing?] = []
                for prefix in prefixes { results.append(try listing(for: prefix, zone: zone, now: now)) }
                return results
            }
            let (settings, policy) = try zoneConfig(zoneID)
            var exclusions = PrefixIndex<Void>()
            let exclusionRows = try db.statement("SELECT family, addr, plen FROM exclusions WHERE zone_id = ?1")
            exclusionRows.bind(1, zoneID)
            while try exclusionRows.step() {
                guard let prefix = exclusionRows.prefix(0) else { throw corruptRow("exclusions") }
                exclusions.insert(prefix, ())
            }
            let delistings = try loadDelistings(zoneID: zoneID)
            let manual = try db.statement("""
                SELECT code, txt, expires FROM manual_listings
                WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4 AND (expires IS NULL OR expires > ?5)
                """)
            var results: [Listing?] = []
            results.reserveCapacity(prefixes.count)
            for prefix in prefixes {
                if exclusions[exact: prefix] != nil { results.append(Listing(prefix: prefix, excluded: true, code: 0)); continue }
                if exclusions.covers(prefix) { results.append(nil); continue }
                manual.reset()
                manual.bind(1, zoneID).bindPrefix(2, prefix).bind(5, now)
                if try manual.step() {
                    let code = manual.isNull(0) ? settings.defaultCode : UInt8(clamping: manual.int(0))
                    results.append(Listing(prefix: prefix, code: code, text: manual.text(1), expires: manual.optionalInt64(2)))
                    continue
                }
                guard prefix.isHost, !policy.isNeverListed(prefix),
                      let source = try sourceState(zoneID: zoneID, host: prefix)?.score,
                      let until = source.until, until > now,
                      !delistings.firstCovering(prefix, where: { _, created in created >= source.lastSeen })
                else { results.append(nil); continue }
                results.append(Listing(prefix: prefix, code: source.code, expires: until))
            }
            manual.reset()
            return results
        }
    }

    /// 127.0.0.X of a scored source: 2 plus the bits of its listing's kinds.
    static func sourceCode(kindsMask: Int64) -> UInt8 {
        ReturnCode.code(kinds: HitKind.kinds(inMask: kindsMask))
    }

    // MARK: - Helpers shared with the admin side

    enum PrefixTable { case exclusions, delistings, manualListings }

    func exactRowExists(table: PrefixTable, zoneID: Int64, prefix: IPPrefix) throws(StoreError) -> Bool {
        let statement: Statement
        switch table {
        case .exclusions:
            statement = try db.statement("SELECT 1 FROM exclusions WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
        case .delistings:
            statement = try db.statement("SELECT 1 FROM delistings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
        case .manualListings:
            statement = try db.statement("SELECT 1 FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
        }
        statement.bind(1, zoneID).bindPrefix(2, prefix)
        defer { statement.reset() }
        return try statement.step()
    }

    /// The widest exclusion containing `prefix` (itself included), by one point lookup per
    /// possible length.
    func coveringExclusion(zoneID: Int64, prefix: IPPrefix) throws(StoreError) -> IPPrefix? {
        for length in 0...prefix.length {
            let candidate = prefix.truncated(to: length)
            if try exactRowExists(table: .exclusions, zoneID: zoneID, prefix: candidate) { return candidate }
        }
        return nil
    }

    /// A delisting containing `prefix` made at or after `time` (so it still holds).
    func coveringDelisting(zoneID: Int64, prefix: IPPrefix, notOlderThan time: Int64) throws(StoreError) -> IPPrefix? {
        let statement = try db.statement("""
            SELECT created FROM delistings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
            """)
        for length in 0...prefix.length {
            let candidate = prefix.truncated(to: length)
            statement.reset()
            statement.bind(1, zoneID).bindPrefix(2, candidate)
            if try statement.step(), statement.int64(0) >= time { statement.reset(); return candidate }
        }
        statement.reset()
        return nil
    }

    func loadDelistings(zoneID: Int64) throws(StoreError) -> PrefixIndex<Int64> {
        var delistings = PrefixIndex<Int64>()
        let rows = try db.statement("SELECT family, addr, plen, created FROM delistings WHERE zone_id = ?1")
        rows.bind(1, zoneID)
        while try rows.step() {
            guard let prefix = rows.prefix(0) else { throw corruptRow("delistings") }
            delistings.insert(prefix, rows.int64(3))
        }
        return delistings
    }

    func count(_ sql: StaticString, _ zoneID: Int64, _ value: Int64) throws(StoreError) -> Int {
        let statement = try db.statement(sql)
        statement.bind(1, zoneID).bind(2, value)
        defer { statement.reset() }
        return try statement.step() ? statement.int(0) : 0
    }

    func corruptRow(_ table: String) -> StoreError {
        StoreError(.corrupt, "\(path): a row of \(table) holds an invalid prefix")
    }
}
