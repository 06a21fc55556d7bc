// AddressFamilyBuilder.swift -- the mutable entries of one address family.

/// The entries of one address family while they are being edited.
///
/// Hash maps make inserts and removals O(1) and give last-write-wins for free; the
/// sorting happens once, in ``freeze()``.
struct AddressFamilyBuilder<Key: TableKey>: Sendable {
    /// Host entries (/32 or /128), keyed by address.
    var hosts: [Key: TableValue] = [:]
    /// Shorter prefixes, keyed by masked start and length.
    var prefixes: [TablePrefix<Key>: TableValue] = [:]

    var count: Int { hosts.count + prefixes.count }

    mutating func insert(_ address: Key, prefixLength: Int, value: TableValue) {
        precondition((0...Key.bitWidth).contains(prefixLength), "prefix length \(prefixLength) out of range")
        if prefixLength == Key.bitWidth {
            hosts[address] = value
        } else {
            prefixes[TablePrefix(address: address, prefixLength: prefixLength)] = value
        }
    }

    mutating func remove(_ address: Key, prefixLength: Int) {
        precondition((0...Key.bitWidth).contains(prefixLength), "prefix length \(prefixLength) out of range")
        if prefixLength == Key.bitWidth {
            hosts[address] = nil
        } else {
            prefixes[TablePrefix(address: address, prefixLength: prefixLength)] = nil
        }
    }

    func freeze() -> AddressFamilyTable<Key> {
        AddressFamilyTable(hosts: hosts, prefixes: prefixes)
    }

    /// A builder holding the entries of a frozen family.
    init(_ table: AddressFamilyTable<Key>) {
        hosts.reserveCapacity(table.hosts.count)
        table.hosts.forEach { _, key, value in hosts[key] = value }
        prefixes.reserveCapacity(table.prefixStarts.count)
        for index in table.prefixStarts.indices {
            prefixes[TablePrefix(address: table.prefixStarts[index], prefixLength: Int(table.prefixLengths[index]))] =
                table.prefixValues[index]
        }
    }

    init() {}
}
