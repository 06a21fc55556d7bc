// Lookup.swift -- what the public may know about one address: per zone, its answer and redacted evidence.

import Store

/// The answer for one address in every served zone (`/lookup/IP`, `GET /api/v1/lookup/{ip}`).
public struct Lookup: Sendable, Codable, Hashable {
    public var ip: String
    public var zones: [ZoneLookup]
}

/// One zone's answer for an address.
public struct ZoneLookup: Sendable, Codable, Hashable {
    public var zone: String
    public var listed: Bool
    /// `listed`, `excluded`, `delisted`, `held-back`, `special-purpose` or `not-listed`.
    public var status: String
    /// The A answer (`127.0.0.X`) when listed.
    public var code: String?
    /// The TXT answer when listed.
    public var txt: String?
    /// The kinds of backscatter seen from the address; for a listing without hits (an
    /// operator's), the kinds its return code names.
    public var kinds: [String]
    /// RFC 3339 times.
    public var firstSeen: String?
    public var lastSeen: String?
    /// When the listing ends by itself (nil: not listed, or never).
    public var expires: String?
    /// Hits recorded for the address.
    public var hits: Int
    /// Whether self-service delisting removes the listing (a listing made by scoring).
    public var delistable: Bool
    /// Whether an operator made the listing (self-service never removes it).
    public var manual: Bool
    /// The latest hits, with every trap detail removed.
    public var evidence: [PublicEvidence]

    enum CodingKeys: String, CodingKey {
        case zone, listed, status, code, txt, kinds
        case firstSeen = "first_seen", lastSeen = "last_seen"
        case expires, hits, delistable, manual, evidence
    }
}

extension Lookup {
    /// What `address` is in each of `zones` at `now`: the answer from `served` (the tables
    /// DNS answers from) where it has the zone, the rest from the store; from the store
    /// alone without `served`, or where the two disagree (a change not yet published).
    static func make(_ address: IPPrefix, zones: [String], store: Store, now: Int64, evidence: EvidenceCache,
                     selfService: (String) -> SelfServicePolicy, served: (any ServedListings)? = nil,
                     evidenceCount: Int = 5) throws(StoreError) -> Lookup {
        var result = Lookup(ip: address.addressText, zones: [])
        result.zones.reserveCapacity(zones.count)
        for zone in zones {
            var report: PublicReport?
            if let match = served?.match(address, zone: zone) {
                report = try store.publicReport(for: address, zone: zone, now: now, served: match, hitLimit: evidenceCount)
            }
            if report == nil {
                // The pool reads zone settings afresh every few seconds, not per lookup.
                report = PublicReport(try store.report(for: address, zone: zone, now: now, hitLimit: evidenceCount, auditLimit: 0,
                                                       reloadingZones: false))
            }
            if let report {
                result.zones.append(ZoneLookup(report, address: address, evidence: evidence, selfService: selfService(zone)))
            }
        }
        return result
    }
}

extension ZoneLookup {
    init(_ report: PublicReport, address: IPPrefix, evidence cache: EvidenceCache, selfService: SelfServicePolicy) {
        let listed = report.status == .listed
        zone = report.zone
        self.listed = listed
        status = report.status.rawValue
        code = report.code.map { "127.0.0.\($0)" }
        txt = report.text
        kinds = report.kinds.map(\.rawValue)
        firstSeen = report.firstSeen.map(Store.formatRFC3339)
        lastSeen = report.lastSeen.map(Store.formatRFC3339)
        expires = report.expires.map(Store.formatRFC3339)
        hits = report.hitCount
        delistable = listed && !report.manual && selfService.enabled
        manual = report.manual
        // Redacted against the address that delivered each hit (an IPv6 source is a network).
        evidence = report.lastHits.map { cache.evidence($0, source: $0.client.flatMap(IPPrefix.init) ?? address) }
    }

    /// What a listing says, in words: its kinds and whether an operator made it (read from
    /// the listing, not its code, whose bits each zone may assign its own way).
    static func meaning(kinds names: [String], manual: Bool) -> String {
        var parts: [String] = []
        if manual { parts.append("listed by an operator") }
        let kinds = names.compactMap(HitKind.init(rawValue:)).filter { $0 != .dsn && $0 != .unknownBounce }
        if kinds.isEmpty { parts.append("bounces (delivery status notifications)") }
        for kind in kinds {
            switch kind {
            case .autoreply: parts.append("auto-replies")
            case .challenge: parts.append("challenge-response requests")
            case .virus: parts.append("virus or content-filter notices")
            case .dsn, .unknownBounce: parts.append("bounces")
            }
        }
        return parts.joined(separator: ", ")
    }
}
