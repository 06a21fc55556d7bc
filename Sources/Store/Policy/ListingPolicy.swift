// ListingPolicy.swift -- when a scored source is listed: decay, threshold, expiry, ranges.

import Foundation

/// The per-zone numbers of the listing policy (docs/POLICY.md).
///
/// A hit adds `weight(kind)` to the source's score (times `weakWeight` for weak evidence),
/// and the score halves every `halfLife`. A listing starts when a hit that counts brings
/// the score to `threshold` (1.0 by default: one hit lists), and lasts until `expiry` after
/// the last hit that counts; every such hit while listed extends it. A strong hit always
/// counts; a weak one only when corroborated (``Corroboration``). So a listing ends at a
/// known time (continuous expiry, no job needed), and a new one needs the decayed score
/// to reach the threshold again.
public struct ListingPolicy: Codable, Hashable, Sendable {
    /// Score half-life in seconds (7 days).
    public var halfLife: Int64
    /// Score a hit must bring the source to, to start a listing (1.0).
    public var threshold: Double
    /// Listing lifetime after the last hit that counts, in seconds (28 days, as backscatterer.org).
    public var expiry: Int64
    /// Weight of a hit of each kind (1 for every kind by default).
    public var weights: [HitKind: Double]
    /// Factor on the weight of a weak hit (1: as much as a strong one).
    public var weakWeight: Double
    /// When weak evidence counts toward a listing.
    public var corroboration: Corroboration
    /// Networks that scoring never lists (RFC 6890 special-purpose ranges by default).
    /// Manual and imported entries are not filtered.
    public var neverList: [IPPrefix]
    /// How kinds become the answer's code.
    public var codes: ReturnCodes
    /// Evidence retention: hits older than this (seconds; 90 days) are deleted by the
    /// running daemon (``Store/expire(zone:hitsOlderThan:changeLogOlderThan:retention:dryRun:actor:)``).
    /// At least the expiry and the corroboration window, so no listing rests on a deleted hit.
    public var keepHits: Int64
    /// Evidence retention: the newest hits kept per source (1,000); older ones beyond it go.
    public var maxHitsPerSource: Int
    /// The length an IPv6 source is scored at (64): a hit from an IPv6 address counts for
    /// the network of this length around it, so a host that rotates the addresses of its
    /// /64 is one source, and its listing covers the network. 128 scores each address
    /// alone. IPv4 sources are always single addresses.
    public var ipv6Prefix: Int

    /// The lengths `ipv6Prefix` may take: no shorter than a /32 (an ISP's allocation).
    public static let ipv6PrefixRange = 32...128

    /// What makes a weak hit count: within `window` before it (itself included), either a
    /// strong hit, or at least `weakHits` weak hits from at least `traps` distinct traps.
    /// An operator's `rbld confirm` makes the source's weak hits until then count too.
    public struct Corroboration: Codable, Hashable, Sendable {
        /// Weak hits needed within the window, the judged one included (2).
        public var weakHits: Int
        /// Distinct traps those weak hits must have reached (2).
        public var traps: Int
        /// How far back from a weak hit its corroboration may lie, in seconds (7 days: one
        /// score half-life, so the weak hits that corroborate each other still weigh at
        /// least half).
        public var window: Int64

        public init(weakHits: Int = 2, traps: Int = 2, window: Int64 = 7 * 86400) {
            self.weakHits = weakHits
            self.traps = traps
            self.window = window
        }
    }

    public init(halfLife: Int64 = 7 * 86400, threshold: Double = 1.0, expiry: Int64 = 28 * 86400,
                weights: [HitKind: Double] = [:], weakWeight: Double = 1.0, corroboration: Corroboration = Corroboration(),
                neverList: [IPPrefix] = ListingPolicy.specialPurposeRanges, codes: ReturnCodes = .defaults,
                keepHits: Int64 = 90 * 86400, maxHitsPerSource: Int = 1000, ipv6Prefix: Int = 64) {
        self.halfLife = halfLife
        self.threshold = threshold
        self.expiry = expiry
        self.weights = weights
        self.weakWeight = weakWeight
        self.corroboration = corroboration
        self.neverList = neverList
        self.codes = codes
        self.keepHits = keepHits
        self.maxHitsPerSource = maxHitsPerSource
        self.ipv6Prefix = ipv6Prefix
    }

    /// Reads a stored policy; keys added since it was written take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ListingPolicy()
        halfLife = try container.decode(Int64.self, forKey: .halfLife)
        threshold = try container.decode(Double.self, forKey: .threshold)
        expiry = try container.decode(Int64.self, forKey: .expiry)
        weights = try container.decode([HitKind: Double].self, forKey: .weights)
        weakWeight = try container.decodeIfPresent(Double.self, forKey: .weakWeight) ?? defaults.weakWeight
        corroboration = try container.decodeIfPresent(Corroboration.self, forKey: .corroboration) ?? defaults.corroboration
        neverList = try container.decode([IPPrefix].self, forKey: .neverList)
        codes = try container.decodeIfPresent(ReturnCodes.self, forKey: .codes) ?? defaults.codes
        keepHits = try container.decodeIfPresent(Int64.self, forKey: .keepHits) ?? defaults.keepHits
        maxHitsPerSource = try container.decodeIfPresent(Int.self, forKey: .maxHitsPerSource) ?? defaults.maxHitsPerSource
        ipv6Prefix = try container.decodeIfPresent(Int.self, forKey: .ipv6Prefix) ?? defaults.ipv6Prefix
    }

    /// The defaults of docs/POLICY.md.
    public static let defaults = ListingPolicy()

    public func weight(_ kind: HitKind) -> Double { weights[kind] ?? 1.0 }

    /// What a hit of `kind` adds to the score, with its evidence's strength.
    public func weight(_ kind: HitKind, _ strength: EvidenceStrength) -> Double {
        strength == .weak ? weight(kind) * weakWeight : weight(kind)
    }

    /// `score` observed at `from`, decayed to `to` (to ≥ from: halves every half-life).
    public func decay(_ score: Double, from: Int64, to: Int64) -> Double {
        guard halfLife > 0 else { return score }
        return score * exp2(-Double(to - from) / Double(halfLife))
    }

    /// The source a hit from `host` counts for: the host itself (IPv4, or `ipv6Prefix` 128),
    /// or the IPv6 network of `ipv6Prefix` bits around it.
    public func source(of host: IPPrefix) -> IPPrefix {
        guard host.family == .v6, ipv6Prefix < host.length else { return host }
        return host.truncated(to: max(ipv6Prefix, 0))
    }

    /// True when scoring must never list this address.
    public func isNeverListed(_ prefix: IPPrefix) -> Bool {
        neverList.contains { $0.contains(prefix) }
    }

    /// RFC 6890 special-purpose ranges (and their updates: RFC 6598 shared space, RFC 7526,
    /// RFC 8190), multicast and the IPv4 class E space: never a real mail source.
    public static let specialPurposeRanges: [IPPrefix] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/127", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64",
        "2001::/23", "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8",
    ].map { IPPrefix($0)! }
}
