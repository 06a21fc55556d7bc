// PrefixTableDelta.swift -- edits to a frozen table, applied by one merge.

/// Inserts and removals to apply to a frozen ``PrefixTable`` with
/// ``PrefixTable/applying(_:)``.
///
/// The live-update path: a change batch of a few thousand prefixes is merged into the
/// table's sorted arrays in one linear pass, so no editable copy of a large table
/// (``PrefixTableBuilder``'s hash maps, about 40 bytes an entry) has to be kept between
/// changes, and nothing is sorted again but the edits themselves. Later edits of the same
/// prefix win; host bits beyond the prefix length are ignored, as in the builder.
///
/// ```swift
/// var delta = PrefixTableDelta()
/// delta.insert(v4: 0xC633_6407, prefixLength: 32, value: TableValue(listing: 1))   // 198.51.100.7
/// delta.remove(v4: 0x0A00_0000, prefixLength: 8)                                  // 10.0.0.0/8
/// let next = table.applying(delta)
/// ```
public struct PrefixTableDelta: Sendable, PrefixTableEditor {
    var v4: [TableEdit<UInt32>] = []
    var v6: [TableEdit<UInt128>] = []

    /// An empty delta.
    public init() {}

    /// The number of edits recorded, both families.
    public var count: Int { v4.count + v6.count }

    /// Sets the value of an IPv4 prefix.
    ///
    /// - Precondition: `prefixLength` is in 0...32.
    public mutating func insert(v4 address: UInt32, prefixLength: Int, value: TableValue) {
        precondition((0...32).contains(prefixLength), "prefix length \(prefixLength) out of range")
        v4.append(TableEdit(prefix: TablePrefix(address: address, prefixLength: prefixLength), value: value))
    }

    /// Sets the value of an IPv6 prefix.
    ///
    /// - Precondition: `prefixLength` is in 0...128.
    public mutating func insert(v6 address: UInt128, prefixLength: Int, value: TableValue) {
        precondition((0...128).contains(prefixLength), "prefix length \(prefixLength) out of range")
        v6.append(TableEdit(prefix: TablePrefix(address: address, prefixLength: prefixLength), value: value))
    }

    /// Removes exactly this IPv4 prefix, if the table has it.
    ///
    /// - Precondition: `prefixLength` is in 0...32.
    public mutating func remove(v4 address: UInt32, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "prefix length \(prefixLength) out of range")
        v4.append(TableEdit(prefix: TablePrefix(address: address, prefixLength: prefixLength), value: nil))
    }

    /// Removes exactly this IPv6 prefix, if the table has it.
    ///
    /// - Precondition: `prefixLength` is in 0...128.
    public mutating func remove(v6 address: UInt128, prefixLength: Int) {
        precondition((0...128).contains(prefixLength), "prefix length \(prefixLength) out of range")
        v6.append(TableEdit(prefix: TablePrefix(address: address, prefixLength: prefixLength), value: nil))
    }
}

/// The editing operations ``PrefixTableBuilder`` and ``PrefixTableDelta`` share, so code
/// that turns listings into table entries serves both.
public protocol PrefixTableEditor {
    mutating func insert(v4 address: UInt32, prefixLength: Int, value: TableValue)
    mutating func insert(v6 address: UInt128, prefixLength: Int, value: TableValue)
    mutating func remove(v4 address: UInt32, prefixLength: Int)
    mutating func remove(v6 address: UInt128, prefixLength: Int)
}

extension PrefixTableBuilder: PrefixTableEditor {}

/// One edit: a value to set, or nil to remove the prefix.
struct TableEdit<Key: TableKey>: Sendable {
    var prefix: TablePrefix<Key>
    var value: TableValue?
}

extension PrefixTable {
    /// This table with `delta` applied: O(n + d log d) for n entries and d edits, one
    /// pass over the arrays. The result equals freezing a builder of this table's entries
    /// with the same edits.
    public func applying(_ delta: PrefixTableDelta) -> PrefixTable {
        guard delta.count > 0 else { return self }
        return PrefixTable(v4: v4.applying(delta.v4), v6: v6.applying(delta.v6))
    }
}

extension AddressFamilyTable {
    /// This family with `edits` applied (later edits of a prefix win).
    func applying(_ edits: [TableEdit<Key>]) -> Self {
        guard !edits.isEmpty else { return self }
        // Sorted by prefix, the last edit of each prefix kept (the sort is stable on the index).
        let order = edits.indices.sorted {
            edits[$0].prefix != edits[$1].prefix ? edits[$0].prefix < edits[$1].prefix : $0 < $1
        }
        var hostEdits: [TableEdit<Key>] = []
        var prefixEdits: [TableEdit<Key>] = []
        for (position, index) in order.enumerated() {
            if position + 1 < order.count, edits[order[position + 1]].prefix == edits[index].prefix { continue }
            if Int(edits[index].prefix.length) == Key.bitWidth {
                hostEdits.append(edits[index])
            } else {
                prefixEdits.append(edits[index])
            }
        }

        // Hosts: only the shards the edits fall in are rebuilt; the others are shared.
        let newHosts = hosts.applying(hostEdits)
        precondition(newHosts.count <= Int(UInt32.max), "too many entries for one table")
        // Host edits alone (every hit, most imports) leave the prefixes and their intervals
        // as they are: shared, not copied and flattened again.
        guard !prefixEdits.isEmpty else { return Self(hosts: newHosts, prefixesOf: self) }

        // Shorter prefixes: few, merged one by one.
        var starts: [Key] = []
        var lengths: [UInt8] = []
        var values: [TableValue] = []
        var index = 0
        func copyPrefix() {
            starts.append(prefixStarts[index])
            lengths.append(prefixLengths[index])
            values.append(prefixValues[index])
            index += 1
        }
        for edit in prefixEdits {
            while index < prefixStarts.count,
                  TablePrefix(address: prefixStarts[index], prefixLength: Int(prefixLengths[index])) < edit.prefix {
                copyPrefix()
            }
            if index < prefixStarts.count, prefixStarts[index] == edit.prefix.start, prefixLengths[index] == edit.prefix.length {
                index += 1
            }
            if let value = edit.value {
                starts.append(edit.prefix.start)
                lengths.append(edit.prefix.length)
                values.append(value)
            }
        }
        while index < prefixStarts.count { copyPrefix() }

        precondition(starts.count <= Int(UInt32.max), "too many entries for one table")
        return Self(hosts: newHosts, prefixStarts: starts, prefixLengths: lengths, prefixValues: values)
    }
}
