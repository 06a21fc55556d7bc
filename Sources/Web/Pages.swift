// Pages.swift -- what each page template is rendered from (stored properties: Mustache reads them by reflection, or by name where a type says so).

import Mustache

struct SiteInfo {
    var name: String
    var contact: String?
}

struct IndexPage {
    var site: SiteInfo
    var title: String
    var client: String
    var zones: [String]
    /// The zone the configuration examples name.
    var zone: String?
}

struct LookupPage {
    var site: SiteInfo
    var title: String
    var ip: String
    var zones: [ZoneView]
}

/// One zone of a lookup, as the page shows it.
struct ZoneView {
    var zone: String
    var ip: String
    var listed: Bool
    var status: String
    var statusText: String
    var code: String?
    var meaning: String
    var txt: String?
    var expires: String?
    var hasHits: Bool
    var hits: Int
    var firstSeen: String
    var lastSeen: String
    var kindsText: String
    var delistable: Bool
    var manual: Bool
    var explanation: String?
    var hasEvidence: Bool
    var evidence: [EvidenceView]

    init(_ lookup: ZoneLookup, ip: String) {
        zone = lookup.zone
        self.ip = ip
        listed = lookup.listed
        status = lookup.status
        code = lookup.code
        meaning = lookup.code == nil ? "" : ZoneLookup.meaning(kinds: lookup.kinds, manual: lookup.manual)
        txt = lookup.txt
        expires = lookup.expires.map(Self.readable)
        hasHits = lookup.hits > 0
        hits = lookup.hits
        firstSeen = lookup.firstSeen.map(Self.readable) ?? "-"
        lastSeen = lookup.lastSeen.map(Self.readable) ?? "-"
        kindsText = lookup.kinds.isEmpty ? "-" : lookup.kinds.joined(separator: ", ")
        delistable = lookup.delistable
        manual = lookup.manual
        hasEvidence = !lookup.evidence.isEmpty
        evidence = lookup.evidence.map(EvidenceView.init)
        switch lookup.status {
        case "excluded":
            statusText = "not listed (excluded)"
            explanation = "This address is excluded from the list: it is never listed, whatever the traps receive."
        case "delisted":
            statusText = "delisted"
            explanation = "This address was delisted. It is listed again only if the traps receive new backscatter from it."
        case "held-back":
            statusText = "not listed"
            explanation = "Some messages from this address look like backscatter by their wording alone; they do not list it unless more evidence arrives."
        case "special-purpose":
            statusText = "not listed"
            explanation = "This is a special-purpose address (private, loopback, documentation ...), which the traps never list."
        case "listed":
            statusText = "listed"
            // Self-service off: the request form still reaches an operator.
            explanation = lookup.delistable || lookup.manual ? nil
                : "Self-service delisting is off for this zone; an operator reviews each request sent with the delisting form."
        default:
            statusText = "not listed"
            explanation = nil
        }
    }

    /// `2025-06-15T14:00:00Z` as `2025-06-15 14:00 UTC`.
    static func readable(_ rfc3339: String) -> String {
        // `YYYY-MM-DDTHH:MM:SSZ`: drop the seconds, a space for the T.
        guard rfc3339.utf8.count == 20, rfc3339.hasSuffix("Z") else { return rfc3339 }
        return String(rfc3339.prefix(16).map { $0 == "T" ? " " : $0 }) + " UTC"
    }
}

struct EvidenceView {
    var time: String
    var kind: String
    var strength: String
    var host: String?
    var lines: [String]

    init(_ evidence: PublicEvidence) {
        time = ZoneView.readable(evidence.time)
        kind = evidence.kind
        strength = evidence.strength
        host = evidence.host
        lines = evidence.lines
    }
}

struct ZoneOption {
    var name: String
    var selected: Bool
}

struct DelistFormPage {
    var site: SiteInfo
    var title: String
    var client: String
    var token: String
    var ip: String
    var zoneOptions: [ZoneOption]
    var email: String
    var reason: String
    var problem: String?
}

struct DelistedPage {
    var site: SiteInfo
    var title: String
    var heading: String
    var status: String
    var note: String
    var id: Int64
    var ip: String
    var zone: String
    init(site: SiteInfo, title: String, heading: String, status: String, note: String, id: Int64, ip: String, zone: String) {
        self.site = site
        self.title = title
        self.heading = heading
        self.status = status
        self.note = note
        self.id = id
        self.ip = ip
        self.zone = zone
    }
}

struct ErrorPage {
    var site: SiteInfo
    var title: String
    var heading: String
    var message: String
}

// The lookup page is the one rendered most: its values are looked up by name here rather
// than through reflection, which costs several times more per value.

extension SiteInfo: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "contact": contact
        default: nil
        }
    }
}

extension LookupPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "site": site
        case "title": title
        case "ip": ip
        case "zones": zones
        default: nil
        }
    }
}

extension ZoneView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "zone": zone
        case "ip": ip
        case "listed": listed
        case "status": status
        case "statusText": statusText
        case "code": code
        case "meaning": meaning
        case "txt": txt
        case "expires": expires
        case "hasHits": hasHits
        case "hits": hits
        case "firstSeen": firstSeen
        case "lastSeen": lastSeen
        case "kindsText": kindsText
        case "delistable": delistable
        case "manual": manual
        case "explanation": explanation
        case "hasEvidence": hasEvidence
        case "evidence": evidence
        default: nil
        }
    }
}

extension EvidenceView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "time": time
        case "kind": kind
        case "strength": strength
        case "host": host
        case "lines": lines
        default: nil
        }
    }
}
