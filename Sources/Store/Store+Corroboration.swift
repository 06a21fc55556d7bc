// Store+Corroboration.swift -- sources held back for lack of corroboration, and the
// operator's confirm and reject of their weak evidence.

/// A source whose weak evidence would list it, but is not corroborated (`rbld hits --weak`).
public struct HeldBackSource: Hashable, Sendable, Codable {
    public var address: String
    public var zone: String
    /// Its weak hits that are evidence (not rejected), and the distinct traps they reached.
    public var weakHits: Int
    public var traps: Int
    /// When the first and the last of those weak hits arrived.
    public var firstSeen: Int64
    public var lastSeen: Int64
    /// Until when the weak evidence would list it, were it corroborated.
    public var heldUntil: Int64
    /// How many more weak hits, from how many more traps, the corroboration window ending
    /// now needs (a strong hit does instead).
    public var missingWeakHits: Int
    public var missingTraps: Int
}

/// One recorded hit, as `rbld hits` lists it.
public struct RecordedHit: Hashable, Sendable, Codable {
    public var source: String
    public var time: Int64
    public var kind: String
    /// `strong` or `weak`.
    public var strength: String
    /// The trap, its local part redacted.
    public var trap: String
    public var reporter: String?
}

/// The `before` and `after` of a confirm's or reject's audit row.
struct EvidenceAudit: Codable {
    var weakHits: Int
    var listedUntil: Int64?
    var heldUntil: Int64?

    init(_ score: SourceScore, evidence weakHits: Int) {
        self.weakHits = weakHits
        listedUntil = score.until
        heldUntil = score.heldUntil
    }
}

extension Store {
    /// The sources of `zone` held back at `now` for lack of corroboration, in address
    /// order: those whose listing precedence says `.heldBack` and that no wider manual
    /// listing answers for (an excluded, manually listed or never-listed address is not
    /// waiting for evidence), as `show` says.
    public func heldBackSources(zone: String, now: Int64, limit: Int = 1000) throws(StoreError) -> [HeldBackSource] {
        try db.readTransaction { () throws(StoreError) -> [HeldBackSource] in
            reloadZones()
            guard let zoneID = try existingZoneID(zone) else { return [] }
            let policy = try zoneConfig(zoneID).policy
            let candidates = try db.statement("""
                SELECT family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END) FROM sources INDEXED BY sources_held
                WHERE zone_id = ?1 AND held_until > ?2 AND (until IS NULL OR until <= ?2)
                """)
            candidates.bind(1, zoneID).bind(2, now)
            var hosts: [IPPrefix] = []
            while try candidates.step() {
                guard let host = candidates.prefix(0) else { throw corruptRow("sources") }
                hosts.append(host)
            }
            candidates.reset()
            var held: [HeldBackSource] = []
            for host in hosts.sorted() {
                guard held.count < limit else { break }
                guard case .heldBack(let until) = try decision(for: host, zoneID: zoneID, now: now),
                      try widerManualListing(zoneID: zoneID, prefix: host, now: now) == nil,  // else listed all the same
                      let row = try scoredSource(zoneID: zoneID, prefix: host) else { continue }
                let weak = try weakEvidence(of: host, zoneID: zoneID, rejected: row.rejected)
                guard let first = weak.first, let last = weak.last else { continue }
                let recent = CorroborationWindow.counts(weak, rule: policy.corroboration, endingAt: now)
                held.append(HeldBackSource(
                    address: host.description, zone: ZoneSettings.normalizedName(zone), weakHits: weak.count,
                    traps: Set(weak.map(\.trap)).count, firstSeen: first.time, lastSeen: last.time, heldUntil: until,
                    missingWeakHits: max(0, policy.corroboration.weakHits - recent.weakHits),
                    missingTraps: max(0, policy.corroboration.traps - recent.traps)))
            }
            return held
        }
    }

    /// The hits recorded last in `zone`, newest first.
    public func recentHits(zone: String, limit: Int = 50) throws(StoreError) -> [RecordedHit] {
        try db.readTransaction { () throws(StoreError) -> [RecordedHit] in
            guard let zoneID = try existingZoneID(zone) else { return [] }
            let rows = try db.statement("""
                SELECT family, coalesce(client, addr), CASE family WHEN 4 THEN 32 ELSE 128 END, time, kind, strength, trap, reporter FROM hits
                WHERE zone_id = ?1 ORDER BY id DESC LIMIT ?2
                """)
            rows.bind(1, zoneID).bind(2, limit)
            defer { rows.reset() }
            var hits: [RecordedHit] = []
            while try rows.step() {
                guard let source = rows.prefix(0) else { throw corruptRow("hits") }
                hits.append(RecordedHit(source: source.description, time: rows.int64(3), kind: rows.text(4) ?? "",
                                        strength: EvidenceStrength(storedValue: rows.int64(5)).rawValue,
                                        trap: rows.text(6) ?? "", reporter: rows.text(7)))
            }
            return hits
        }
    }

    /// Lists a source held back for lack of corroboration as if its weak evidence had been
    /// corroborated: its weak hits up to now count, so it is listed from them and until
    /// `expiry` after the last one. Weak hits that arrive later are judged as usual.
    ///
    /// - Throws: `.notFound` when the zone has no such source; `.conflict` when the source
    ///   is not held back (listed already, excluded, manually listed, or its weak evidence
    ///   would not list it any more).
    public func confirm(_ host: IPPrefix, zone: String, actor: String, reason: String) throws(StoreError) -> AdminResult {
        try judgeWeakEvidence(host, zone: zone, action: "confirm", actor: actor, reason: reason) { zoneID, source, _, now throws(StoreError) in
            let decision = try decision(for: source, zoneID: zoneID, now: now)
            guard case .heldBack = decision else {
                throw StoreError(.conflict, "\(source) is not held back for lack of corroboration: \(describe(decision))")
            }
        }
    }

    /// Drops a source's weak evidence: its weak hits up to now neither score nor
    /// corroborate any more (they stay recorded, and `show` lists them). A listing that
    /// rested on them ends; strong hits stand (delist those). Weak hits that arrive later
    /// are evidence again.
    ///
    /// - Throws: `.notFound` when the zone has no such source; `.conflict` when it has no
    ///   weak evidence (none, or all rejected before).
    public func reject(_ host: IPPrefix, zone: String, actor: String, reason: String) throws(StoreError) -> AdminResult {
        try judgeWeakEvidence(host, zone: zone, action: "reject", actor: actor, reason: reason) { _, source, weak, _ throws(StoreError) in
            guard !weak.isEmpty else { throw StoreError(.conflict, "\(source) has no weak evidence to reject") }
        }
    }

    /// The common part of confirm and reject: check, stamp the source, replay it, audit,
    /// and log the change for publication. The source is the one `address` counts for: the
    /// address itself, or the IPv6 network its hits are scored as.
    private func judgeWeakEvidence(
        _ address: IPPrefix, zone: String, action: String, actor: String, reason: String,
        check: (_ zoneID: Int64, _ source: IPPrefix, _ weak: [SourceScore.Evidence], _ now: Int64) throws(StoreError) -> Void
    ) throws(StoreError) -> AdminResult {
        guard address.isHost else { throw StoreError(.invalidInput, "\(action) takes one address, not the network \(address)") }
        return try db.writeTransaction { () throws(StoreError) -> AdminResult in
            let now = clock()
            guard let zoneID = try existingZoneID(zone), let row = try source(containing: address, zoneID: zoneID) else {
                throw StoreError(.notFound, "no hits from \(address) in \(ZoneSettings.normalizedName(zone))")
            }
            let host = row.prefix
            let policy = try zoneConfig(zoneID).policy
            let weak = try weakEvidence(of: host, zoneID: zoneID, rejected: row.rejected)
            try check(zoneID, host, weak, now)
            let stamp = try db.statement(action == "confirm"
                ? "UPDATE sources SET confirmed = ?4 WHERE zone_id = ?1 AND family = ?2 AND addr = ?3"
                : "UPDATE sources SET rejected = ?4 WHERE zone_id = ?1 AND family = ?2 AND addr = ?3")
            stamp.bind(1, zoneID).bind(2, Int64(host.family == .v4 ? 4 : 6)).bindAddress(3, host).bind(4, now)
            try stamp.run()
            guard let state = try replaySource(zoneID: zoneID, source: host, policy: policy) else {
                throw StoreError(.internalError, "\(path): source \(host) has no hits to replay")
            }
            try updateSource(zoneID: zoneID, source: host, state, lastHitID: row.lastHitID)
            let remaining = action == "reject" ? 0 : weak.count
            let auditID = try audit(zoneID: zoneID, actor: actor, action: action, prefix: host, reason: reason,
                                    before: try Store.json(EvidenceAudit(row.score, evidence: weak.count)),
                                    after: try Store.json(EvidenceAudit(state, evidence: remaining)))
            try logChange(zoneID: zoneID, prefix: host)
            let plural = weak.count == 1 ? "" : "s"
            var message = action == "confirm"
                ? "confirmed \(weak.count) weak hit\(plural) of \(host)"
                : "rejected \(weak.count) weak hit\(plural) of \(host)"
            if let until = state.until, until > now {
                message += ": listed until \(Store.formatTime(until))"
            } else {
                message += ": not listed"
            }
            return AdminResult(action: action, zone: ZoneSettings.normalizedName(zone), prefix: host.description,
                               message: message, affected: 1, serial: try changeSerial(), auditID: auditID)
        }
    }

    /// A source's weak hits that are evidence: those after the last rejection, in time order.
    func weakEvidence(of host: IPPrefix, zoneID: Int64, rejected: Int64?) throws(StoreError) -> [SourceScore.Evidence] {
        try evidence(zoneID: zoneID, source: host).filter { $0.strength == .weak && $0.time > (rejected ?? .min) }
    }

    /// A decision in words, for an operator told why an act does not apply.
    private func describe(_ decision: ListingDecision) -> String {
        switch decision {
        case .excluded, .insideExclusion: "it is excluded"
        case .manual: "it is listed manually"
        case .scored(let listing): "it is listed" + (listing.expires.map { " until \(Store.formatTime($0))" } ?? "")
        case .delisted: "it is delisted"
        case .heldBack: "it is held back"
        case .neverListed: "scoring never lists this range"
        case .notListed: "its weak evidence would not list it now"
        }
    }
}
