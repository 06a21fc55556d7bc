// Store+Report.swift -- `show` (why is this IP listed, since when, who touched it) and `stats`.

/// Everything the store knows about one address (`rbld show IP`).
public struct SourceReport: Hashable, Sendable, Codable {
    /// The effective answer.
    public enum Status: String, Hashable, Sendable, Codable {
        /// Answered with 127.0.0.X.
        case listed
        /// Inside an exclusion: never listed.
        case excluded
        /// Scored as listed, but delisted by an operator until a newer hit.
        case delisted
        /// Weak evidence would list it, but is not corroborated (``SourceReport/corroboration``
        /// says what is missing); `rbld confirm` lists it, `rbld reject` drops the evidence.
        case heldBack = "held-back"
        /// Scoring never lists this range (RFC 6890); manual entries still could.
        case specialPurpose = "special-purpose"
        /// Not listed.
        case notListed = "not-listed"
    }

    public struct Entry: Hashable, Sendable, Codable {
        public var prefix: String
        public var origin: String?
        public var code: UInt8?
        public var text: String?
        public var created: Int64?
        public var expires: Int64?
        public var actor: String?
        public var reason: String?
    }

    public struct Evidence: Hashable, Sendable, Codable {
        public var time: Int64
        public var kind: String
        /// `strong` or `weak` (``EvidenceStrength``).
        public var strength: String
        public var trap: String
        public var reporter: String?
        public var digest: String
        public var excerpt: String?
        /// The address that delivered it, when the source is a network (nil: the address shown).
        public var client: String? = nil
    }

    /// The zone's listing policy, as far as scoring this address goes.
    public struct Policy: Hashable, Sendable, Codable {
        public var threshold: Double
        public var halfLife: Int64
        public var expiry: Int64
        /// Weight of a hit by kind.
        public var weights: [String: Double]
        /// Factor on the weight of a weak hit.
        public var weakWeight: Double
        /// Weak hits and distinct traps needed within `window` seconds to corroborate.
        public var corroborationWeakHits: Int
        public var corroborationTraps: Int
        public var corroborationWindow: Int64

        init(_ policy: ListingPolicy) {
            threshold = policy.threshold
            halfLife = policy.halfLife
            expiry = policy.expiry
            weights = Dictionary(uniqueKeysWithValues: HitKind.allCases.map { ($0.rawValue, policy.weight($0)) })
            weakWeight = policy.weakWeight
            corroborationWeakHits = policy.corroboration.weakHits
            corroborationTraps = policy.corroboration.traps
            corroborationWindow = policy.corroboration.window
        }
    }

    /// The state of a source's weak evidence.
    public struct Corroboration: Hashable, Sendable, Codable {
        /// Weak hits recorded, rejected ones included.
        public var weakHits: Int
        /// In the corroboration window that ends now: weak hits that are evidence (not
        /// rejected), the distinct traps they reached, and strong hits.
        public var recentWeakHits: Int
        public var recentTraps: Int
        public var recentStrongHits: Int
        /// When held back: until when the weak evidence would list the source.
        public var heldUntil: Int64?
        /// When held back: how many more weak hits, from how many more distinct traps, the
        /// window ending now needs before a weak hit counts (the next hit included; a strong
        /// hit does instead).
        public var missingWeakHits: Int?
        public var missingTraps: Int?
        /// When an operator confirmed or rejected the weak evidence.
        public var confirmed: Int64?
        public var rejected: Int64?
    }

    public struct AuditRecord: Hashable, Sendable, Codable {
        public var id: Int64
        public var time: Int64
        public var actor: String
        public var action: String
        public var prefix: String?
        public var reason: String
        public var before: String?
        public var after: String?
    }

    public var address: String
    /// The source the address is scored as, when that is a network (an IPv6 address with
    /// the other addresses of its /64, by the policy's `ipv6-prefix`): its hits, score and
    /// listing are the network's. nil: the address alone.
    public var source: String?
    public var zone: String
    public var now: Int64
    public var status: Status
    /// The table entry that answers (the longest match), when listed.
    public var matchedPrefix: String?
    /// X of 127.0.0.X when listed.
    public var code: UInt8?
    /// The TXT answer, `$` already replaced.
    public var text: String?
    /// When the current answer stops (nil: never, or not listed).
    public var expires: Int64?
    /// Kinds in the return code.
    public var kinds: [HitKind]
    // Scoring.
    public var score: Double?
    public var threshold: Double
    public var hitCount: Int
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    public var listedSince: Int64?
    public var scoreListingEnds: Int64?
    public var allKinds: [HitKind]
    /// The policy that scored it.
    public var policy: Policy
    /// Its weak evidence, when it has any.
    public var corroboration: Corroboration?
    // What applies.
    public var manual: [Entry]
    public var exclusions: [Entry]
    public var delistings: [Entry]
    public var lastHits: [Evidence]
    public var audit: [AuditRecord]
}

/// Counts for `rbld stats`.
public struct StoreStatistics: Hashable, Sendable, Codable {
    public var zone: String
    public var now: Int64
    public var serial: Int64
    public var schemaVersion: Int
    public var manualImported: Int
    public var manualAdmin: Int
    public var exclusions: Int
    public var delistings: Int
    public var sources: Int
    public var sourcesListed: Int
    /// Sources whose weak evidence would list them but is not corroborated.
    public var sourcesHeldBack: Int
    public var hits: Int
    public var hitsLast24h: Int
    public var hitsLast7d: Int
    public var hitsByKind: [String: Int]
    public var activeListings: Int
    public var changeLogRows: Int
    public var auditRows: Int
    public var databaseBytes: Int64
    /// What evidence retention (the zone's policy) removes at its next run.
    public var retention = Retention()

    public struct Retention: Hashable, Sendable, Codable {
        /// The policy: hits kept this many seconds, at most this many per source.
        public var keepHits: Int64 = ListingPolicy.defaults.keepHits
        public var maxHitsPerSource = ListingPolicy.defaults.maxHitsPerSource
        /// Hits older than `keepHits`, and the sources that go with them (not listed, no newer hit).
        public var oldHits = 0
        public var oldSources = 0
        /// Hits beyond the newest `maxHitsPerSource` of their source (some may be old too).
        public var hitsBeyondCap = 0
    }
}

extension Store {
    /// What the store knows about `address` in `zone` at `now`.
    ///
    /// - Parameters:
    ///   - hitLimit: how many of the latest hits to include as evidence.
    ///   - auditLimit: how many of the latest audit rows (for the address, the prefixes that
    ///     cover it, and the imports that wrote those) to include.
    ///   - reloadingZones: read the zone's settings and policy afresh (the default); a caller
    ///     that reports often and calls ``reloadZones()`` itself from time to time passes
    ///     false and saves decoding them each time.
    public func report(for address: IPPrefix, zone: String, now: Int64, hitLimit: Int = 5, auditLimit: Int = 50,
                       reloadingZones: Bool = true) throws(StoreError) -> SourceReport {
        guard address.isHost else { throw StoreError(.invalidInput, "show takes one address, not the network \(address)") }
        return try db.readTransaction { () throws(StoreError) -> SourceReport in
            if reloadingZones { reloadZones() }
            let zoneName = ZoneSettings.normalizedName(zone)
            var report = SourceReport(address: address.description, zone: zoneName, now: now, status: .notListed, kinds: [],
                                      threshold: ListingPolicy.defaults.threshold, hitCount: 0, allKinds: [],
                                      policy: SourceReport.Policy(.defaults),
                                      manual: [], exclusions: [], delistings: [], lastHits: [], audit: [])
            guard let zoneID = try existingZoneID(zone) else { return report }
            let (settings, policy) = try zoneConfig(zoneID)
            report.threshold = policy.threshold
            report.policy = SourceReport.Policy(policy)

            // Rows covering the address, widest first: one statement per table walks the
            // prefix lengths 0...32 (or 128) and looks each candidate up by primary key. The
            // candidates' addresses travel as one blob, a fixed-width address per length.
            let candidates = (0...address.length).map { address.truncated(to: $0) }
            let auditKeys = candidates
            var importAuditIDs = Set<Int64>()
            let width = Int64(address.family == .v4 ? 4 : 16)
            var packed: [UInt8] = []
            packed.reserveCapacity(candidates.count * Int(width))
            for candidate in candidates {
                for position in stride(from: Int(width) - 1, through: 0, by: -1) {
                    packed.append(UInt8(truncatingIfNeeded: candidate.address >> (8 * position)))
                }
            }
            func bindCandidates(_ statement: Statement) {
                statement.bind(1, zoneID).bind(2, Int64(address.family == .v4 ? 4 : 6)).bind(3, packed)
                    .bind(4, Int64(address.length)).bind(5, width)
            }
            let manualQuery = try db.statement("""
                WITH RECURSIVE lengths(l) AS (SELECT 0 UNION ALL SELECT l + 1 FROM lengths WHERE l < ?4)
                SELECT lengths.l, m.code, m.txt, m.origin, m.created, m.expires, m.actor, m.reason, m.audit_id
                FROM lengths CROSS JOIN manual_listings m
                WHERE m.zone_id = ?1 AND m.family = ?2 AND m.addr = substr(?3, lengths.l * ?5 + 1, ?5) AND m.plen = lengths.l
                ORDER BY lengths.l
                """)
            let exclusionQuery = try db.statement("""
                WITH RECURSIVE lengths(l) AS (SELECT 0 UNION ALL SELECT l + 1 FROM lengths WHERE l < ?4)
                SELECT lengths.l, e.origin, e.created, e.actor, e.reason, e.audit_id
                FROM lengths CROSS JOIN exclusions e
                WHERE e.zone_id = ?1 AND e.family = ?2 AND e.addr = substr(?3, lengths.l * ?5 + 1, ?5) AND e.plen = lengths.l
                ORDER BY lengths.l
                """)
            let delistingQuery = try db.statement("""
                WITH RECURSIVE lengths(l) AS (SELECT 0 UNION ALL SELECT l + 1 FROM lengths WHERE l < ?4)
                SELECT lengths.l, d.created, d.actor, d.reason
                FROM lengths CROSS JOIN delistings d
                WHERE d.zone_id = ?1 AND d.family = ?2 AND d.addr = substr(?3, lengths.l * ?5 + 1, ?5) AND d.plen = lengths.l
                ORDER BY lengths.l
                """)
            var manualEntries: [(prefix: IPPrefix, entry: ManualEntry)] = []
            var exclusionPrefixes: [IPPrefix] = []
            var delistingTimes: [(prefix: IPPrefix, created: Int64)] = []
            var newestDelisting: Int64?
            bindCandidates(manualQuery)
            while try manualQuery.step() {
                let candidate = candidates[manualQuery.int(0)]
                let origin = Origin(rawValue: manualQuery.int64(3)) ?? .admin
                let code = manualQuery.isNull(1) ? nil : UInt8(clamping: manualQuery.int(1))
                let expires = manualQuery.optionalInt64(5)
                report.manual.append(.init(prefix: candidate.description, origin: origin == .import ? "import" : "admin",
                                           code: code ?? settings.defaultCode, text: manualQuery.text(2),
                                           created: manualQuery.int64(4), expires: expires, actor: manualQuery.text(6),
                                           reason: manualQuery.text(7)))
                if let auditID = manualQuery.optionalInt64(8), origin == .import { importAuditIDs.insert(auditID) }
                manualEntries.append((candidate, ManualEntry(code: code, text: manualQuery.text(2), expires: expires)))
            }
            manualQuery.reset()
            bindCandidates(exclusionQuery)
            while try exclusionQuery.step() {
                let candidate = candidates[exclusionQuery.int(0)]
                exclusionPrefixes.append(candidate)
                let origin = Origin(rawValue: exclusionQuery.int64(1)) ?? .admin
                report.exclusions.append(.init(prefix: candidate.description, origin: origin == .import ? "import" : "admin",
                                               created: exclusionQuery.int64(2), actor: exclusionQuery.text(3),
                                               reason: exclusionQuery.text(4)))
                if let auditID = exclusionQuery.optionalInt64(5), origin == .import { importAuditIDs.insert(auditID) }
            }
            exclusionQuery.reset()
            bindCandidates(delistingQuery)
            while try delistingQuery.step() {
                let candidate = candidates[delistingQuery.int(0)]
                let created = delistingQuery.int64(1)
                newestDelisting = max(newestDelisting ?? .min, created)
                delistingTimes.append((candidate, created))
                report.delistings.append(.init(prefix: candidate.description, created: created,
                                               actor: delistingQuery.text(2), reason: delistingQuery.text(3)))
            }
            delistingQuery.reset()

            // Scoring: the source the address counts for, itself or the IPv6 network around it.
            let row = try source(containing: address, zoneID: zoneID)
            let sourcePrefix = row?.prefix ?? address
            if sourcePrefix != address { report.source = sourcePrefix.description }
            let source = row?.score
            if let row, let source, source.weakHits > 0 {
                report.corroboration = try corroboration(of: sourcePrefix, zoneID: zoneID, row: row, policy: policy, now: now)
            }
            if let source {
                report.score = source.score(at: now, policy: policy)
                report.hitCount = source.hitCount
                report.firstSeen = source.firstSeen
                report.lastSeen = source.lastSeen
                report.listedSince = source.listedSince
                report.scoreListingEnds = source.until
                report.allKinds = HitKind.allCases.filter(source.allKinds.contains)
            }

            // The effective answer, as the DNS table's longest match gives it: the address's
            // own entry when it has one, else the longest manual network around it. Each
            // decided by the listing precedence, like every served entry.
            // A source scored as a network is that network's entry, decided with the rows of
            // exactly the network and the exclusions and delistings that cover it.
            let excluded = !report.exclusions.isEmpty
            func decide(_ prefix: IPPrefix, _ facts: ListingFacts) -> ListingDecision {
                ListingPrecedence.decide(prefix, facts: facts, policy: policy, defaultCode: settings.defaultCode, now: now)
            }
            let scored = source.map { ScoredSource($0, codes: policy.codes) }
            let own = decide(address, ListingFacts(
                excluded: report.exclusions.contains { $0.prefix == address.description },
                insideExclusion: excluded && !report.exclusions.contains { $0.prefix == address.description },
                manual: manualEntries.last { $0.prefix == address }?.entry,
                delistedAt: newestDelisting, source: sourcePrefix == address ? scored : nil))
            let network = sourcePrefix == address ? own : decide(sourcePrefix, ListingFacts(
                excluded: exclusionPrefixes.contains(sourcePrefix),
                insideExclusion: exclusionPrefixes.contains { $0.length < sourcePrefix.length },
                manual: manualEntries.last { $0.prefix == sourcePrefix }?.entry,
                delistedAt: delistingTimes.filter { $0.prefix.length <= sourcePrefix.length }.map(\.created).max(),
                source: scored))
            // The longest entry that contains the address answers, as in the DNS table.
            var wider = manualEntries.filter { $0.prefix != address && $0.prefix != sourcePrefix }
                .compactMap { decide($0.prefix, ListingFacts(insideExclusion: excluded, manual: $0.entry)).listing }
            if sourcePrefix != address, let listing = network.listing { wider.append(listing) }
            let answer = own.listing ?? wider.max { $0.prefix.length < $1.prefix.length }
            if excluded {
                report.status = .excluded
            } else if let answer {
                report.status = .listed
                report.matchedPrefix = answer.prefix.description
                report.code = answer.code
                report.text = answer.text ?? settings.txtTemplate
                report.expires = answer.expires
            } else {
                switch network {
                case .delisted: report.status = .delisted
                case .heldBack: report.status = .heldBack
                case .neverListed: report.status = .specialPurpose
                case .excluded, .insideExclusion, .manual, .scored, .notListed: report.status = .notListed
                }
            }
            if let text = report.text { report.text = text.replacingDollar(with: address.addressText) }
            if let code = report.code { report.kinds = policy.codes.kinds(in: code) }

            // Evidence: the hits recorded last, newest message first (stored under the source).
            report.lastHits = try latestHits(zoneID: zoneID, source: sourcePrefix, limit: hitLimit)

            // Audit trail: rows on the address and on every prefix covering it, plus the
            // imports that wrote covering rows.
            var records: [SourceReport.AuditRecord] = []
            let auditQuery = try db.statement("""
                SELECT id, time, actor, action, prefix, reason, before, after FROM audit
                WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4 ORDER BY id DESC LIMIT ?5
                """)
            func readAudit(_ statement: Statement) -> SourceReport.AuditRecord {
                .init(id: statement.int64(0), time: statement.int64(1), actor: statement.text(2) ?? "",
                      action: statement.text(3) ?? "", prefix: statement.text(4), reason: statement.text(5) ?? "",
                      before: statement.text(6), after: statement.text(7))
            }
            for key in auditKeys where auditLimit > 0 {
                auditQuery.reset()
                auditQuery.bind(1, zoneID).bindPrefix(2, key).bind(5, auditLimit)
                while try auditQuery.step() { records.append(readAudit(auditQuery)) }
            }
            let importQuery = try db.statement("""
                SELECT id, time, actor, action, prefix, reason, NULL, after FROM audit WHERE id = ?1
                """)
            for id in importAuditIDs {
                importQuery.reset()
                importQuery.bind(1, id)
                if try importQuery.step() { records.append(readAudit(importQuery)) }
            }
            importQuery.reset()
            records.sort { $0.id > $1.id }
            report.audit = Array(records.prefix(auditLimit))
            return report
        }
    }

    /// The state of a source's weak evidence at `now`: what the corroboration window ending
    /// now holds, and what it lacks while the source is held back.
    func corroboration(of host: IPPrefix, zoneID: Int64, row: SourceRow, policy: ListingPolicy,
                       now: Int64) throws(StoreError) -> SourceReport.Corroboration {
        let evidence = try evidence(zoneID: zoneID, source: host).filter { hit in
            hit.strength == .strong || row.rejected.map { hit.time > $0 } ?? true
        }
        let recent = CorroborationWindow.counts(evidence, rule: policy.corroboration, endingAt: now)
        let held = row.score.isHeldBack(at: now)
        let rule = policy.corroboration
        return SourceReport.Corroboration(
            weakHits: row.score.weakHits, recentWeakHits: recent.weakHits, recentTraps: recent.traps,
            recentStrongHits: recent.strongHits, heldUntil: held ? row.score.heldUntil : nil,
            missingWeakHits: held ? max(0, rule.weakHits - recent.weakHits) : nil,
            missingTraps: held ? max(0, rule.traps - recent.traps) : nil,
            confirmed: row.confirmed, rejected: row.rejected)
    }

    /// Counts for `stats`.
    public func statistics(zone: String, now: Int64) throws(StoreError) -> StoreStatistics {
        try db.readTransaction { () throws(StoreError) -> StoreStatistics in
            reloadZones()
            var stats = StoreStatistics(zone: ZoneSettings.normalizedName(zone), now: now, serial: try changeSerial(),
                                        schemaVersion: Schema.currentVersion, manualImported: 0, manualAdmin: 0, exclusions: 0,
                                        delistings: 0, sources: 0, sourcesListed: 0, sourcesHeldBack: 0, hits: 0, hitsLast24h: 0, hitsLast7d: 0,
                                        hitsByKind: [:], activeListings: 0, changeLogRows: 0, auditRows: 0, databaseBytes: 0)
            let pages = try db.statement("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
            if try pages.step() { stats.databaseBytes = pages.int64(0) }
            pages.reset()
            guard let zoneID = try existingZoneID(zone) else { return stats }
            stats.manualImported = try count("SELECT count(*) FROM manual_listings WHERE zone_id = ?1 AND origin = ?2", zoneID, 0)
            stats.manualAdmin = try count("SELECT count(*) FROM manual_listings WHERE zone_id = ?1 AND origin = ?2", zoneID, 1)
            stats.exclusions = try count("SELECT count(*) FROM exclusions WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            stats.delistings = try count("SELECT count(*) FROM delistings WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            stats.sources = try count("SELECT count(*) FROM sources WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            stats.sourcesListed = try count("SELECT count(*) FROM sources WHERE zone_id = ?1 AND until > ?2", zoneID, now)
            stats.sourcesHeldBack = try count("""
                SELECT count(*) FROM sources INDEXED BY sources_held WHERE zone_id = ?1 AND held_until > ?2 AND (until IS NULL OR until <= ?2)
                """, zoneID, now)
            stats.changeLogRows = try count("SELECT count(*) FROM change_log WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            stats.auditRows = try count("SELECT count(*) FROM audit WHERE zone_id = ?1 AND ?2 = ?2", zoneID, 0)
            // One pass over the hits for all hit counts.
            let kinds = try db.statement("""
                SELECT kind, count(*), sum(time > ?2), sum(time > ?3) FROM hits WHERE zone_id = ?1 GROUP BY kind
                """)
            kinds.bind(1, zoneID).bind(2, now - 86400).bind(3, now - 7 * 86400)
            while try kinds.step() {
                stats.hitsByKind[kinds.text(0) ?? "?"] = kinds.int(1)
                stats.hits += kinds.int(1)
                stats.hitsLast24h += kinds.int(2)
                stats.hitsLast7d += kinds.int(3)
            }
            stats.activeListings = try activeListings(zone: zone, now: now).filter { !$0.excluded }.count
            let policy = try zoneConfig(zoneID).policy
            stats.retention.keepHits = policy.keepHits
            stats.retention.maxHitsPerSource = policy.maxHitsPerSource
            stats.retention.oldHits = try count("SELECT count(*) FROM hits WHERE zone_id = ?1 AND time < ?2", zoneID, now - policy.keepHits)
            stats.retention.oldSources = try countSourcesWithoutEvidence(zoneID: zoneID, before: now - policy.keepHits, now: now)
            stats.retention.hitsBeyondCap = try count("""
                SELECT coalesce(sum(hit_count - ?2), 0) FROM sources WHERE zone_id = ?1 AND hit_count > ?2
                """, zoneID, Int64(policy.maxHitsPerSource))
            return stats
        }
    }
}

extension Store {
    /// What a health check reads: two indexed reads, cheap enough for every probe.
    public struct Health: Hashable, Sendable {
        /// The change serial (``Store/changeSerial()``).
        public var serial: Int64
        /// When ingest stored the newest hit of any zone (Unix seconds); nil: no hits.
        public var lastHitRecorded: Int64?
    }

    public func health() throws(StoreError) -> Health {
        try db.readTransaction { () throws(StoreError) -> Health in
            let last = try db.statement("SELECT recorded FROM hits WHERE id = (SELECT max(id) FROM hits)")
            defer { last.reset() }
            return Health(serial: try changeSerial(), lastHitRecorded: try last.step() ? last.int64(0) : nil)
        }
    }
}

extension String {
    /// The TXT template with every `$` replaced by the address (rbldnsd's substitution).
    func replacingDollar(with address: String) -> String {
        guard contains("$") else { return self }
        return split(separator: "$", omittingEmptySubsequences: false).joined(separator: address)
    }
}

extension Store {
    /// The trap domains the hits of `zone` name (the domain of each stored, redacted trap
    /// address), for hiding them wherever evidence is shown.
    public func trapDomains(zone: String) throws(StoreError) -> [String] {
        try db.readTransaction { () throws(StoreError) -> [String] in
            guard let zoneID = try existingZoneID(zone) else { return [] }
            let statement = try db.statement("SELECT DISTINCT trap FROM hits WHERE zone_id = ?1")
            statement.bind(1, zoneID)
            defer { statement.reset() }
            var domains = Set<String>()
            while try statement.step() {
                if let trap = statement.text(0), let at = trap.lastIndex(of: "@") {
                    let domain = trap[trap.index(after: at)...].lowercased()
                    if !domain.isEmpty { domains.insert(domain) }
                }
            }
            return domains.sorted()
        }
    }
}
