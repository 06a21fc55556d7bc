// ClientPolicy.swift -- who is refused, who gets a fixed code, and daily query quotas.

/// Settings of the client policy (rbldnsd's `acl`, and the codes large DNSBLs answer to
/// clients they do not serve; docs/ABUSE.md).
public struct ClientPolicyConfiguration: Sendable, Equatable {
    /// Networks answered REFUSED, whatever they ask.
    public var refused: [ClientNetwork] = []
    /// Networks whose address queries are all answered with ``fixedCode`` and ``fixedText``
    /// (public and open resolvers, whose shared cache would spend one client's quota on all).
    public var fixedCodeNetworks: [ClientNetwork] = []
    /// The TXT answer to a fixed-code network; `$` becomes the queried address.
    public var fixedText = "Queries through public or open resolvers are not answered by this list; use your own resolver. Not a listing of $"
    /// Address queries one client network may make per UTC day; 0 = no quota.
    public var dailyQuota = 0
    /// Networks the quota does not count.
    public var quotaExempt: [ClientNetwork] = []
    /// The TXT answer once the quota is used up; `$` becomes the queried address.
    public var quotaText = "Daily query quota of this network exceeded; not a listing of $"
    /// Leading bits of an IPv4 / IPv6 source that make one network for the quota.
    public var ipv4PrefixLength = 24
    public var ipv6PrefixLength = 56
    /// Networks counted at once (rounded up to a power of two, 8 bytes each). When full, the
    /// network with the fewest queries today is forgotten first.
    public var quotaTableSize = 1 << 18

    public init() {}

    /// 127.255.255.254: the client is a public or open resolver (RFC 5782 §2.1 keeps
    /// 127.0.0.0/8 for answers; no listing code of a zone is ever this high).
    public static let fixedCode: UInt32 = 0x7FFF_FFFE
    /// 127.255.255.255: the client network has used up its daily quota.
    public static let overQuotaCode: UInt32 = 0x7FFF_FFFF
    /// The largest quota a table word can count (24 bits).
    public static let maxDailyQuota = (1 << 24) - 2
}

/// What the client policy says about one query.
enum ClientVerdict {
    case answer
    case fixedCode
    case overQuota
}

/// The client policy in force: network sets and the shared quota counters.
public final class ClientPolicy: Sendable {
    public let configuration: ClientPolicyConfiguration
    private let refusedNetworks: ClientNetworkSet
    private let fixedNetworks: ClientNetworkSet
    private let exemptNetworks: ClientNetworkSet
    private let quotaTable: AtomicWordTable?
    let fixedText: [UInt8]
    let quotaText: [UInt8]

    /// - Returns: nil when the policy does nothing (no networks, no quota).
    public init?(_ configuration: ClientPolicyConfiguration, seed: UInt64 = UInt64.random(in: .min ... .max)) {
        guard !configuration.refused.isEmpty || !configuration.fixedCodeNetworks.isEmpty || configuration.dailyQuota > 0
        else { return nil }
        self.configuration = configuration
        refusedNetworks = ClientNetworkSet(configuration.refused)
        fixedNetworks = ClientNetworkSet(configuration.fixedCodeNetworks)
        exemptNetworks = ClientNetworkSet(configuration.quotaExempt)
        quotaTable = configuration.dailyQuota > 0 ? AtomicWordTable(minimumWords: configuration.quotaTableSize, seed: seed) : nil
        fixedText = Array(configuration.fixedText.utf8)
        quotaText = Array(configuration.quotaText.utf8)
    }

    @inline(__always)
    func refuses(_ client: ClientAddress) -> Bool {
        refusedNetworks.contains(client)
    }

    /// The verdict on an address query from `client` on UTC day `day`; counts it against
    /// the client network's quota.
    @inline(__always)
    func verdict(for client: ClientAddress, day: UInt32) -> ClientVerdict {
        if fixedNetworks.contains(client) { return .fixedCode }
        guard let quotaTable, !exemptNetworks.contains(client) else { return .answer }
        let count = Self.count(client.prefix(v4: configuration.ipv4PrefixLength, v6: configuration.ipv6PrefixLength),
                               family: client.isIPv6, day: day, in: quotaTable)
        return count > configuration.dailyQuota ? .overQuota : .answer
    }

    // A word: 24-bit tag | 16-bit day (UTC days since 1970, modulo 2^16) | 24-bit count.
    private static let countMask: UInt64 = (1 << 24) - 1

    /// Adds one to the network's count of today and returns it; a count of an earlier day
    /// starts again at one. Lock-free as the rate limiter's buckets.
    @inline(__always)
    static func count(_ network: UInt128, family isIPv6: Bool, day: UInt32, in table: AtomicWordTable) -> Int {
        let (group, tag) = table.locate(network, isIPv6 ? 1 : 0)
        let today = UInt64(day & 0xFFFF)
        for _ in 0..<4 {
            // Empty words and counts of other days count as nothing: a new network takes one.
            let (slot, word, found) = table.probe(group: group, tag: tag) { word in
                (word >> 24) & 0xFFFF == today ? word & countMask : 0
            }
            let previous = found && (word >> 24) & 0xFFFF == today ? word & countMask : 0
            let next = min(previous &+ 1, countMask)                 // saturates at 2^24 - 1
            if table.replace(group: group, slot: slot, expected: word,
                             with: tag << AtomicWordTable.tagShift | today << 24 | next) {
                return Int(next)
            }
        }
        return 0  // lost every race to other threads: this one query is not counted
    }
}
