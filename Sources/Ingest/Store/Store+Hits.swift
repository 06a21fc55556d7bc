// Store+Hits.swift -- recording hits from ingest and keeping per-source aggregates.

/// One observation from ingest: a distinct backscatter message at a trap, attributed to a source.
public struct Hit: Hashable, Sendable {
    /// The source host (`/32` or `/128`): the client that delivered the message.
    public var source: IPPrefix
    public var kind: HitKind
    /// When the trap received the message (unix seconds).
    public var time: Int64
    /// The trap address with its local part redacted (`…@trap.example.org`).
    public var trap: String
    /// The trap MTA that received it (its `by` host), if known.
    public var reporter: String?
    /// The message's content digest (e.g. SHA-256): a message seen twice counts once.
    public var digest: [UInt8]
    /// A header excerpt for `show`, with the trap's local part redacted.
    public var excerpt: String?

    public init(source: IPPrefix, kind: HitKind, time: Int64, trap: String, reporter: String? = nil,
                digest: [UInt8], excerpt: String? = nil) {
        self.source = source
        self.kind = kind
        self.time = time
        self.trap = trap
        self.reporter = reporter
        self.digest = digest
        self.excerpt = excerpt
    }
}

/// What recording a hit did.
public enum HitOutcome: Hashable, Sendable {
    /// Stored. `listed`: the source's score listing runs at the hit's time (before
    /// exclusions and delistings, which `show` explains).
    case recorded(listed: Bool, code: UInt8)
    /// The same message (digest) was recorded before; nothing changed.
    case duplicate
    /// Not stored: the source is in a range scoring never lists (RFC 6890).
    case ignored(reason: String)
}

extension Store {
    /// Records one hit in its own transaction (the ingest daemon's pattern: the MTA gets
    /// its 250 only after this returns).
    public func recordHit(_ hit: Hit, zone: String) throws(StoreError) -> HitOutcome {
        try recordHits([hit], zone: zone)[0]
    }

    /// Records hits in ONE transaction (batched ingest of a Maildir or mbox).
    ///
    /// - Throws: `.invalidInput` for a source that is not a host or an empty digest
    ///   (nothing of the batch is written); storage errors (`.busy` is temporary).
    public func recordHits(_ hits: [Hit], zone: String) throws(StoreError) -> [HitOutcome] {
        for hit in hits {
            guard hit.source.isHost else { throw StoreError(.invalidInput, "hit source \(hit.source) is not a single address") }
            guard !hit.digest.isEmpty else { throw StoreError(.invalidInput, "hit from \(hit.source) has no message digest") }
        }
        return try db.writeTransaction { () throws(StoreError) -> [HitOutcome] in
            let zoneID = try zoneID(creating: zone)
            let policy = try zoneConfig(zoneID).policy
            let recorded = clock()
            var outcomes = [HitOutcome](repeating: .duplicate, count: hits.count)
            var changed = Set<IPPrefix>()
            // Work in source order: neighbouring sources share index pages (a batch of 10k
            // touches far fewer pages than in arrival order). Hits of one source keep their order.
            let order = hits.indices.sorted { hits[$0].source != hits[$1].source ? hits[$0].source < hits[$1].source : $0 < $1 }
            let insert = try db.statement("""
                INSERT OR IGNORE INTO hits(zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """)
            for index in order {
                let hit = hits[index]
                if policy.isNeverListed(hit.source) {
                    outcomes[index] = .ignored(reason: "\(hit.source) is a special-purpose address (RFC 6890), never listed")
                    continue
                }
                insert.reset()
                insert.bind(1, zoneID).bind(2, hit.time).bind(3, recorded).bind(4, Int64(hit.source.family == .v4 ? 4 : 6))
                    .bindAddress(5, hit.source).bind(6, hit.kind.rawValue).bind(7, hit.trap).bind(8, hit.reporter)
                    .bind(9, hit.digest).bind(10, hit.excerpt)
                try insert.run()
                guard db.changes == 1 else { outcomes[index] = .duplicate; continue }
                let hitID = db.lastInsertRowID
                let state: SourceScore
                if let old = try sourceState(zoneID: zoneID, host: hit.source)?.score {
                    if hit.time >= old.lastSeen {
                        state = old.adding(kind: hit.kind, at: hit.time, policy: policy)
                    } else {
                        state = try replaySource(zoneID: zoneID, host: hit.source, policy: policy) ?? old
                    }
                } else {
                    state = SourceScore(firstHit: hit.kind, at: hit.time, policy: policy)
                }
                try saveSource(zoneID: zoneID, host: hit.source, state, lastHitID: hitID)
                changed.insert(hit.source)
                outcomes[index] = .recorded(listed: state.isListed(at: hit.time), code: state.code)
            }
            try logChanges(zoneID: zoneID, changed)
            return outcomes
        }
    }

    func sourceState(zoneID: Int64, host: IPPrefix) throws(StoreError) -> (score: SourceScore, lastHitID: Int64?)? {
        let statement = try db.statement("""
            SELECT first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id
            FROM sources WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
            """)
        statement.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        let score = SourceScore(firstSeen: statement.int64(0), lastSeen: statement.int64(1), hitCount: statement.int(2),
                                score: statement.double(3), kinds: HitKind.set(statement.int64(4)),
                                allKinds: HitKind.set(statement.int64(5)), listedSince: statement.optionalInt64(6),
                                until: statement.optionalInt64(7))
        return (score, statement.optionalInt64(8))
    }

    func saveSource(zoneID: Int64, host: IPPrefix, _ state: SourceScore, lastHitID: Int64?) throws(StoreError) {
        let statement = try db.statement("""
            INSERT INTO sources(zone_id, family, addr, first_seen, last_seen, hit_count, score, kinds, all_kinds,
                                listed_since, until, last_hit_id)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            ON CONFLICT (zone_id, family, addr) DO UPDATE SET
                first_seen = excluded.first_seen, last_seen = excluded.last_seen, hit_count = excluded.hit_count,
                score = excluded.score, kinds = excluded.kinds, all_kinds = excluded.all_kinds,
                listed_since = excluded.listed_since, until = excluded.until, last_hit_id = excluded.last_hit_id
            """)
        statement.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host)
            .bind(4, state.firstSeen).bind(5, state.lastSeen).bind(6, state.hitCount).bind(7, state.score)
            .bind(8, HitKind.mask(state.kinds)).bind(9, HitKind.mask(state.allKinds))
            .bind(10, state.listedSince).bind(11, state.until).bind(12, lastHitID)
        try statement.run()
    }

    /// Rebuilds a source's state from all its hits (an out-of-order hit, a policy change).
    func replaySource(zoneID: Int64, host: IPPrefix, policy: ListingPolicy) throws(StoreError) -> SourceScore? {
        let statement = try db.statement("""
            SELECT time, kind FROM hits WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 ORDER BY time, id
            """)
        statement.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host)
        var hits: [(time: Int64, kind: HitKind)] = []
        while try statement.step() {
            hits.append((statement.int64(0), HitKind(rawValue: statement.text(1) ?? "") ?? .unknownBounce))
        }
        return SourceScore.replay(hits, policy: policy)
    }

    /// Recomputes every source of the zone from its hits under a new policy.
    func rescoreAllSources(zoneID: Int64, policy: ListingPolicy) throws(StoreError) {
        let list = try db.statement("SELECT family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, last_hit_id FROM sources WHERE zone_id = ?1")
        list.bind(1, zoneID)
        var sources: [(IPPrefix, Int64?)] = []
        while try list.step() {
            guard let host = list.prefix(0) else { throw corruptRow("sources") }
            sources.append((host, list.optionalInt64(3)))
        }
        for (host, lastHitID) in sources {
            if let state = try replaySource(zoneID: zoneID, host: host, policy: policy) {
                try saveSource(zoneID: zoneID, host: host, state, lastHitID: lastHitID)
            }
        }
    }
}
