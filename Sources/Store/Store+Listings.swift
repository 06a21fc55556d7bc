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
    /// Each entry is what ``ListingPrecedence/decide(_:facts:policy:defaultCode:now:)``
    /// makes of its prefix: exclusions (served as `!` holes), manual and imported entries
    /// that have not expired and are not excluded, and scored sources whose listing runs.
    /// A scored source inside a wider manual network keeps its own entry (its code).
    public func activeListings(zone: String, now: Int64) throws(StoreError) -> [Listing] {
        try activeSnapshot(zone: zone, now: now).listings
    }

    /// ``activeListings(zone:now:)`` together with the serial and settings it matches.
    public func activeSnapshot(zone: String, now: Int64) throws(StoreError) -> ActiveSnapshot {
        var listings: [Listing] = []
        let (serial, settings) = try forEachActiveListing(zone: zone, now: now, reserve: { listings.reserveCapacity($0) }) {
            listings.append($0)
        }
        return ActiveSnapshot(serial: serial, settings: settings, listings: listings)
    }

    /// ``activeSnapshot(zone:now:)`` one entry at a time, in one read transaction, so a
    /// caller that builds its own structure (a 10M-entry table) never holds them all as
    /// `Listing` values too.
    ///
    /// - Parameters:
    ///   - reserve: told how many entries at most will come, before the first.
    ///   - body: each entry to serve (unordered).
    /// - Returns: the change serial and the zone's settings the entries match.
    public func forEachActiveListing(zone: String, now: Int64, reserve: (Int) -> Void = { _ in },
                                     _ body: (Listing) throws(StoreError) -> Void) throws(StoreError) -> (serial: Int64, settings: ZoneSettings) {
        try db.readTransaction { () throws(StoreError) -> (serial: Int64, settings: ZoneSettings) in
            reloadZones()
            let serial = try changeSerial()
            guard let zoneID = try existingZoneID(zone) else { return (serial, .defaults(zone: zone)) }
            let (settings, policy) = try zoneConfig(zoneID)
            func decide(_ prefix: IPPrefix, _ facts: ListingFacts) -> ListingDecision {
                ListingPrecedence.decide(prefix, facts: facts, policy: policy, defaultCode: settings.defaultCode, now: now)
            }
            // Three passes, one per kind of row; each decides its prefixes with all the facts
            // and adds the entries of its own kind (an excluded manual row's hole comes from
            // the first pass, a manual host's answer from the second).
            let exclusions = try loadExclusions(zoneID: zoneID)
            var excluded: [Listing] = []
            exclusions.forEach { prefix, _ in
                if case .excluded(let listing) = decide(prefix, ListingFacts(excluded: true)) { excluded.append(listing) }
            }

            let sourceCount = try count("SELECT count(*) FROM sources WHERE zone_id = ?1 AND until > ?2", zoneID, now)
            // Manual entries that may be a source's own prefix (hosts, and IPv6 networks a
            // source may be scored as), in key order: the sources (also in key order) merge
            // against them.
            var manualHosts: [(prefix: IPPrefix, entry: ManualEntry)] = []
            let manualRows = try db.statement("""
                SELECT family, addr, plen, code, txt, expires FROM manual_listings
                WHERE zone_id = ?1 AND (expires IS NULL OR expires > ?2) ORDER BY family, addr, plen
                """)
            manualRows.bind(1, zoneID).bind(2, now)
            reserve(excluded.count + (try count("SELECT count(*) FROM manual_listings WHERE zone_id = ?1 AND ?2 = ?2", zoneID, now)) + sourceCount)
            for listing in excluded { try body(listing) }
            while try manualRows.step() {
                guard let prefix = manualRows.prefix(0) else { throw corruptRow("manual_listings") }
                let entry = ManualEntry(code: manualRows.isNull(3) ? nil : UInt8(clamping: manualRows.int(3)),
                                        text: manualRows.text(4), expires: manualRows.optionalInt64(5))
                var facts = ListingFacts(manual: entry)
                if !exclusions.isEmpty { (facts.excluded, facts.insideExclusion) = exclusions.exclusion(of: prefix) }
                if case .manual(let listing) = decide(prefix, facts) { try body(listing) }
                if sourceCount > 0, prefix.isHost || prefix.family == .v6 { manualHosts.append((prefix, entry)) }
            }

            guard sourceCount > 0 else { return (serial, settings) }
            if !manualHosts.indices.dropFirst().allSatisfy({ manualHosts[$0 - 1].prefix < manualHosts[$0].prefix }) {
                manualHosts.sort { $0.prefix < $1.prefix }
            }
            var manualIndex = 0
            let delistings = try loadDelistings(zoneID: zoneID)
            let sourceRows = try db.statement("""
                SELECT family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END), kinds, until,
                       coalesce(last_counted, last_seen)
                FROM sources WHERE zone_id = ?1 AND +until > ?2 ORDER BY family, addr
                """)
            // `+until`: scan the table in key order rather than visiting it in `until` order
            // through the index (a random lookup per row).
            sourceRows.bind(1, zoneID).bind(2, now)
            while try sourceRows.step() {
                guard let prefix = sourceRows.prefix(0) else { throw corruptRow("sources") }
                var facts = ListingFacts(source: ScoredSource(until: sourceRows.int64(4), lastCounted: sourceRows.int64(5),
                                                              code: policy.codes.code(kindsMask: sourceRows.int64(3))))
                while manualIndex < manualHosts.count, manualHosts[manualIndex].prefix < prefix { manualIndex += 1 }
                if manualIndex < manualHosts.count, manualHosts[manualIndex].prefix == prefix { facts.manual = manualHosts[manualIndex].entry }
                if !exclusions.isEmpty { (facts.excluded, facts.insideExclusion) = exclusions.exclusion(of: prefix) }
                if !delistings.isEmpty { facts.delistedAt = delistings.newestCovering(prefix) }
                if case .scored(let listing) = decide(prefix, facts) { try body(listing) }
            }
            return (serial, settings)
        }
    }

    /// The resolved state of exactly `prefix` at `now` (nil: not an entry of the table).
    ///
    /// Consistent with ``activeListings(zone:now:)``: for every prefix, this returns the
    /// entry that list contains for it, or nil when it contains none.
    public func listing(for prefix: IPPrefix, zone: String, now: Int64) throws(StoreError) -> Listing? {
        try db.readTransaction { () throws(StoreError) -> Listing? in
            guard let zoneID = try existingZoneID(zone) else { return nil }
            return try decision(for: prefix, zoneID: zoneID, now: now).listing
        }
    }

    /// The decision for `prefix` from its rows, read by point lookups (inside a read transaction).
    func decision(for prefix: IPPrefix, zoneID: Int64, now: Int64) throws(StoreError) -> ListingDecision {
        let (settings, policy) = try zoneConfig(zoneID)
        var facts = ListingFacts()
        facts.excluded = try exactRowExists(table: .exclusions, zoneID: zoneID, prefix: prefix)
        if !facts.excluded, prefix.length > 0 {
            facts.insideExclusion = try coveringExclusion(zoneID: zoneID, prefix: prefix.truncated(to: prefix.length - 1)) != nil
        }
        facts.manual = try manualRow(zoneID: zoneID, prefix: prefix)?.entry
        if let score = try scoredSource(zoneID: zoneID, prefix: prefix)?.score {
            facts.source = ScoredSource(score, codes: policy.codes)
            // Only a running listing can be held down; the lookups are skipped otherwise.
            if (score.until ?? .min) > now { facts.delistedAt = try newestCoveringDelisting(zoneID: zoneID, prefix: prefix) }
        }
        return ListingPrecedence.decide(prefix, facts: facts, policy: policy, defaultCode: settings.defaultCode, now: now)
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
                for prefix in prefixes { results.append(try decision(for: prefix, zoneID: zoneID, now: now).listing) }
                return results
            }
            let (settings, policy) = try zoneConfig(zoneID)
            let exclusions = try loadExclusions(zoneID: zoneID)
            let delistings = try loadDelistings(zoneID: zoneID)
            var results: [Listing?] = []
            results.reserveCapacity(prefixes.count)
            for prefix in prefixes {
                var facts = ListingFacts()
                (facts.excluded, facts.insideExclusion) = exclusions.exclusion(of: prefix)
                facts.manual = try manualRow(zoneID: zoneID, prefix: prefix)?.entry
                if let score = try scoredSource(zoneID: zoneID, prefix: prefix)?.score {
                    facts.source = ScoredSource(score, codes: policy.codes)
                    facts.delistedAt = delistings.newestCovering(prefix)
                }
                results.append(ListingPrecedence.decide(prefix, facts: facts, policy: policy,
                                                        defaultCode: settings.defaultCode, now: now).listing)
            }
            return results
        }
    }

    // MARK: - Helpers shared with the admin side

    /// The source scored as exactly `prefix`: a host, or an IPv6 network (nil for any other
    /// prefix, and for a row of another length at the same first address).
    func scoredSource(zoneID: Int64, prefix: IPPrefix) throws(StoreError) -> SourceRow? {
        guard prefix.isHost || prefix.family == .v6,
              let row = try sourceState(zoneID: zoneID, source: prefix), row.prefix == prefix else { return nil }
        return row
    }

    /// The source `address` counts for: its own row, or the IPv6 network around it that
    /// its hits are scored as (at whatever length that row was scored).
    func source(containing address: IPPrefix, zoneID: Int64) throws(StoreError) -> SourceRow? {
        let shortest = address.family == .v6 ? ListingPolicy.ipv6PrefixRange.lowerBound : address.length
        for length in stride(from: address.length, through: shortest, by: -1) {
            if let row = try sourceState(zoneID: zoneID, source: address.truncated(to: length)), row.prefix.contains(address) {
                return row
            }
        }
        return nil
    }

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

    /// When the newest delisting containing `prefix` (itself included) was made, by one
    /// point lookup per possible length.
    func newestCoveringDelisting(zoneID: Int64, prefix: IPPrefix) throws(StoreError) -> Int64? {
        let statement = try db.statement("""
            SELECT created FROM delistings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
            """)
        defer { statement.reset() }
        var newest: Int64?
        for length in 0...prefix.length {
            statement.reset()
            statement.bind(1, zoneID).bindPrefix(2, prefix.truncated(to: length))
            if try statement.step() { newest = max(newest ?? .min, statement.int64(0)) }
        }
        return newest
    }

    /// The zone's exclusions, in memory.
    func loadExclusions(zoneID: Int64) throws(StoreError) -> PrefixIndex<Void> {
        try loadIndex(try db.statement("SELECT family, addr, plen FROM exclusions WHERE zone_id = ?1"),
                      zoneID: zoneID, table: "exclusions") { _ in () }
    }

    /// The zone's delistings with the time each was made, in memory.
    func loadDelistings(zoneID: Int64) throws(StoreError) -> PrefixIndex<Int64> {
        try loadIndex(try db.statement("SELECT family, addr, plen, created FROM delistings WHERE zone_id = ?1"),
                      zoneID: zoneID, table: "delistings") { $0.int64(3) }
    }

    /// The prefixes (columns 0-2) of `rows` with a value read from each row.
    private func loadIndex<Value>(_ rows: Statement, zoneID: Int64, table: String,
                                  value: (Statement) -> Value) throws(StoreError) -> PrefixIndex<Value> {
        var index = PrefixIndex<Value>()
        rows.bind(1, zoneID)
        defer { rows.reset() }
        while try rows.step() {
            guard let prefix = rows.prefix(0) else { throw corruptRow(table) }
            index.insert(prefix, value(rows))
        }
        return index
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
