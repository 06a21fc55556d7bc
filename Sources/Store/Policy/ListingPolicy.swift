// ListingPolicy.swift -- when a scored source is listed: decay, threshold, expiry, ranges.

import Foundation

/// The per-zone numbers of the listing policy (docs/POLICY.md).
///
/// A hit adds `weight(kind)` to the source's score, and the score halves every `halfLife`.
/// A listing starts when a hit brings the score to `threshold` (1.0 by default: one hit
/// lists), and lasts until `expiry` after the last hit; every hit while listed extends it.
/// So a listing ends at a known time (continuous expiry, no job needed), and a new one
/// needs the decayed score to reach the threshold again.
public struct ListingPolicy: Codable, Hashable, Sendable {
    /// Score half-life in seconds (7 days).
    public var halfLife: Int64
    /// Score a hit must bring the source to, to start a listing (1.0).
    public var threshold: Double
    /// Listing lifetime after the last hit, in seconds (28 days, as backscatterer.org).
    public var expiry: Int64
    /// Weight of a hit of each kind (1 for every kind by default).
    public var weights: [HitKind: Double]
    /// Networks that scoring never lists (RFC 6890 special-purpose ranges by default).
    /// Manual and imported entries are not filtered.
    public var neverList: [IPPrefix]

    public init(halfLife: Int64 = 7 * 86400, threshold: Double = 1.0, expiry: Int64 = 28 * 86400,
                weights: [HitKind: Double] = [:], neverList: [IPPrefix] = ListingPolicy.specialPurposeRanges) {
        self.halfLife = halfLife
        self.threshold = threshold
        self.expiry = expiry
        self.weights = weights
        self.neverList = neverList
    }

    /// The defaults of docs/POLICY.md.
    public static let defaults = ListingPolicy()

    public func weight(_ kind: HitKind) -> Double { weights[kind] ?? 1.0 }

    /// `score` observed at `from`, decayed to `to` (to ≥ from: halves every half-life).
    public func decay(_ score: Double, from: Int64, to: Int64) -> Double {
        guard halfLife > 0 else { return score }
        return score * exp2(-Double(to - from) / Double(halfLife))
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
