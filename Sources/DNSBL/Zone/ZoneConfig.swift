// ZoneConfig.swift -- what a served zone looks like, in presentation form.

/// One way of being listed: the return code and the TXT template (RFC 5782 §2).
public struct ListingClass: Hashable, Sendable {
    /// X of the A record 127.0.0.X.
    public var code: UInt8
    /// TXT text; each `$` is replaced by the queried address.
    public var text: String

    public init(code: UInt8, text: String) {
        self.code = code
        self.text = text
    }
}

/// The SOA fields of a zone (RFC 1035 §3.3.13).
public struct SOAFields: Hashable, Sendable {
    public var mname: String
    public var rname: String
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32
    public var ttl: UInt32

    public init(
        mname: String, rname: String, serial: UInt32, refresh: UInt32 = 600, retry: UInt32 = 300,
        expire: UInt32 = 86400, minimum: UInt32 = 60, ttl: UInt32 = 3600
    ) {
        (self.mname, self.rname, self.serial) = (mname, rname, serial)
        (self.refresh, self.retry, self.expire, self.minimum, self.ttl) = (refresh, retry, expire, minimum, ttl)
    }
}

/// A served zone: its apex records and its listing classes.
///
/// Table values index `listings` from 1: a table entry with listing index `i` answers with
/// `listings[i - 1]`; index 0 is an exclusion. `listings[0]` is the zone's default class,
/// used for the RFC 5782 test points.
public struct ZoneConfig: Hashable, Sendable {
    public var name: String
    public var soa: SOAFields
    public var nameservers: [String]
    public var nsTTL: UInt32
    /// TTL of listing answers (capped by the time left until a listing expires).
    public var ttl: UInt32
    public var listings: [ListingClass]

    public init(
        name: String, soa: SOAFields, nameservers: [String], nsTTL: UInt32 = 3600, ttl: UInt32 = 300,
        listings: [ListingClass]
    ) {
        (self.name, self.soa, self.nameservers, self.nsTTL) = (name, soa, nameservers, nsTTL)
        (self.ttl, self.listings) = (ttl, listings)
    }
}

/// Why a zone configuration cannot be encoded; names the offending value.
public struct ZoneConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
