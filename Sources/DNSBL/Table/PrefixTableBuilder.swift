// PrefixTableBuilder.swift -- the mutable side of the prefix table.

/// Collects IPv4 and IPv6 prefixes with their values, then freezes them into a ``PrefixTable``.
///
/// A value type: copy it, apply a delta, freeze again. Inserting the same prefix twice
/// keeps the last value; host bits beyond the prefix length are ignored, so
/// `10.1.2.3/8` is `10.0.0.0/8`.
///
/// ```swift
/// var builder = PrefixTableBuilder()
/// builder.insert(v4: 0x0A00_0000, prefixLength: 8, value: TableValue(listing: 1))   // 10.0.0.0/8
/// builder.insert(v4: 0x0A01_0000, prefixLength: 16, value: .excluded)               // !10.1.0.0/16
/// let table = builder.freeze()
/// ```
public struct PrefixTableBuilder: Sendable {
    var v4: AddressFamilyBuilder<UInt32>
    var v6: AddressFamilyBuilder<UInt128>

    /// Creates an empty builder.
    public init() {
        v4 = AddressFamilyBuilder()
        v6 = AddressFamilyBuilder()
    }

    init(v4: AddressFamilyBuilder<UInt32>, v6: AddressFamilyBuilder<UInt128>) {
        self.v4 = v4
        self.v6 = v6
    }

    /// Sets the value of an IPv4 prefix, replacing any earlier value of the same prefix.
    ///
    /// - Parameters:
    ///   - address: Any address in the prefix, as a host-order integer.
    ///   - prefixLength: 0...32; 32 is a single host.
    ///   - value: The listing, or ``TableValue/excluded`` for a hole.
    /// - Precondition: `prefixLength` is in 0...32.
    public mutating func insert(v4 address: UInt32, prefixLength: Int, value: TableValue) {
        v4.insert(address, prefixLength: prefixLength, value: value)
    }

    /// Sets the value of an IPv6 prefix, replacing any earlier value of the same prefix.
    ///
    /// - Precondition: `prefixLength` is in 0...128.
    public mutating func insert(v6 address: UInt128, prefixLength: Int, value: TableValue) {
        v6.insert(address, prefixLength: prefixLength, value: value)
    }

    /// Removes the entry of exactly this IPv4 prefix, if present; wider and narrower
    /// prefixes stay.
    ///
    /// - Precondition: `prefixLength` is in 0...32.
    public mutating func remove(v4 address: UInt32, prefixLength: Int) {
        v4.remove(address, prefixLength: prefixLength)
    }

    /// Removes the entry of exactly this IPv6 prefix, if present.
    ///
    /// - Precondition: `prefixLength` is in 0...128.
    public mutating func remove(v6 address: UInt128, prefixLength: Int) {
        v6.remove(address, prefixLength: prefixLength)
    }

    /// The number of entries of both families, exclusions included.
    public var count: Int { v4.count + v6.count }

    /// Sorts the entries into an immutable table. O(n log n).
    public func freeze() -> PrefixTable {
        PrefixTable(v4: v4.freeze(), v6: v6.freeze())
    }
}
