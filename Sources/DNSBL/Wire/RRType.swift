// RRType.swift -- resource record types, classes and response codes (RFC 1035 §3.2, RFC 6895).

/// A resource record type. Open: unknown types still get answers (RFC 3597).
public struct RRType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(rawValue: 1)
    public static let ns = RRType(rawValue: 2)
    public static let soa = RRType(rawValue: 6)
    public static let txt = RRType(rawValue: 16)
    public static let aaaa = RRType(rawValue: 28)
    public static let opt = RRType(rawValue: 41)       // RFC 6891 §6.1.1
    public static let ixfr = RRType(rawValue: 251)
    public static let axfr = RRType(rawValue: 252)
    public static let any = RRType(rawValue: 255)      // RFC 8482 calls it "ANY"
}

/// A DNS class; only IN is served.
public struct DNSClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(rawValue: 1)
}

/// A response code, including the EDNS extended codes (RFC 6891 §6.1.3).
public struct RCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = RCode(rawValue: 0)
    public static let formErr = RCode(rawValue: 1)
    public static let servFail = RCode(rawValue: 2)
    public static let nxDomain = RCode(rawValue: 3)
    public static let notImp = RCode(rawValue: 4)
    public static let refused = RCode(rawValue: 5)
    /// Not authoritative for the zone, or a TSIG request that fails its checks (RFC 8945 §5.2).
    public static let notAuth = RCode(rawValue: 9)
    /// Extended: the upper 8 bits travel in the OPT record's TTL (RFC 6891 §6.1.3).
    public static let badVers = RCode(rawValue: 16)
}
