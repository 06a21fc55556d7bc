// Store+History.swift -- day-by-day counts for charts: hits by kind, sources listed.

/// Hits by kind and listed sources per day, for the web side's charts.
public struct ZoneHistory: Hashable, Sendable, Codable {
    public struct Day: Hashable, Sendable, Codable {
        /// Unix seconds of the day's start (UTC).
        public var start: Int64
        /// Hits that arrived that day, by kind.
        public var hits: [String: Int]
        /// Scored sources listed at the day's end (or now, for today): their score listing
        /// ran then, and no delisting held it down nor exclusion covered it. As far as the
        /// store remembers: each source's current listing only (an earlier one that expired
        /// is gone), and each prefix's latest delisting and current exclusions.
        public var listed: Int
    }

    public var zone: String
    public var now: Int64
    /// Oldest first; today last.
    public var days: [Day]
    /// Sources listed by score now (delisted and excluded ones not), and hits in the last
    /// 24 hours and 7 days.
    public var listedNow: Int
    public var hitsLast24h: Int
    public var hitsLast7d: Int
}

extension Store {
    /// The last `dayCount` days (today included) of `zone`. Reads every hit and source row
    /// of the zone once (no index by time): about a second at a million hits, so callers
    /// cache it.
    public func history(zone: String, now: Int64, dayCount: Int) throws(StoreError) -> ZoneHistory {
        let today = now - ((now % 86400) + 86400) % 86400
        let first = today - Int64(max(1, dayCount) - 1) * 86400
        var history = ZoneHistory(zone: ZoneSettings.normalizedName(zone), now: now,
                                  days: stride(from: first, through: today, by: 86400).map { ZoneHistory.Day(start: $0, hits: [:], listed: 0) },
                                  listedNow: 0, hitsLast24h: 0, hitsLast7d: 0)
        return try db.readTransaction { () throws(StoreError) -> ZoneHistory in
            guard let zoneID = try existingZoneID(zone) else { return history }
            let hits = try db.statement("""
                SELECT (time - ?2) / 86400, kind, count(*), sum(time > ?3), sum(time > ?4) FROM hits
                WHERE zone_id = ?1 AND time >= ?5 GROUP BY 1, 2
                """)
            hits.bind(1, zoneID).bind(2, first).bind(3, now - 86400).bind(4, now - 7 * 86400).bind(5, min(first, now - 7 * 86400))
            defer { hits.reset() }
            while try hits.step() {
                history.hitsLast24h += hits.int(3)
                history.hitsLast7d += hits.int(4)
                let day = hits.int(0)
                guard !hits.isNull(0), day >= 0, day < history.days.count else { continue }
                history.days[day].hits[hits.text(1) ?? "?", default: 0] += hits.int(2)
            }
            let policy = try zoneConfig(zoneID).policy
            let delistings = try coveringRows("SELECT family, addr, plen, created FROM delistings WHERE zone_id = ?1", zoneID: zoneID)
            let exclusions = try coveringRows("SELECT family, addr, plen, created FROM exclusions WHERE zone_id = ?1", zoneID: zoneID)
            let relisted = try db.statement("""
                SELECT min(time) FROM hits INDEXED BY hits_by_source WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND time > ?4
                """)
            let sources = try db.statement("""
                SELECT listed_since, until, family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, coalesce(last_counted, last_seen) FROM sources
                WHERE zone_id = ?1 AND until > ?2 AND listed_since IS NOT NULL
                """)
            sources.bind(1, zoneID).bind(2, first)
            defer { sources.reset() }
            while try sources.step() {
                guard let host = sources.prefix(2), !policy.isNeverListed(host) else { continue }
                // Listed during [since, until), except where a delisting or exclusion held it down.
                var down: [(from: Int64, to: Int64)] = exclusions.created(covering: host).map { ($0, .max) }
                for delisted in delistings.created(covering: host) {
                    let lastCounted = sources.int64(5)
                    if delisted >= lastCounted {
                        down.append((delisted, .max))
                    } else {
                        // A later hit listed it again: the first one after the delisting, as
                        // far as the hits kept tell.
                        relisted.reset()
                        relisted.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host).bind(4, delisted)
                        let again = try relisted.step() && !relisted.isNull(0) ? min(relisted.int64(0), lastCounted) : lastCounted
                        down.append((delisted, again))
                    }
                }
                relisted.reset()
                let since = sources.int64(0)
                let until = sources.int64(1)
                func listed(at time: Int64) -> Bool {
                    since <= time && until > time && !down.contains { $0.from <= time && time < $0.to }
                }
                if listed(at: now) { history.listedNow += 1 }
                for index in history.days.indices where listed(at: min(history.days[index].start + 86400, now)) {
                    history.days[index].listed += 1
                }
            }
            return history
        }
    }
}

/// Prefixes of one table with a time each (delistings, exclusions), looked up by the hosts
/// they cover: one probe per prefix length present.
struct CoveringRows {
    private var rows: [IPPrefix: Int64] = [:]
    private var lengths: [IPPrefix.Family: Set<Int>] = [:]

    mutating func insert(_ prefix: IPPrefix, created: Int64) {
        rows[prefix] = created
        lengths[prefix.family, default: []].insert(prefix.length)
    }

    /// The times of the rows whose prefix covers `host`.
    func created(covering host: IPPrefix) -> [Int64] {
        guard let lengths = lengths[host.family] else { return [] }
        return lengths.compactMap { rows[host.truncated(to: $0)] }
    }
}

extension Store {
    /// The rows of `sql` (family, addr, plen, time; `?1` the zone) by prefix.
    func coveringRows(_ sql: StaticString, zoneID: Int64) throws(StoreError) -> CoveringRows {
        let statement = try db.statement(sql)
        statement.bind(1, zoneID)
        defer { statement.reset() }
        var rows = CoveringRows()
        while try statement.step() {
            if let prefix = statement.prefix(0) { rows.insert(prefix, created: statement.int64(3)) }
        }
        return rows
    }
}
