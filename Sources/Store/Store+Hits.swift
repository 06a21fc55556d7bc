// Store+Hits.swift -- recording hits from ingest and keeping per-source aggregates.

/// One observation from ingest: a distinct backscatter message at a trap, attributed to a source.
public struct Hit: Hashable, Sendable {
    /// The client that delivered the message (`/32` or `/128`). The store scores it as
    /// the zone's policy says: an IPv6 address as the network around it
    /// (``ListingPolicy/source(of:)``), and keeps this address with the hit.
    public var source: IPPrefix
    public var kind: HitKind
    /// How the message was recognised: strong evidence lists on its own, weak evidence
    /// needs corroboration (docs/POLICY.md).
    public var strength: EvidenceStrength
    /// When the trap received the message (unix seconds).
    public var time: Int64
    /// The trap address with its local part redacted (`…@trap.example.org`).
    public var trap: String
    /// A key that tells traps apart without revealing them (ingest's keyed hash of the full
    /// address, see ``Store/trapKeySecret()``); nil: traps are told apart by `trap` alone.
    /// Stored for weak hits, the only ones whose traps are counted.
    public var trapKey: [UInt8]?
    /// The trap MTA that received it (its `by` host), if known.
    public var reporter: String?
    /// The message's content digest (e.g. SHA-256): a message a source sent twice counts once.
    public var digest: [UInt8]
    /// A header excerpt for `show`, with the trap's local part redacted.
    public var excerpt: String?

    public init(source: IPPrefix, kind: HitKind, strength: EvidenceStrength = .strong, time: Int64, trap: String,
                trapKey: [UInt8]? = nil, reporter: String? = nil, digest: [UInt8], excerpt: String? = nil) {
        self.source = source
        self.kind = kind
        self.strength = strength
        self.time = time
        self.trap = trap
        self.trapKey = trapKey
        self.reporter = reporter
        self.digest = digest
        self.excerpt = excerpt
    }

    /// The hit as the replay of its source reads it.
    var evidence: SourceScore.Evidence {
        SourceScore.Evidence(time: time, kind: kind, strength: strength, trap: trapKey ?? Array(trap.utf8))
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
            // The source each hit counts for: its client, or the IPv6 network around it.
            // Scoring lists neither a special-purpose client nor a network inside such a range.
            let sources = hits.map { policy.source(of: $0.source) }
            let listable = hits.indices.filter { index in
                guard policy.isNeverListed(hits[index].source) || policy.isNeverListed(sources[index]) else { return true }
                outcomes[index] = .ignored(reason: "\(hits[index].source) is a special-purpose address (RFC 6890), never listed")
                return false
            }
            // Work in source order: neighbouring sources share index pages, and all hits of
            // one source are folded in memory and its row written once. Hits of one source
            // keep their order (the sort is stable on the index).
            let order = listable.sorted { sources[$0] != sources[$1] ? sources[$0] < sources[$1] : $0 < $1 }
            // hits_by_source is UNIQUE on (zone, source, digest): a message the source sent
            // before is no row, and the insert's own search of the index finds it.
            let insert = try db.statement("""
                INSERT INTO hits(zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt, strength, trap_key, client)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT DO NOTHING
                """)
            insert.bind(1, zoneID).bind(3, recorded)
            var accepted: [Int] = []  // indices into `hits` of one source's new hits
            var start = 0
            while start < order.count {
                let source = sources[order[start]]
                var end = start + 1
                while end < order.count, sources[order[end]] == source { end += 1 }
                defer { start = end }
                insert.resetKeepingBindings()  // binding needs a reset statement (else SQLITE_MISUSE)
                insert.bind(4, Int64(source.family == .v4 ? 4 : 6)).bindAddress(5, source)
                accepted.removeAll(keepingCapacity: true)
                var lastHitID: Int64 = 0
                for index in order[start..<end] {
                    let hit = hits[index]
                    insert.resetKeepingBindings()
                    insert.bind(2, hit.time).bind(6, hit.kind.rawValue).bind(7, hit.trap).bind(8, hit.reporter)
                        .bind(9, hit.digest).bind(10, hit.excerpt).bind(11, hit.strength.storedValue)
                        .bind(12, hit.strength == .weak ? hit.trapKey : nil)  // only weak hits' traps are counted
                    if source.isHost { insert.bind(13, nil as [UInt8]?) } else { insert.bindAddress(13, hit.source) }
                    try insert.run()
                    guard db.changes == 1 else { continue }  // the same message from this source: .duplicate
                    accepted.append(index)
                    lastHitID = db.lastInsertRowID
                }
                guard !accepted.isEmpty else { continue }
                // A row of the same first address scored at another length (the policy's
                // ipv6-prefix changed) becomes this source: its old entry goes.
                if source.family == .v6, let old = try sourceState(zoneID: zoneID, source: source)?.prefix, old != source {
                    changed.append(old)
                }
                let states = try fold(accepted, of: hits, into: source, zoneID: zoneID, lastHitID: lastHitID, policy: policy)
                for (position, index) in accepted.enumerated() {
                    let state = states.each.isEmpty ? states.final : states.each[position]
                    outcomes[index] = .recorded(listed: state.isListed(at: hits[index].time), code: policy.codes.code(kinds: state.kinds))
                }
                changed.append(source)
            }
            try logChanges(zoneID: zoneID, changed)
            return outcomes
        }
    }

    /// Folds a source's new hits (just inserted, in batch order) into its row and writes it.
    ///
    /// Strong hits of a source that has only ever had strong ones are folded in memory: a
    /// source new to the zone has its row inserted straight away (one search of the tree,
    /// most sources of a large batch), a known one is read, folded further and updated.
    /// Weak evidence is judged against the hits around it, and an operator's confirmation
    /// or rejection against the source's history: such a source is replayed from all its
    /// stored hits.
    private func fold(_ new: [Int], of hits: [Hit], into source: IPPrefix, zoneID: Int64, lastHitID: Int64,
                      policy: ListingPolicy) throws(StoreError) -> Folded {
        if new.allSatisfy({ hits[$0].strength == .strong }), var states = fold(new, of: hits, onto: nil, policy: policy) {
            if try insertSource(zoneID: zoneID, source: source, states.final, lastHitID: lastHitID) { return states }
            guard let old = try sourceState(zoneID: zoneID, source: source) else {
                throw StoreError(.internalError, "\(db.path): source \(source) neither new nor stored")
            }
            if old.score.weakHits == 0, let folded = fold(new, of: hits, onto: old.score, policy: policy), !folded.outOfOrder {
                states = folded
                try updateSource(zoneID: zoneID, source: source, states.final, lastHitID: lastHitID)
                return states
            }
        }
        // A hit older than the source's last, weak evidence, or an operator's judgement:
        // replay every stored hit (this batch's included).
        guard let replayed = try replaySource(zoneID: zoneID, source: source, policy: policy) else {
            throw StoreError(.internalError, "\(db.path): source \(source) has no hits to replay")
        }
        if try !insertSource(zoneID: zoneID, source: source, replayed, lastHitID: lastHitID) {
            try updateSource(zoneID: zoneID, source: source, replayed, lastHitID: lastHitID)
        }
        return Folded(final: replayed)
    }

    /// A source's state after each of its new hits (in batch order) and after all of them.
    private struct Folded {
        /// Empty when the source was replayed: then `final` answers for every new hit.
        var each: [SourceScore] = []
        var final: SourceScore
        /// A hit was older than the state before it: `each` is empty and `final` is the
        /// replay in time order of the hits alone (the caller replays stored hits for an
        /// existing source).
        var outOfOrder = false
    }

    /// Folds the strong hits at `indices` of `hits` (not empty) onto `old` (nil: a source
    /// without hits).
    private func fold(_ indices: [Int], of hits: [Hit], onto old: SourceScore?, policy: ListingPolicy) -> Folded? {
        var each: [SourceScore] = []
        each.reserveCapacity(indices.count)
        var state = old
        for index in indices {
            let hit = hits[index]
            if let current = state, hit.time < current.lastSeen {
                return SourceScore.replay(indices.map { hits[$0].evidence }, policy: policy).map { Folded(final: $0, outOfOrder: true) }
            }
            let next = state.map { $0.adding(kind: hit.kind, at: hit.time, policy: policy) }
                ?? SourceScore(firstHit: hit.kind, at: hit.time, policy: policy)
            each.append(next)
            state = next
        }
        return state.map { Folded(each: each, final: $0) }
    }

    /// A source's row: its prefix, scoring state, the last hit's id, and the operator's
    /// judgements of its weak evidence.
    struct SourceRow {
        /// The source: one address, or the IPv6 network its hits were scored as.
        var prefix: IPPrefix
        var score: SourceScore
        var lastHitID: Int64?
        /// When an operator confirmed its weak evidence (`rbld confirm`).
        var confirmed: Int64?
        /// When an operator rejected its weak evidence (`rbld reject`).
        var rejected: Int64?
    }

    /// The row keyed by `source`'s first address, whatever length it was scored at (a
    /// caller that needs exactly `source` compares the row's ``SourceRow/prefix``).
    func sourceState(zoneID: Int64, source: IPPrefix) throws(StoreError) -> SourceRow? {
        let statement = try db.statement("""
            SELECT first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id,
                   coalesce(last_counted, last_seen), weak_hits, held_until, confirmed, rejected,
                   family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END)
            FROM sources WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
            """)
        statement.bind(1, zoneID).bind(2, Int64(source.family == .v4 ? 4 : 6)).bindAddress(3, source)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        guard let prefix = statement.prefix(14) else { throw corruptRow("sources") }
        let score = SourceScore(firstSeen: statement.int64(0), lastSeen: statement.int64(1), hitCount: statement.int(2),
                                score: statement.double(3), kinds: HitKind.set(statement.int64(4)),
                                allKinds: HitKind.set(statement.int64(5)), listedSince: statement.optionalInt64(6),
                                until: statement.optionalInt64(7), lastCounted: statement.int64(9),
                                weakHits: statement.int(10), heldUntil: statement.optionalInt64(11))
        return SourceRow(prefix: prefix, score: score, lastHitID: statement.optionalInt64(8), confirmed: statement.optionalInt64(12),
                         rejected: statement.optionalInt64(13))
    }

    /// Inserts the row of a source new to the zone; false (nothing written) when the zone
    /// has one already (of any length at that first address).
    func insertSource(zoneID: Int64, source: IPPrefix, _ state: SourceScore, lastHitID: Int64?) throws(StoreError) -> Bool {
        let statement = try db.statement("""
            INSERT INTO sources(zone_id, family, addr, first_seen, last_seen, hit_count, score, kinds, all_kinds,
                                listed_since, until, last_hit_id, last_counted, weak_hits, held_until, plen)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT DO NOTHING
            """)
        try bindSource(statement, zoneID: zoneID, source: source, state, lastHitID: lastHitID).run()
        return db.changes == 1
    }

    /// Writes the scoring state of a source the zone has a row for (an operator's
    /// judgements stay as they are), and its length.
    func updateSource(zoneID: Int64, source: IPPrefix, _ state: SourceScore, lastHitID: Int64?) throws(StoreError) {
        let statement = try db.statement("""
            UPDATE sources SET first_seen = ?4, last_seen = ?5, hit_count = ?6, score = ?7, kinds = ?8, all_kinds = ?9,
                               listed_since = ?10, until = ?11, last_hit_id = ?12, last_counted = ?13, weak_hits = ?14,
                               held_until = ?15, plen = ?16
            WHERE zone_id = ?1 AND family = ?2 AND addr = ?3
            """)
        try bindSource(statement, zoneID: zoneID, source: source, state, lastHitID: lastHitID).run()
    }

    private func bindSource(_ statement: Statement, zoneID: Int64, source: IPPrefix, _ state: SourceScore,
                            lastHitID: Int64?) -> Statement {
        statement.bind(1, zoneID).bind(2, Int64(source.family == .v4 ? 4 : 6)).bindAddress(3, source)
            .bind(4, state.firstSeen).bind(5, state.lastSeen).bind(6, state.hitCount).bind(7, state.score)
            .bind(8, HitKind.mask(state.kinds)).bind(9, HitKind.mask(state.allKinds))
            .bind(10, state.listedSince).bind(11, state.until).bind(12, lastHitID)
            // NULL when the last hit counted, as every hit of a source with only strong evidence
            // does: most rows then spend one header byte on it (read as coalesce(last_counted, last_seen)).
            .bind(13, state.lastCounted == state.lastSeen ? nil : state.lastCounted).bind(14, state.weakHits)
            .bind(15, state.heldUntil)
            .bind(16, source.isHost ? nil : Int64(source.length))  // NULL: one address, as rows before schema 7
    }

    /// A source's hits as the replay reads them, in time order.
    func evidence(zoneID: Int64, source host: IPPrefix) throws(StoreError) -> [SourceScore.Evidence] {
        let statement = try db.statement("""
            SELECT time, kind, strength, coalesce(trap_key, CAST(trap AS BLOB)) FROM hits
            WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 ORDER BY time, id
            """)
        statement.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host)
        defer { statement.reset() }
        var hits: [SourceScore.Evidence] = []
        while try statement.step() {
            hits.append(SourceScore.Evidence(time: statement.int64(0), kind: HitKind(rawValue: statement.text(1) ?? "") ?? .unknownBounce,
                                             strength: EvidenceStrength(storedValue: statement.int64(2)),
                                             trap: statement.blob(3) ?? []))
        }
        return hits
    }

    /// Rebuilds a source's state from all its hits and the operator's judgements (weak
    /// evidence, an out-of-order hit, a policy change, a confirmation or rejection).
    func replaySource(zoneID: Int64, source: IPPrefix, policy: ListingPolicy) throws(StoreError) -> SourceScore? {
        let row = try sourceState(zoneID: zoneID, source: source)
        return SourceScore.replay(try evidence(zoneID: zoneID, source: source), policy: policy,
                                  confirmed: row?.confirmed, rejected: row?.rejected)
    }

    /// Recomputes every source of the zone from its hits under a new policy.
    func rescoreAllSources(zoneID: Int64, policy: ListingPolicy) throws(StoreError) {
        let list = try db.statement("""
            SELECT family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END), last_hit_id FROM sources WHERE zone_id = ?1
            """)
        list.bind(1, zoneID)
        var sources: [(IPPrefix, Int64?)] = []
        while try list.step() {
            guard let host = list.prefix(0) else { throw corruptRow("sources") }
            sources.append((host, list.optionalInt64(3)))
        }
        for (host, lastHitID) in sources {
            if let state = try replaySource(zoneID: zoneID, source: host, policy: policy) {
                try updateSource(zoneID: zoneID, source: host, state, lastHitID: lastHitID)
            }
        }
    }
}
