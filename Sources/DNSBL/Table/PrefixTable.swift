// PrefixTable.swift -- the frozen, shareable longest-prefix-match table.

/// An immutable longest-prefix-match table of IPv4 and IPv6 prefixes, shared by all
/// serving threads of a zone snapshot.
///
/// Build one with ``PrefixTableBuilder``, or load one with ``init(serialized:)``. Lookups
/// never allocate, lock or trap. The longest prefix covering an address decides: when it
/// is an exclusion (``TableValue/excluded``) the address is not listed, even if a wider
/// prefix lists it; a listed host inside an excluded range is listed again.
///
/// Memory: an IPv4 host costs 2 bytes of key (the directory implies the upper 16 bits), an
/// IPv6 host 16 (2 when all IPv6 hosts lie in one /96); each family with hosts adds 256
/// shards' bucket offsets (257 KiB). Hosts that share the majority's listing and expiry
/// (of their shard) cost nothing more; each other host costs 12 bytes (its index and value) while that is less than storing a
/// listing (2 bytes) and an expiry (4 bytes) for every host, which is done otherwise. A shorter prefix costs its start, length and value (13 or 25 bytes), plus
/// its share of the flattened intervals when prefixes nest or exclude.
public final class PrefixTable: Sendable {
    let v4: AddressFamilyTable<UInt32>
    let v6: AddressFamilyTable<UInt128>

    init(v4: AddressFamilyTable<UInt32>, v6: AddressFamilyTable<UInt128>) {
        self.v4 = v4
        self.v6 = v6
    }

    /// A table with no entries: every lookup is nil.
    public static let empty = PrefixTable(v4: .empty, v6: .empty)

    /// The value of the longest prefix covering an IPv4 address.
    ///
    /// - Parameter address: The address as a host-order integer (`127.0.0.2` is `0x7F00_0002`).
    /// - Returns: The value, or nil when no prefix covers the address or the longest one
    ///   is an exclusion.
    public func lookup(v4 address: UInt32) -> TableValue? {
        v4.lookup(address)
    }

    /// The value of the longest prefix covering an IPv6 address; nil when none covers it
    /// or the longest one is an exclusion.
    public func lookup(v6 address: UInt128) -> TableValue? {
        v6.lookup(address)
    }

    /// The entry that answers for an IPv4 host address and its kind, exclusions included
    /// (``lookup(v4:)`` reads an exclusion as no entry); nil when no entry covers it.
    public func match(v4 address: UInt32) -> TableMatch? {
        v4.match(address)
    }

    /// The entry that answers for an IPv6 host address and its kind; nil when none covers it.
    public func match(v6 address: UInt128) -> TableMatch? {
        v6.match(address)
    }

    /// IPv4 entries, hosts and shorter prefixes, exclusions included.
    public var v4Count: Int { v4.count }

    /// IPv6 entries, hosts and shorter prefixes, exclusions included.
    public var v6Count: Int { v6.count }

    /// Bytes held by the table's arrays (not counting the object and array headers).
    public var memoryBytes: Int { v4.memoryBytes + v6.memoryBytes }

    /// Calls `body` with every entry: IPv4 first, then IPv6, each in address order
    /// (a shorter prefix before the longer ones starting at the same address).
    public func forEachEntry(_ body: (TableEntry) -> Void) {
        v4.forEachEntry { prefix, value in
            body(TableEntry(address: .v4(prefix.start), prefixLength: Int(prefix.length), value: value))
        }
        v6.forEachEntry { prefix, value in
            body(TableEntry(address: .v6(prefix.start), prefixLength: Int(prefix.length), value: value))
        }
    }

    /// A builder holding the same entries, for applying a delta and freezing again.
    public func builder() -> PrefixTableBuilder {
        PrefixTableBuilder(v4: AddressFamilyBuilder(v4), v6: AddressFamilyBuilder(v6))
    }

    /// Every broken internal invariant, described; empty for a consistent table. For tests.
    func invariantViolations() -> [String] {
        v4.invariantViolations().map { "v4: " + $0 } + v6.invariantViolations().map { "v6: " + $0 }
    }
}

/// What answers for a host address in a ``PrefixTable``.
public enum TableMatch: Hashable, Sendable {
    /// The address's own entry (/32 or /128).
    case host(TableValue)
    /// A shorter prefix, the longest listed one covering the address.
    case network(TableValue)
    /// An exclusion: of the address itself, or of a prefix covering it.
    case excluded
}
