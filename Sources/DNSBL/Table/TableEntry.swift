// TableEntry.swift -- one prefix and its value, as enumerated from a frozen table.

/// One inserted prefix with its value.
///
/// ``PrefixTable/forEachEntry(_:)`` yields these, so exports and tests can see exactly
/// what was inserted (after masking of host bits and last-write-wins).
public struct TableEntry: Hashable, Sendable {
    /// The first address of the prefix, in its address family.
    public enum Address: Hashable, Sendable {
        /// An IPv4 address as a host-order integer (`10.1.2.3` is `0x0A01_0203`).
        case v4(UInt32)
        /// An IPv6 address as a host-order integer; v4-mapped addresses are plain v6 keys.
        case v6(UInt128)
    }

    /// The first address of the prefix; host bits beyond `prefixLength` are zero.
    public var address: Address
    /// The prefix length: 0...32 for IPv4, 0...128 for IPv6.
    public var prefixLength: Int
    /// The value stored for the prefix; ``TableValue/excluded`` for an exclusion.
    public var value: TableValue

    /// Creates an entry.
    public init(address: Address, prefixLength: Int, value: TableValue) {
        self.address = address
        self.prefixLength = prefixLength
        self.value = value
    }
}
