// ClientNetworkSet.swift -- client networks from a configuration, and sets of them.

/// A network of client addresses, as written in a configuration (`192.0.2.0/24`, `2001:db8::/32`).
public struct ClientNetwork: Hashable, Sendable {
    public let isIPv6: Bool
    /// The network's address: IPv4 in the low 32 bits.
    public let address: UInt128
    public let prefixLength: Int

    /// - Returns: nil when the prefix length is out of range for the family.
    public init?(isIPv6: Bool, address: UInt128, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= (isIPv6 ? 128 : 32) else { return nil }
        guard isIPv6 || address <= UInt128(UInt32.max) else { return nil }
        self.isIPv6 = isIPv6
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `client` lies in this network (an IPv4-mapped IPv6 client is its IPv4
    /// address, as ``ClientAddress`` holds it). For a short list, such as a zone's transfer
    /// access list; a ``ClientNetworkSet`` answers for many networks at once.
    public func contains(_ client: ClientAddress) -> Bool {
        guard client.isIPv6 == isIPv6 else { return false }
        let hostBits = (isIPv6 ? 128 : 32) - prefixLength
        return hostBits >= 128 || client.bits >> UInt128(hostBits) == address >> UInt128(hostBits)
    }
}

/// A set of client networks, asked per query whether it holds an address.
///
/// Backed by a frozen ``PrefixTable``, so a lookup is a binary search, the same cost as a
/// listing lookup, whatever the number of networks.
public struct ClientNetworkSet: Sendable {
    private let table: PrefixTable
    public let isEmpty: Bool

    public init(_ networks: [ClientNetwork]) {
        var builder = PrefixTableBuilder()
        for network in networks {
            if network.isIPv6 {
                builder.insert(v6: network.address, prefixLength: network.prefixLength, value: TableValue(listing: 1))
            } else {
                builder.insert(v4: UInt32(truncatingIfNeeded: network.address), prefixLength: network.prefixLength,
                               value: TableValue(listing: 1))
            }
        }
        table = builder.freeze()
        isEmpty = networks.isEmpty
    }

    @inline(__always)
    public func contains(_ client: ClientAddress) -> Bool {
        if isEmpty { return false }
        if client.isIPv6 { return table.lookup(v6: client.bits) != nil }
        return table.lookup(v4: UInt32(truncatingIfNeeded: client.bits)) != nil
    }
}
