// Store+Hits.swift -- recording hits from ingest and keeping per-source aggregates.

/// A source's stored aggregate.
struct SourceState {
    var firstSeen: Int64
    var lastSeen: Int64
    var hitCount: Int
    var score: Double
    var kinds: Int64
    var allKinds: Int64
    var listedSince: Int64?
    var until: Int64?
    var lastHitID: Int64?
}

extension Store {
    func sourceState(zoneID: Int64, host: IPPrefix) throws(StoreError) -> SourceState? {
        let statement = try db.statement("""
            SELECT first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id
            FROM sources WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
            """)
        statement.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return SourceState(firstSeen: statement.int64(0), lastSeen: statement.int64(1), hitCount: statement.int(2),
                           score: statement.double(3), kinds: statement.int64(4), allKinds: statement.int64(5),
                           listedSince: statement.optionalInt64(6), until: statement.optionalInt64(7),
                           lastHitID: statement.optionalInt64(8))
    }

    /// Recomputes when each source's listing ends under a new policy.
    func rescoreAllSources(zoneID: Int64, policy: ListingPolicy) throws(StoreError) {
        let statement = try db.statement("""
            UPDATE sources SET until = CASE WHEN listed_since IS NULL THEN NULL ELSE last_seen + ?2 END WHERE zone_id = ?1
            """)
        statement.bind(1, zoneID).bind(2, policy.expiry)
        try statement.run()
    }
}
