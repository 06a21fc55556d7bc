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
            var changed: [IPPrefix] = []
            // Work in source order: neighbouring sources share index pages, and all hits of
            // one source are folded in memory and its row written once. Hits of one source
            // keep their order (the sort is stable on the index).
            let order = hits.indices.sorted { hits[$0].source != hits[$1].source ? hits[$0].source < hits[$1].source : $0 < $1 }
            // A digest is looked up through its 8-byte prefix (hits_by_digest), then compared whole.
            let seen = try db.statement("""
                SELECT 1 FROM hits INDEXED BY hits_by_digest
                WHERE zone_id = ?1 AND substr(digest, 1, 8) = substr(?2, 1, 8) AND digest = ?2
                """)
            let insert = try db.statement("""
                INSERT INTO hits(zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """)
            seen.bind(1, zoneID)
            insert.bind(1, zoneID).bind(3, recorded)
            var start = 0
            while start < order.count {
                let source = hits[order[start]].source
                var end = start + 1
                while end < order.count, hits[order[end]].source == source { end += 1 }
                defer { start = end }
                if policy.isNeverListed(source) {
                    for index in order[start..<end] {
                        outcomes[index] = .ignored(reason: "\(source) is a special-purpose address (RFC 6890), never listed")
                    }
                    continue
                }
                insert.resetKeepingBindings()  // binding needs a reset statement (else SQLITE_MISUSE)
                insert.bind(4, Int64(source.family == .v4 ? 4 : 6)).bindAddress(5, source)
                var state = try sourceState(zoneID: zoneID, host: source)?.score
                var lastHitID: Int64?
                for index in order[start..<end] {
                    let hit = hits[index]
                    seen.resetKeepingBindings()
                    seen.bind(2, hit.digest)
                    let duplicate = try seen.step()
                    seen.resetKeepingBindings()  // an unreset statement would pin the read snapshot
                    if duplicate { continue }  // the same message (digest) before: .duplicate
                    insert.resetKeepingBindings()
                    insert.bind(2, hit.time).bind(6, hit.kind.rawValue).bind(7, hit.trap).bind(8, hit.reporter)
                        .bind(9, hit.digest).bind(10, hit.excerpt)
                    try insert.run()
                    lastHitID = db.lastInsertRowID
                    let next: SourceScore
                    if let old = state {
                        if hit.time >= old.lastSeen {
                            next = old.adding(kind: hit.kind, at: hit.time, policy: policy)
                        } else {
                            // Out of order: replay every stored hit of the source, this one included.
                            next = try replaySource(zoneID: zoneID, host: source, policy: policy) ?? old
                        }
                    } else {
                        next = SourceScore(firstHit: hit.kind, at: hit.time, policy: policy)
                    }
                    state = next
                    outcomes[index] = .recorded(listed: next.isListed(at: hit.time), code: next.code)
                }
                if let lastHitID, let state {
                    try saveSource(zoneID: zoneID, host: source, state, lastHitID: lastHitID)
                    changed.append(source)
                }
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
