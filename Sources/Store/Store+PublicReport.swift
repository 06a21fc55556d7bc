// Store+PublicReport.swift -- the part of `report` a public lookup shows, from the served table's match plus the rows only the store has.

/// What the served DNS table holds for an address: the longest match of the published
/// snapshot, as the web side is told it.
public enum ServedMatch: Hashable, Sendable {
    /// No entry covers the address.
    case none
    /// The longest entry covering the address is an exclusion.
    case excluded
    /// A listing answers: the address's own entry (`ownEntry`) or a wider network's.
    /// `text` is the TXT template (each `$` not yet replaced); `expires` nil for never.
    case listed(code: UInt8, text: String, expires: Int64?, ownEntry: Bool)
}

/// What a public lookup shows of one address in one zone (a part of ``SourceReport``).
public struct PublicReport: Hashable, Sendable {
    public var zone: String
    public var status: SourceReport.Status
    /// X of 127.0.0.X when listed.
    public var code: UInt8?
    /// The TXT answer when listed, `$` already replaced.
    public var text: String?
    /// When the listing ends by itself (nil: never, or not listed).
    public var expires: Int64?
    /// Whether a manual or imported entry answers (the address's own, or a network's).
    public var manual: Bool
    /// The kinds ever seen from the address; for a listing without hits, those its code names.
    public var kinds: [HitKind]
    public var hitCount: Int
    public var firstSeen: Int64?
    public var lastSeen: Int64?
    /// The latest hits, newest first.
    public var lastHits: [SourceReport.Evidence]

    /// The public part of a full report.
    public init(_ report: SourceReport) {
        zone = report.zone
        status = report.status
        code = report.code
        text = report.status == .listed ? report.text : nil
        expires = report.status == .listed ? report.expires : nil
        manual = report.status == .listed && Store.isManualAnswer(report)
        kinds = report.allKinds.isEmpty ? report.kinds : report.allKinds
        hitCount = report.hitCount
        firstSeen = report.firstSeen
        lastSeen = report.lastSeen
        lastHits = report.lastHits
    }

    init(zone: String) {
        self.zone = zone
        status = .notListed
        manual = false
        kinds = []
        hitCount = 0
        lastHits = []
    }
}

extension Store {
    /// The public part of ``report(for:zone:now:hitLimit:auditLimit:reloadingZones:)`` for a
    /// host address, given what the served table answers for it: the answer (listed, code,
    /// TXT, expiry, excluded) comes from `served`; the store is asked only for what it alone
    /// holds (the source row, the address's own manual entry when a scored listing could
    /// also answer, the latest hits), and for nothing more when it has no source row.
    ///
    /// The zone's settings and policy come from this connection's cache (the caller calls
    /// ``reloadZones()`` from time to time).
    ///
    /// - Returns: nil when `served` and the store disagree (a change not yet published, or
    ///   a listing that expired since the table was built): the caller asks
    ///   ``report(for:zone:now:hitLimit:auditLimit:reloadingZones:)`` instead.
    public func publicReport(for address: IPPrefix, zone: String, now: Int64, served: ServedMatch,
                             hitLimit: Int = 5) throws(StoreError) -> PublicReport? {
        guard address.isHost else { throw StoreError(.invalidInput, "show takes one address, not the network \(address)") }
        return try db.readTransaction { () throws(StoreError) -> PublicReport? in
        var result = PublicReport(zone: ZoneSettings.normalizedName(zone))
        guard let zoneID = try existingZoneID(zone) else {
            return served == .none ? result : nil
        }
        let policy = try zoneConfig(zoneID).policy
        // An IPv6 address scored with its network (`policy.ipv6Prefix`): the served entry is
        // the network's, which only the full report tells apart from a manual one.
        let row = address.family == .v4 ? try sourceState(zoneID: zoneID, source: address)
                                        : try source(containing: address, zoneID: zoneID)
        if let row, row.prefix != address { return nil }
        let source = row?.score
        switch served {
        case .listed(let code, let text, let expires, let ownEntry):
            if let expires, expires <= now { return nil }
            result.status = .listed
            result.code = code
            result.text = text.replacingDollar(with: address.addressText)
            result.expires = expires
            result.kinds = policy.codes.kinds(in: code)
            if !ownEntry {
                result.manual = true
            } else if let source, let until = source.until, until > now, !policy.isNeverListed(address) {
                // Its own entry is its score listing, unless it has a manual row of its own:
                // `isManualAnswer` counts that row as the answer's, expired or not.
                result.manual = try hasOwnManualRow(zoneID: zoneID, host: address)
            } else {
                // Scoring cannot list it: its own entry must be a manual one (none without
                // a source row would be a change not yet published, and reads as such).
                result.manual = true
            }
        case .excluded:
            result.status = .excluded
        case .none:
            if policy.isNeverListed(address) {
                result.status = .specialPurpose
            } else if let source {
                if let until = source.until, until > now {
                    // Delisted, or listed since the table was built: only the store can say.
                    return nil
                }
                result.status = (source.heldUntil ?? .min) > now ? .heldBack : .notListed
            }
        }
        if let source {
            result.hitCount = source.hitCount
            result.firstSeen = source.firstSeen
            result.lastSeen = source.lastSeen
            let allKinds = HitKind.allCases.filter(source.allKinds.contains)
            if !allKinds.isEmpty { result.kinds = allKinds }
            result.lastHits = try latestHits(zoneID: zoneID, source: address, limit: hitLimit)
        }
        return result
        }
    }

    /// Whether `host` has a manual or imported row of its own (expired or not).
    func hasOwnManualRow(zoneID: Int64, host: IPPrefix) throws(StoreError) -> Bool {
        let statement = try db.statement("""
            SELECT 1 FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
            """)
        statement.bind(1, zoneID).bindPrefix(2, host)
        defer { statement.reset() }
        return try statement.step()
    }

    /// The hits recorded last for `source` (a host, or an IPv6 network scored as one),
    /// newest message first, each with the address that delivered it. The inner query reads
    /// ids from the index alone, so a source of 100,000 hits costs no row reads.
    func latestHits(zoneID: Int64, source: IPPrefix, limit: Int) throws(StoreError) -> [SourceReport.Evidence] {
        guard limit > 0 else { return [] }
        let hits = try db.statement("""
            SELECT time, kind, trap, reporter, hex(digest), excerpt, strength, 6, client, 128 FROM hits
            WHERE id IN (SELECT id FROM hits INDEXED BY hits_by_source
                         WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 ORDER BY id DESC LIMIT ?4)
            ORDER BY time DESC, id DESC
            """)
        hits.bind(1, zoneID).bind(2, Int64(source.family == .v4 ? 4 : 6)).bindAddress(3, source).bind(4, limit)
        defer { hits.reset() }
        var evidence: [SourceReport.Evidence] = []
        while try hits.step() {
            evidence.append(.init(time: hits.int64(0), kind: hits.text(1) ?? "",
                                  strength: EvidenceStrength(storedValue: hits.int64(6)).rawValue,
                                  trap: hits.text(2) ?? "", reporter: hits.text(3),
                                  digest: (hits.text(4) ?? "").lowercased(), excerpt: hits.text(5),
                                  client: hits.prefix(7)?.description))
        }
        return evidence
    }
}
