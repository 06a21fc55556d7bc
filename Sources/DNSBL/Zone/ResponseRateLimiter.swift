// ResponseRateLimiter.swift -- response rate limiting (RRL) per client network and answer class.

/// Settings of response rate limiting, as Knot's and NSD's `rrl` (docs/ABUSE.md).
public struct RateLimitConfiguration: Sendable, Equatable {
    /// Responses per second to one client network in one answer class of one zone; 0 = off.
    public var rate = 0
    /// Every `slip`-th limited response is sent truncated (TC=1, no records) instead of
    /// dropped, so a real resolver behind a spoofed flood retries over TCP; 0 = drop all,
    /// 1 = truncate all.
    public var slip = 2
    /// Leading bits of an IPv4 source that make one client network (/24 by default).
    public var ipv4PrefixLength = 24
    /// Leading bits of an IPv6 source that make one client network (/56 by default).
    public var ipv6PrefixLength = 56
    /// Clients never limited (monitoring, known large resolvers).
    public var exempt: [ClientNetwork] = []
    /// Buckets in the shared table (rounded up to a power of two, 8 bytes each). When more
    /// networks are active at once, the bucket with the most room left is reused.
    public var tableSize = 1 << 16

    public init() {}
}

/// The answer classes that are limited apart (RFC-free, as Knot's and NSD's RRL): a flood
/// of one kind does not use up the allowance of another.
public enum ResponseClass: Int, CaseIterable, Sendable {
    /// NOERROR with records: a listing, the apex SOA or NS.
    case positive
    /// NOERROR without records (NODATA, empty non-terminals, answers truncated for size).
    case noData
    case nxDomain
    /// REFUSED, FORMERR, NOTIMP, BADVERS.
    case error

    /// The class of a written response, read from its header (RFC 1035 §4.1.1).
    @inline(__always)
    static func of(_ response: UnsafeMutableRawBufferPointer) -> ResponseClass {
        let rcode = response[3] & 0x0F
        if rcode == 3 { return .nxDomain }
        if rcode != 0 { return .error }
        return response[6] | response[7] == 0 ? .noData : .positive  // ANCOUNT
    }
}

/// Decides, per response, whether a UDP client network is over its rate.
///
/// One token bucket per (client network, answer class, zone), kept as the theoretical
/// arrival time of the generic cell rate algorithm: a bucket of `rate` tokens refilled at
/// `rate` per second is the same as "the next response is due `1/rate` s after the last
/// allowed one, and up to one second of them may be sent early". That is one timestamp per
/// bucket, which fits in one atomic word with its tag, so every serving thread shares the
/// table without a lock: the limit holds for a network whose queries the kernel spreads
/// over all UDP sockets (SO_REUSEPORT hashes source ports).
///
/// A word: 24-bit tag | 40-bit due time in microseconds of the monotonic clock, modulo 2^40
/// (12.7 days). A due time is never more than a second (plus the skew between threads'
/// clock readings) ahead of the clock, so a word that seems further ahead has wrapped
/// around: it is treated as a full bucket.
///
/// Time is injected (monotonic microseconds, read once per batch), so tests move it by hand.
public final class ResponseRateLimiter: Sendable {
    public let configuration: RateLimitConfiguration
    private let table: AtomicWordTable
    private let exempt: ClientNetworkSet
    /// Microseconds between two allowed responses at the steady rate.
    private let interval: UInt64
    /// How early responses may be sent: one second, so a burst of `rate` passes.
    static let window: UInt64 = 1_000_000

    /// - Returns: nil when `configuration.rate` is 0 (off).
    public init?(_ configuration: RateLimitConfiguration, seed: UInt64 = UInt64.random(in: .min ... .max)) {
        guard configuration.rate > 0 else { return nil }
        self.configuration = configuration
        table = AtomicWordTable(minimumWords: configuration.tableSize, seed: seed)
        exempt = ClientNetworkSet(configuration.exempt)
        interval = max(1, Self.window / UInt64(configuration.rate))
    }

    /// Every how many limited responses one is sent truncated; 0: none.
    @inline(__always)
    var slip: Int { configuration.slip }

    /// Whether a response of `responseClass` in zone `zone` may be sent to `client` at `now`
    /// (monotonic microseconds); counts it against the bucket when it may.
    @inline(__always)
    func admit(_ client: ClientAddress, responseClass: ResponseClass, zone: Int, now: UInt64) -> Bool {
        if exempt.contains(client) { return true }
        let network = client.prefix(v4: configuration.ipv4PrefixLength, v6: configuration.ipv6PrefixLength)
        // Class (2 bits), zone slot (< 256) and family make the rest of the key.
        let extra = UInt64(responseClass.rawValue) | UInt64(truncatingIfNeeded: zone) << 2 | (client.isIPv6 ? 1 << 12 : 0)
        let (group, tag) = table.locate(network, extra)
        let mask = AtomicWordTable.payloadMask
        let clock = now & mask
        // A few attempts; losing every race to other threads (the same network on several
        // sockets) lets the response pass rather than spin.
        for _ in 0..<4 {
            // A new key takes the bucket with the most room left (an empty or idle one).
            let (slot, word, found) = table.probe(group: group, tag: tag) { word in
                word == 0 ? 0 : Self.ahead(word & mask, of: clock)
            }
            var ahead: UInt64 = 0
            if found {
                ahead = Self.ahead(word & mask, of: clock)
                if ahead &+ interval > Self.window { return false }      // all ≤ 2 s in µs: no overflow
            }
            let due = (clock &+ ahead &+ interval) & mask
            if table.replace(group: group, slot: slot, expected: word, with: tag << AtomicWordTable.tagShift | due) {
                return true
            }
        }
        return true
    }

    /// How far `due` lies ahead of `clock` (both modulo 2^40); 0 when it has passed, or
    /// when it is further ahead than any live bucket can be (it wrapped).
    ///
    /// A live bucket can be a little more than `window` ahead of one thread's clock: each
    /// thread reads the clock once per batch, so another thread, with a later reading, may
    /// have moved the due time on. `skew` allows for that; anything further ahead is a
    /// due time that has passed, seen modulo 2^40.
    @inline(__always)
    static func ahead(_ due: UInt64, of clock: UInt64) -> UInt64 {
        let distance = (due &- clock) & AtomicWordTable.payloadMask
        return distance <= window &+ skew ? distance : 0
    }

    /// How far apart the clock readings of two serving threads may be: one batch's work,
    /// far less than this.
    static let skew: UInt64 = 1_000_000
}
