// Store+Admin.swift -- the operator's actions: list, delist, exclude, unexclude, expire.

/// What an admin action did.
public struct AdminResult: Hashable, Sendable, Codable {
    public var action: String
    public var zone: String
    public var prefix: String
    /// One line for humans: what changed.
    public var message: String
    /// Prefixes whose served state may have changed (the target and entries inside it).
    public var affected: Int
    /// The change serial after the action.
    public var serial: Int64
    /// The audit row recording it.
    public var auditID: Int64
}

/// What `expire` removed.
public struct ExpireSummary: Hashable, Sendable, Codable {
    public var zone: String
    /// Manual listings whose `--expires` time has passed.
    public var expiredListings = 0
    /// Hits older than the evidence retention, and sources left without a recent hit.
    public var deletedHits = 0
    public var deletedSources = 0
    /// Hits beyond the newest `maxHitsPerSource` of their source (retention only).
    public var cappedHits = 0
    /// Delistings that can no longer suppress anything (see ``Store/expire(zone:hitsOlderThan:changeLogOlderThan:retention:dryRun:actor:)``).
    public var deletedDelistings = 0
    /// Change-log rows older than its retention (the DNS side rebuilds if it was that far behind).
    public var prunedChanges = 0
    public var serial: Int64 = 0
    public var dryRun = false
}

extension Store {
    // MARK: - list

    /// Lists `prefix` manually: it is served whatever its score or delistings, until
    /// `expires` (nil = never) or until delisted.
    ///
    /// - Parameters:
    ///   - kinds: kinds to encode in the answer (the zone's ``ReturnCodes`` with the
    ///     manual bit, fixed when listed: 127.0.0.X = 2 + 32 + kinds' bits by default).
    ///   - code: an explicit X instead (2...255).
    ///   - text: this entry's TXT template (nil = the zone's).
    ///   - allowSpecial: list a special-purpose (RFC 6890) range anyway.
    /// - Throws: `.conflict` when an exclusion covers the prefix; `.invalidInput` for a
    ///   special-purpose range without `allowSpecial`, a bad code, or an expiry in the past.
    public func list(_ prefix: IPPrefix, zone: String, kinds: [HitKind] = [], code: UInt8? = nil, text: String? = nil,
                     expires: Int64? = nil, allowSpecial: Bool = false, actor: String, reason: String) throws(StoreError) -> AdminResult {
        let now = clock()
        if let code, code < 2 { throw StoreError(.invalidInput, "return code 127.0.0.\(code) is not a listing (2...255)") }
        if let expires, expires <= now { throw StoreError(.invalidInput, "expiry time is in the past") }
        return try db.writeTransaction { () throws(StoreError) -> AdminResult in
            let zoneID = try zoneID(creating: zone)
            let policy = try zoneConfig(zoneID).policy
            if !allowSpecial, let range = policy.neverList.first(where: { $0.contains(prefix) || prefix.contains($0) }) {
                throw StoreError(.invalidInput, "\(prefix) overlaps the special-purpose range \(range) (RFC 6890); use --force to list it anyway")
            }
            if let exclusion = try coveringExclusion(zoneID: zoneID, prefix: prefix) {
                throw StoreError(.conflict, "\(prefix) is excluded by \(exclusion); unexclude it first")
            }
            let finalCode = code ?? policy.codes.code(kinds: kinds, manual: true)
            let before = try manualRow(zoneID: zoneID, prefix: prefix)
            let after = EntryState(code: finalCode, text: text, expires: expires, origin: .admin, kinds: kinds.isEmpty ? nil : kinds)
            let beforeJSON = try before.map { row throws(StoreError) in try Store.json(EntryState(row)) }
            let auditID = try audit(zoneID: zoneID, actor: actor, action: "list", prefix: prefix, reason: reason,
                                    before: beforeJSON, after: try Store.json(after))
            let statement = try db.statement("""
                INSERT OR REPLACE INTO manual_listings(zone_id, family, addr, plen, code, txt, origin, created, expires, actor, reason, audit_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?9, ?10, ?11)
                """)
            statement.bind(1, zoneID).bindPrefix(2, prefix).bind(5, Int64(finalCode)).bind(6, text).bind(7, now)
                .bind(8, expires).bind(9, actor).bind(10, reason).bind(11, auditID)
            try statement.run()
            try logChange(zoneID: zoneID, prefix: prefix)
            let verb = before == nil ? "listed" : "updated the listing of"
            return AdminResult(action: "list", zone: ZoneSettings.normalizedName(zone), prefix: prefix.description,
                               message: "\(verb) \(prefix) as 127.0.0.\(finalCode)" + (expires.map { " until \(Store.formatTime($0))" } ?? ""),
                               affected: 1, serial: try changeSerial(), auditID: auditID)
        }
    }

    // MARK: - delist

    /// Delists `prefix`: removes manual listings at or inside it, and suppresses scored
    /// listings inside it until a hit newer than now arrives.
    ///
    /// An IPv6 source scored as a network is one source: `prefix` inside the network of a
    /// running score listing, with no manual listing of its own to remove, delists that
    /// whole network (an exclusion carves one address out instead).
    ///
    /// - Throws: `.conflict` when nothing at or inside `prefix` is listed (the message says
    ///   which wider manual entry or exclusion applies, if any).
    public func delist(_ requested: IPPrefix, zone: String, actor: String, reason: String) throws(StoreError) -> AdminResult {
        try db.writeTransaction { () throws(StoreError) -> AdminResult in
            let now = clock()
            guard let zoneID = try existingZoneID(zone) else { throw StoreError(.notFound, "no zone \(zone) in \(path)") }
            var prefix = requested
            var manual = try manualRows(zoneID: zoneID, inside: prefix)
            manual.removeAll { row in row.expires.map { $0 <= now } ?? false }
            if manual.isEmpty, requested.family == .v6, let row = try source(containing: requested, zoneID: zoneID),
               row.prefix.length < requested.length, (row.score.until ?? .min) > now {
                prefix = row.prefix
                manual = try manualRows(zoneID: zoneID, inside: prefix)
                manual.removeAll { row in row.expires.map { $0 <= now } ?? false }
            }
            let sources = try listedSources(zoneID: zoneID, inside: prefix, now: now)
            guard !manual.isEmpty || !sources.isEmpty else {
                var why = "\(prefix) is not listed"
                if let wider = try widerManualListing(zoneID: zoneID, prefix: prefix, now: now) {
                    why += " by itself; it is inside the manual listing \(wider): delist that, or exclude \(prefix)"
                }
                throw StoreError(.conflict, why)
            }
            let before = DelistAudit(manual: manual.map { "\($0.prefix)" }, sources: sources.count)
            let auditID = try audit(zoneID: zoneID, actor: actor, action: "delist", prefix: prefix, reason: reason,
                                    before: try Store.json(before), after: nil)
            let delete = try db.statement("""
                DELETE FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
                """)
            for row in manual {
                delete.reset()
                delete.bind(1, zoneID).bindPrefix(2, row.prefix)
                try delete.run()
            }
            let insert = try db.statement("""
                INSERT OR REPLACE INTO delistings(zone_id, family, addr, plen, created, actor, reason, audit_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                """)
            insert.bind(1, zoneID).bindPrefix(2, prefix).bind(5, now).bind(6, actor).bind(7, reason).bind(8, auditID)
            try insert.run()
            var affected = Set(manual.map(\.prefix))
            affected.formUnion(sources)
            affected.insert(prefix)
            try logChanges(zoneID: zoneID, affected)
            var parts: [String] = []
            if !manual.isEmpty { parts.append("removed \(manual.count) manual listing\(manual.count == 1 ? "" : "s")") }
            if !sources.isEmpty { parts.append("suppressed \(sources.count) scored source\(sources.count == 1 ? "" : "s") until a newer hit") }
            var message = "delisted \(prefix)" + (prefix == requested ? "" : " (the source \(requested) is scored with)")
                + ": " + parts.joined(separator: ", ")
            if let wider = try widerManualListing(zoneID: zoneID, prefix: prefix, now: now) {
                message += "; note: still inside the manual listing \(wider)"
            }
            return AdminResult(action: "delist", zone: ZoneSettings.normalizedName(zone), prefix: prefix.description,
                               message: message, affected: affected.count, serial: try changeSerial(), auditID: auditID)
        }
    }

    // MARK: - exclude / unexclude

    /// Excludes `prefix` (allowlist): never listed, by anything, until unexcluded.
    ///
    /// - Throws: `.conflict` when it is already excluded.
    public func exclude(_ prefix: IPPrefix, zone: String, actor: String, reason: String) throws(StoreError) -> AdminResult {
        try db.writeTransaction { () throws(StoreError) -> AdminResult in
            let now = clock()
            let zoneID = try zoneID(creating: zone)
            if try exactRowExists(table: .exclusions, zoneID: zoneID, prefix: prefix) {
                throw StoreError(.conflict, "\(prefix) is already excluded")
            }
            let auditID = try audit(zoneID: zoneID, actor: actor, action: "exclude", prefix: prefix, reason: reason,
                                    before: nil, after: try Store.json(EntryState(excluded: true, origin: .admin)))
            let insert = try db.statement("""
                INSERT INTO exclusions(zone_id, family, addr, plen, origin, created, actor, reason, audit_id)
                VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8)
                """)
            insert.bind(1, zoneID).bindPrefix(2, prefix).bind(5, now).bind(6, actor).bind(7, reason).bind(8, auditID)
            try insert.run()
            var affected = try contained(in: prefix, zoneID: zoneID, now: now, limit: Store.changeLogBulkLimit + 1)
            affected.append(prefix)
            try logChanges(zoneID: zoneID, affected)
            let covered = affected.count - 1
            return AdminResult(action: "exclude", zone: ZoneSettings.normalizedName(zone), prefix: prefix.description,
                               message: "excluded \(prefix)" + (covered > 0 ? " (\(covered) entr\(covered == 1 ? "y" : "ies") inside no longer served)" : ""),
                               affected: affected.count, serial: try changeSerial(), auditID: auditID)
        }
    }

    /// Removes the exclusion of exactly `prefix`.
    ///
    /// - Throws: `.notFound` when `prefix` is not excluded (the message names a wider
    ///   exclusion that covers it, if any).
    public func unexclude(_ prefix: IPPrefix, zone: String, actor: String, reason: String) throws(StoreError) -> AdminResult {
        try db.writeTransaction { () throws(StoreError) -> AdminResult in
            let now = clock()
            guard let zoneID = try existingZoneID(zone),
                  try exactRowExists(table: .exclusions, zoneID: zoneID, prefix: prefix)
            else {
                var why = "\(prefix) is not excluded"
                if let zoneID = try existingZoneID(zone), let wider = try coveringExclusion(zoneID: zoneID, prefix: prefix) {
                    why += " by itself; it is inside the exclusion \(wider)"
                }
                throw StoreError(.notFound, why)
            }
            let auditID = try audit(zoneID: zoneID, actor: actor, action: "unexclude", prefix: prefix, reason: reason,
                                    before: try Store.json(EntryState(excluded: true)), after: nil)
            let delete = try db.statement("DELETE FROM exclusions WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
            delete.bind(1, zoneID).bindPrefix(2, prefix)
            try delete.run()
            var affected = try contained(in: prefix, zoneID: zoneID, now: now, limit: Store.changeLogBulkLimit + 1)
            affected.append(prefix)
            try logChanges(zoneID: zoneID, affected)
            return AdminResult(action: "unexclude", zone: ZoneSettings.normalizedName(zone), prefix: prefix.description,
                               message: "removed the exclusion of \(prefix)", affected: affected.count,
                               serial: try changeSerial(), auditID: auditID)
        }
    }

    // MARK: - expire

    /// Removes what no longer matters. Serving needs none of this (expiry is continuous);
    /// it keeps the store small.
    ///
    /// - Parameters:
    ///   - hitsOlderThan: delete hits (evidence) older than this many seconds, and sources
    ///     whose last hit is older and that are no longer listed; nil keeps all evidence.
    ///     Delistings made before that cut are deleted too once they hold down no running
    ///     listing: a delisting only suppresses hits not newer than itself, and with those
    ///     hits gone no rescoring (a later, longer expiry) can bring such a listing back.
    ///   - changeLogOlderThan: delete change-log rows older than this many seconds.
    ///   - retention: apply the zone's evidence retention (``ListingPolicy/keepHits`` when
    ///     `hitsOlderThan` is nil, and ``ListingPolicy/maxHitsPerSource``), as `rbld run`
    ///     does by itself every hour.
    ///   - dryRun: count only.
    public func expire(zone: String, hitsOlderThan: Int64? = nil, changeLogOlderThan: Int64 = 7 * 86400,
                       retention: Bool = false, dryRun: Bool = false, actor: String) throws(StoreError) -> ExpireSummary {
        try db.writeTransaction { () throws(StoreError) -> ExpireSummary in
            let now = clock()
            var summary = ExpireSummary(zone: ZoneSettings.normalizedName(zone), dryRun: dryRun)
            guard let zoneID = try existingZoneID(zone) else { return summary }
            let policy = try zoneConfig(zoneID).policy
            let hitsOlderThan = hitsOlderThan ?? (retention ? policy.keepHits : nil)
            let cap = retention ? policy.maxHitsPerSource : nil
            // Expired manual listings, each audited.
            let expired = try db.statement("""
                SELECT family, addr, plen, code, txt, origin, expires FROM manual_listings
                WHERE zone_id = ?1 AND expires IS NOT NULL AND expires <= ?2
                """)
            expired.bind(1, zoneID).bind(2, now)
            var rows: [ManualRow] = []
            while try expired.step() {
                guard let prefix = expired.prefix(0) else { throw corruptRow("manual_listings") }
                rows.append(ManualRow(prefix: prefix, code: expired.isNull(3) ? nil : UInt8(clamping: expired.int(3)),
                                      text: expired.text(4), origin: Origin(rawValue: expired.int64(5)) ?? .admin,
                                      expires: expired.optionalInt64(6)))
            }
            summary.expiredListings = rows.count
            var delistings: [DelistingRow] = []
            if let age = hitsOlderThan {
                summary.deletedHits = try count("SELECT count(*) FROM hits WHERE zone_id = ?1 AND time < ?2", zoneID, now - age)
                summary.deletedSources = try countSourcesWithoutEvidence(zoneID: zoneID, before: now - age, now: now)
                delistings = try mootDelistings(zoneID: zoneID, before: now - age, now: now)
                summary.deletedDelistings = delistings.count
            }
            summary.prunedChanges = try count("SELECT count(*) FROM change_log WHERE time < ?2 AND ?1 = ?1", zoneID, now - changeLogOlderThan)
            if let cap { summary.cappedHits = try capHits(zoneID: zoneID, keeping: cap, olderThan: hitsOlderThan.map { now - $0 } ?? .min, dryRun: dryRun) }
            if dryRun { summary.serial = try changeSerial(); return summary }

            let delete = try db.statement("DELETE FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
            for row in rows {
                try audit(zoneID: zoneID, actor: actor, action: "expire", prefix: row.prefix, reason: "listing expired",
                          before: try Store.json(EntryState(row)), after: nil)
                delete.reset()
                delete.bind(1, zoneID).bindPrefix(2, row.prefix)
                try delete.run()
            }
            try logChanges(zoneID: zoneID, rows.map(\.prefix))
            if let age = hitsOlderThan {
                let sources = try db.statement("""
                    DELETE FROM sources WHERE zone_id = ?1 AND last_seen < ?2 AND (until IS NULL OR until <= ?3)
                    """)
                sources.bind(1, zoneID).bind(2, now - age).bind(3, now)
                try sources.run()
                let hits = try db.statement("DELETE FROM hits WHERE zone_id = ?1 AND time < ?2")
                hits.bind(1, zoneID).bind(2, now - age)
                try hits.run()
                // Sources that keep recent hits count only those now.
                let recount = try db.statement("""
                    UPDATE sources SET hit_count = (SELECT count(*) FROM hits h
                        WHERE h.zone_id = sources.zone_id AND h.family = sources.family AND h.addr = sources.addr)
                    WHERE zone_id = ?1 AND first_seen < ?2
                    """)
                recount.bind(1, zoneID).bind(2, now - age)
                try recount.run()
                // Served state does not change (nothing was held down): no change-log row.
                let deleteDelisting = try db.statement("DELETE FROM delistings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4")
                for row in delistings {
                    try audit(zoneID: zoneID, actor: actor, action: "expire", prefix: row.prefix,
                              reason: "the delisting of \(Store.formatTime(row.created)) holds down nothing any more",
                              before: try Store.json(["delisted": row.created]), after: nil)
                    deleteDelisting.reset()
                    deleteDelisting.bind(1, zoneID).bindPrefix(2, row.prefix)
                    try deleteDelisting.run()
                }
                if summary.deletedHits > 0 {
                    try audit(zoneID: zoneID, actor: actor, action: "expire-evidence", prefix: nil,
                              reason: "hits older than \(age / 86400) days", before: nil,
                              after: try Store.json(["hits": summary.deletedHits, "sources": summary.deletedSources]))
                }
            }
            if summary.prunedChanges > 0 {
                // Remember how far back the log no longer reaches, across all zones.
                let last = try db.statement("SELECT max(serial) FROM change_log WHERE time < ?1")
                last.bind(1, now - changeLogOlderThan)
                _ = try last.step()
                let through = last.int64(0)
                last.reset()
                let prune = try db.statement("DELETE FROM change_log WHERE serial <= ?1")
                prune.bind(1, through)
                try prune.run()
                let mark = try db.statement("INSERT OR REPLACE INTO meta(key, value) VALUES ('change_log_pruned_through', ?1)")
                mark.bind(1, through)
                try mark.run()
            }
            summary.serial = try changeSerial()
            return summary
        }
    }

    /// Deletes (or with `dryRun` counts) the hits of each source beyond its newest `keep`,
    /// leaving out those that retention by age deletes anyway (`time < cut`), and sets
    /// the capped sources' hit counts to what is left. A source's score and listing are
    /// kept in its row: they do not change. A later replay of the source (a policy change,
    /// a late hit) sees its newest `keep` hits, at least the corroboration the policy asks.
    func capHits(zoneID: Int64, keeping keep: Int, olderThan cut: Int64, dryRun: Bool) throws(StoreError) -> Int {
        let over = try db.statement("SELECT family, addr, hit_count FROM sources WHERE zone_id = ?1 AND hit_count > ?2")
        over.bind(1, zoneID).bind(2, keep)
        var sources: [(family: Int64, addr: [UInt8]?)] = []
        while try over.step() { sources.append((over.int64(0), over.blob(1))) }
        guard !sources.isEmpty else { return 0 }
        let beyond = try db.statement("""
            SELECT count(*) FROM hits INDEXED BY hits_by_source
            WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND time >= ?5
              AND id < (SELECT min(id) FROM (SELECT id FROM hits INDEXED BY hits_by_source
                                             WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 ORDER BY id DESC LIMIT ?4))
            """)
        let delete = try db.statement("""
            DELETE FROM hits WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
              AND id < (SELECT min(id) FROM (SELECT id FROM hits INDEXED BY hits_by_source
                                             WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 ORDER BY id DESC LIMIT ?4))
            """)
        let recount = try db.statement("""
            UPDATE sources SET hit_count = (SELECT count(*) FROM hits h
                WHERE h.zone_id = sources.zone_id AND h.family = sources.family AND h.addr = sources.addr)
            WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
            """)
        var capped = 0
        for source in sources {
            beyond.reset()
            beyond.bind(1, zoneID).bind(2, source.family).bind(3, source.addr).bind(4, keep).bind(5, cut)
            _ = try beyond.step()
            capped += beyond.int(0)
            guard !dryRun else { continue }
            delete.reset()
            delete.bind(1, zoneID).bind(2, source.family).bind(3, source.addr).bind(4, keep)
            try delete.run()
            recount.reset()
            recount.bind(1, zoneID).bind(2, source.family).bind(3, source.addr)
            try recount.run()
        }
        beyond.reset()
        return capped
    }

    /// Sources whose last hit is before `cut` and that are not listed at `now`: what
    /// deleting the hits before `cut` leaves without evidence (expire deletes them).
    func countSourcesWithoutEvidence(zoneID: Int64, before cut: Int64, now: Int64) throws(StoreError) -> Int {
        let sources = try db.statement("""
            SELECT count(*) FROM sources WHERE zone_id = ?1 AND last_seen < ?2 AND (until IS NULL OR until <= ?3)
            """)
        defer { sources.reset() }
        sources.bind(1, zoneID).bind(2, cut).bind(3, now)
        return try sources.step() ? sources.int(0) : 0
    }

    struct DelistingRow {
        var prefix: IPPrefix
        var created: Int64
    }

    /// Delistings made before `cut` that hold down no source listed at `now`.
    func mootDelistings(zoneID: Int64, before cut: Int64, now: Int64) throws(StoreError) -> [DelistingRow] {
        let old = try db.statement("SELECT family, addr, plen, created FROM delistings WHERE zone_id = ?1 AND created < ?2")
        old.bind(1, zoneID).bind(2, cut)
        var candidates: [DelistingRow] = []
        while try old.step() {
            guard let prefix = old.prefix(0) else { throw corruptRow("delistings") }
            candidates.append(DelistingRow(prefix: prefix, created: old.int64(3)))
        }
        let held = try db.statement("""
            SELECT 1 FROM sources
            WHERE zone_id = ?1 AND family = ?2 AND addr >= ?3 AND addr <= ?4 AND until > ?5
              AND coalesce(last_counted, last_seen) <= ?6 LIMIT 1
            """)
        var moot: [DelistingRow] = []
        for row in candidates {
            held.reset()
            held.bind(1, zoneID).bind(2, Int64(row.prefix.family == .v4 ? 4 : 6)).bindAddress(3, row.prefix)
                .bindAddress(4, family: row.prefix.family, address: row.prefix.lastAddress).bind(5, now).bind(6, row.created)
            if try !held.step() { moot.append(row) }
        }
        held.reset()
        return moot
    }

    // MARK: - Helpers

    func manualRow(zoneID: Int64, prefix: IPPrefix) throws(StoreError) -> ManualRow? {
        let statement = try db.statement("""
            SELECT code, txt, origin, expires FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
            """)
        statement.bind(1, zoneID).bindPrefix(2, prefix)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return ManualRow(prefix: prefix, code: statement.isNull(0) ? nil : UInt8(clamping: statement.int(0)),
                         text: statement.text(1), origin: Origin(rawValue: statement.int64(2)) ?? .admin,
                         expires: statement.optionalInt64(3))
    }

    /// Manual rows at or inside `network`.
    func manualRows(zoneID: Int64, inside network: IPPrefix) throws(StoreError) -> [ManualRow] {
        let statement = try db.statement("""
            SELECT family, addr, plen, code, txt, origin, expires FROM manual_listings
            WHERE zone_id = ?1 AND family = ?2 AND addr >= ?3 AND addr <= ?4 AND plen >= ?5
            """)
        statement.bind(1, zoneID).bind(2, Int64(network.family == .v4 ? 4 : 6)).bindAddress(3, network)
            .bindAddress(4, family: network.family, address: network.lastAddress).bind(5, network.length)
        var rows: [ManualRow] = []
        while try statement.step() {
            guard let prefix = statement.prefix(0) else { throw corruptRow("manual_listings") }
            rows.append(ManualRow(prefix: prefix, code: statement.isNull(3) ? nil : UInt8(clamping: statement.int(3)),
                                  text: statement.text(4), origin: Origin(rawValue: statement.int64(5)) ?? .admin,
                                  expires: statement.optionalInt64(6)))
        }
        return rows
    }

    /// Sources at or inside `network` whose listing runs at `now` and is not already
    /// suppressed by a delisting.
    func listedSources(zoneID: Int64, inside network: IPPrefix, now: Int64) throws(StoreError) -> [IPPrefix] {
        let statement = try db.statement("""
            SELECT family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END), coalesce(last_counted, last_seen)
            FROM sources WHERE zone_id = ?1 AND family = ?2 AND addr >= ?3 AND addr <= ?4 AND until > ?5
            """)
        statement.bind(1, zoneID).bind(2, Int64(network.family == .v4 ? 4 : 6)).bindAddress(3, network)
            .bindAddress(4, family: network.family, address: network.lastAddress).bind(5, now)
        var found: [(IPPrefix, Int64)] = []
        while try statement.step() {
            guard let host = statement.prefix(0) else { throw corruptRow("sources") }
            if network.contains(host) { found.append((host, statement.int64(3))) }  // not a wider IPv6 source
        }
        var listed: [IPPrefix] = []
        for (host, lastCounted) in found where (try newestCoveringDelisting(zoneID: zoneID, prefix: host) ?? .min) < lastCounted {
            listed.append(host)
        }
        return listed
    }

    /// The most specific active manual listing strictly wider than `prefix`.
    func widerManualListing(zoneID: Int64, prefix: IPPrefix, now: Int64) throws(StoreError) -> IPPrefix? {
        guard prefix.length > 0 else { return nil }
        for length in stride(from: prefix.length - 1, through: 0, by: -1) {
            let candidate = prefix.truncated(to: length)
            if let row = try manualRow(zoneID: zoneID, prefix: candidate), (row.expires ?? .max) > now { return candidate }
        }
        return nil
    }

    /// `2025-06-15T14:00:00Z`: ``formatTime(_:)`` as RFC 3339 writes it, for JSON and APIs.
    public static func formatRFC3339(_ time: Int64) -> String {
        String(formatTime(time).map { $0 == " " ? "T" : $0 })
    }

    /// `2025-06-15 14:00:00Z`.
    public static func formatTime(_ time: Int64) -> String {
        let days = time >= 0 ? time / 86400 : (time - 86399) / 86400
        let seconds = time - days * 86400
        // Civil-from-days (H. Hinnant), proleptic Gregorian.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))Z"
    }
}

/// The `before` of a delisting's audit row.
struct DelistAudit: Codable {
    var manual: [String]
    var sources: Int
}
