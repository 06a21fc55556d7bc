// ZoneSettings.swift -- what the DNS side needs to serve one zone: SOA, NS, TTLs, answers.

/// The served shape of one DNSBL zone: SOA and NS records, TTLs and the default answer.
///
/// The store keeps one per zone (`Store.zoneSettings(_:)`); an rbldnsd file's `$SOA`, `$NS`,
/// `$TTL` and `:A:TXT` lines update it on import. ``defaults(zone:)`` is what
/// `rbld serve --zone NAME` uses when nothing else is known.
public struct ZoneSettings: Codable, Hashable, Sendable {
    /// The zone name: lowercase, no trailing dot (`bl.example.org`).
    public var name: String
    /// TTL of the SOA record itself.
    public var soaTTL: UInt32
    /// SOA MNAME: the primary name server.
    public var mname: String
    /// SOA RNAME as a domain name (`hostmaster.example.org`, RFC 1035 §3.3.13).
    public var rname: String
    /// A fixed SOA serial; nil means use the store's change serial (truncated to 32 bits).
    public var serial: UInt32?
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// SOA MINIMUM: the negative-caching TTL (RFC 2308 §4).
    public var minimum: UInt32
    /// TTL of the apex NS records.
    public var nsTTL: UInt32
    /// Apex NS names; empty means `[mname]`.
    public var nameservers: [String]
    /// TTL of listing answers (capped by the DNS side at the time left until expiry).
    public var ttl: UInt32
    /// TXT answer template; `$` is replaced by the queried IP.
    public var txtTemplate: String
    /// X of 127.0.0.X for entries without their own code.
    public var defaultCode: UInt8

    public init(
        name: String, soaTTL: UInt32, mname: String, rname: String, serial: UInt32?,
        refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32,
        nsTTL: UInt32, nameservers: [String], ttl: UInt32, txtTemplate: String, defaultCode: UInt8
    ) {
        self.name = ZoneSettings.normalizedName(name)
        self.soaTTL = soaTTL
        self.mname = ZoneSettings.normalizedName(mname)
        self.rname = ZoneSettings.normalizedName(rname)
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
        self.nsTTL = nsTTL
        self.nameservers = nameservers.map(ZoneSettings.normalizedName)
        self.ttl = ttl
        self.txtTemplate = txtTemplate
        self.defaultCode = defaultCode
    }

    /// Settings that serve `zone` with no configuration at all.
    ///
    /// MNAME and NS are `localhost`: resolvable everywhere and outside the zone, so no glue
    /// is needed until an operator names real servers. TTL 2100 s and negative TTL 60 s
    /// follow rbldnsd's defaults; the SOA timers are the usual secondary-friendly ones.
    public static func defaults(zone: String) -> ZoneSettings {
        let name = normalizedName(zone)
        return ZoneSettings(
            name: name, soaTTL: 3600, mname: "localhost", rname: "hostmaster.\(name)", serial: nil,
            refresh: 600, retry: 300, expire: 86400, minimum: 60,
            nsTTL: 3600, nameservers: ["localhost"], ttl: 2100,
            txtTemplate: "$ is listed in \(name) as a source of email backscatter",
            defaultCode: 2
        )
    }

    /// Lowercase, without a trailing dot; `user@example.org` becomes `user.example.org` (RNAME).
    public static func normalizedName(_ name: String) -> String {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        if let at = name.firstIndex(of: "@") { name.replaceSubrange(at...at, with: ".") }
        return name
    }

    /// The NS names actually served.
    public var servedNameservers: [String] { nameservers.isEmpty ? [mname] : nameservers }
}

/// Zone settings found in a list file (rbldnsd `$SOA`, `$NS`, `$TTL`, `:A:TXT`): only what
/// the file said, to be laid over the zone's current settings.
public struct PartialZoneSettings: Hashable, Sendable, Codable {
    public var soaTTL: UInt32?
    public var mname: String?
    public var rname: String?
    /// Set only by a nonzero `$SOA` serial (rbldnsd's 0 means "use the file time").
    public var serial: UInt32?
    public var refresh: UInt32?
    public var retry: UInt32?
    public var expire: UInt32?
    public var minimum: UInt32?
    public var nsTTL: UInt32?
    /// From `$NS` lines, in order (several lines add up).
    public var nameservers: [String]?
    public var ttl: UInt32?
    public var txtTemplate: String?
    public var defaultCode: UInt8?

    public init() {}

    /// True when the file set nothing.
    public var isEmpty: Bool { self == PartialZoneSettings() }

    /// `base` with every value this file set.
    public func applied(to base: ZoneSettings) -> ZoneSettings {
        var result = base
        if let soaTTL { result.soaTTL = soaTTL }
        if let mname { result.mname = ZoneSettings.normalizedName(mname) }
        if let rname { result.rname = ZoneSettings.normalizedName(rname) }
        if let serial { result.serial = serial }
        if let refresh { result.refresh = refresh }
        if let retry { result.retry = retry }
        if let expire { result.expire = expire }
        if let minimum { result.minimum = minimum }
        if let nsTTL { result.nsTTL = nsTTL }
        if let nameservers { result.nameservers = nameservers.map(ZoneSettings.normalizedName) }
        if let ttl { result.ttl = ttl }
        if let txtTemplate { result.txtTemplate = txtTemplate }
        if let defaultCode { result.defaultCode = defaultCode }
        return result
    }
}
