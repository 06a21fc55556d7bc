// TableKey.swift -- the address integers a prefix table is generic over.

/// An address as an unsigned integer: `UInt32` for IPv4, `UInt128` for IPv6.
///
/// The frozen table is written once, generically, over this protocol; the module is
/// compiled whole, so the two instantiations are specialized and nothing is boxed.
protocol TableKey: FixedWidthInteger, UnsignedInteger, Sendable, Hashable {}

extension UInt32: TableKey {}
extension UInt128: TableKey {}

extension TableKey {
    /// The mask that keeps the first `prefixLength` bits (all zeros for /0).
    static func networkMask(prefixLength: Int) -> Self {
        // `<<` by the full bit width would be a smart shift to 0 anyway; spelled out for clarity.
        prefixLength == 0 ? 0 : Self.max << (Self.bitWidth - prefixLength)
    }
}

/// A prefix of a table key: its first address and its length.
///
/// Ordered by (start, length), which puts every prefix before the prefixes nested in it,
/// the order the flattening sweep needs.
struct TablePrefix<Key: TableKey>: Hashable, Sendable, Comparable {
    /// The first address; bits beyond `length` are zero.
    var start: Key
    /// The prefix length, 0...Key.bitWidth.
    var length: UInt8

    /// Masks `address` to `prefixLength` bits.
    init(address: Key, prefixLength: Int) {
        start = address & Key.networkMask(prefixLength: prefixLength)
        length = UInt8(truncatingIfNeeded: prefixLength)
    }

    /// The last address covered by the prefix.
    var end: Key { start | ~Key.networkMask(prefixLength: Int(length)) }

    static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.start != rhs.start ? lhs.start < rhs.start : lhs.length < rhs.length
    }
}
