// Store+History.swift -- day-by-day counts for charts: hits by kind, sources listed.

/// Hits by kind and listed sources per day, for the web side's charts.
public struct ZoneHistory: Hashable, Sendable, Codable {
    public struct Day: Hashable, Sendable, Codable {
        /// Unix seconds of the day's start (UTC).
        public var start: Int64
        /// Hits that arrived that day, by kind.
        public var hits: [String: Int]
        /// Scored sources whose score listing ran at the day's end (or now, for today), as
        /// their scores tell now: a rescored listing counts as it is now, and delistings are
        /// not subtracted.
        public var listed: Int
    }

    public var zone: String
    public var now: Int64
    /// Oldest first; today last.
    public var days: [Day]
    /// Sources listed by score now, and hits in the last 24 hours and 7 days.
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
            let sources = try db.statement("""
                SELECT listed_since, until FROM sources WHERE zone_id = ?1 AND until > ?2 AND listed_since IS NOT NULL
                """)
            sources.bind(1, zoneID).bind(2, first)
            defer { sources.reset() }
            while try sources.step() {
                let since = sources.int64(0)
                let until = sources.int64(1)
                if since <= now, until > now { history.listedNow += 1 }
                for index in history.days.indices {
                    let end = min(history.days[index].start + 86400, now)
                    if since <= end, until > end { history.days[index].listed += 1 }
                }
            }
            return history
        }
    }
}
