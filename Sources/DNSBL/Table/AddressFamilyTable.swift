// AddressFamilyTable.swift -- the frozen arrays of one address family and their lookup.

/// The frozen entries of one address family (IPv4 or IPv6), laid out for lookup.
///
/// Two parts, because DNSBL data is mostly single hosts plus a few CIDR blocks:
///
/// - **Hosts** (/32 or /128): a ``HostTable``, sorted keys in 256 shards of directory
///   buckets, each bucket one value of up to 16 bits of the key, so a lookup is one shard
///   read, two offsets and a search of a small bucket. Where the buckets fix all but the
///   low 16 bits (always for IPv4) only those are stored, in 2 bytes a host or, in a shard
///   of many hosts, packed into about 1.3 (``LowKeys``); elsewhere each key keeps the bytes
///   below its bucket bits (``KeyTails``, 14 for IPv6 hosts over 2000::/3). The hosts'
///   listings and expiries (``HostValues``, per shard) are stored only for the hosts that
///   differ from the common value, or per host when many differ; the common case (one
///   listing class, expiry handled elsewhere) costs only the key, half of rbldnsd's
///   ip4tset and a ninth of its ip4set, and a few hosts of another class or with an
///   expiry add 12 bytes each. Tables made by applying edits share the shards no edit
///   touched.
/// - **Ranges** (every shorter prefix): the nested prefixes flattened into sorted disjoint
///   intervals, each carrying the value of the longest covering prefix. Excluded stretches
///   are left out, so they read as gaps. The prefixes as inserted are kept too, for
///   enumeration and serialization; the intervals are derived from them. When the
///   prefixes are their own flattening (none nested or excluded, as with a list of
///   disjoint /24s or /64s), the intervals are read from the prefix arrays and not stored
///   a second time.
///
/// A host is always the longest match, so lookup tries the hosts first and falls back to
/// the intervals.
struct AddressFamilyTable<Key: TableKey>: Sendable {
    /// Host addresses, strictly increasing, with their values.
    let hosts: HostTable<Key>

    /// First addresses of the non-host prefixes as inserted, sorted by (start, length).
    let prefixStarts: [Key]
    /// Lengths of the non-host prefixes, parallel to `prefixStarts`.
    let prefixLengths: [UInt8]
    /// Values of the non-host prefixes, parallel to `prefixStarts`.
    let prefixValues: [TableValue]

    /// Whether the intervals are the prefixes themselves, one for one; the three interval
    /// arrays are then empty and the interval accessors read the prefix arrays.
    let prefixesAreFlat: Bool
    /// First addresses of the flattened intervals, strictly increasing.
    let rangeStarts: [Key]
    /// Last addresses of the flattened intervals; `rangeEnds[i] < rangeStarts[i + 1]`.
    let rangeEnds: [Key]
    /// The value of each interval, never an exclusion.
    let rangeValues: [TableValue]
    /// The blocks of the address space the intervals touch, read before they are searched.
    let intervalFilter: IntervalFilter<Key>

    /// A family with no entries.
    static var empty: Self {
        Self(hosts: .empty, prefixStarts: [], prefixLengths: [], prefixValues: [])
    }

    /// Builds the derived part (the intervals) from validated source arrays.
    ///
    /// - Important: The caller guarantees the invariants that ``sourceArraysAreValid``
    ///   checks: prefixes masked, in range and strictly increasing by (start, length),
    ///   parallel arrays of matching length.
    init(hosts: HostTable<Key>, prefixStarts: [Key], prefixLengths: [UInt8], prefixValues: [TableValue]) {
        self.hosts = hosts
        self.prefixStarts = prefixStarts
        self.prefixLengths = prefixLengths
        self.prefixValues = prefixValues
        let flat = Self.flatten(starts: prefixStarts, lengths: prefixLengths, values: prefixValues)
        prefixesAreFlat = Self.areTheirOwnFlattening(flat, starts: prefixStarts, lengths: prefixLengths, values: prefixValues)
        (rangeStarts, rangeEnds, rangeValues) = prefixesAreFlat ? ([], [], []) : flat
        intervalFilter = IntervalFilter(count: flat.starts.count, start: { flat.starts[$0] }, end: { flat.ends[$0] })
    }

    /// `hosts` with the prefixes of `other` and the intervals derived from them, whose
    /// arrays are shared rather than copied or derived again.
    init(hosts: HostTable<Key>, prefixesOf other: Self) {
        self.hosts = hosts
        prefixStarts = other.prefixStarts
        prefixLengths = other.prefixLengths
        prefixValues = other.prefixValues
        prefixesAreFlat = other.prefixesAreFlat
        rangeStarts = other.rangeStarts
        rangeEnds = other.rangeEnds
        rangeValues = other.rangeValues
        intervalFilter = other.intervalFilter
    }

    /// Whether `flat`, the flattening of the prefixes, is the prefixes one for one.
    static func areTheirOwnFlattening(_ flat: (starts: [Key], ends: [Key], values: [TableValue]),
                                      starts: [Key], lengths: [UInt8], values: [TableValue]) -> Bool {
        guard flat.starts == starts, flat.values == values else { return false }
        return starts.indices.allSatisfy {
            flat.ends[$0] == TablePrefix(address: starts[$0], prefixLength: Int(lengths[$0])).end
        }
    }

    /// The number of flattened intervals.
    var intervalCount: Int { prefixesAreFlat ? prefixStarts.count : rangeStarts.count }

    /// The first address of interval `index`.
    @inline(__always)
    func intervalStart(_ index: Int) -> Key { prefixesAreFlat ? prefixStarts[index] : rangeStarts[index] }

    /// The last address of interval `index`.
    @inline(__always)
    func intervalEnd(_ index: Int) -> Key {
        prefixesAreFlat
            ? prefixStarts[index] | ~Key.networkMask(prefixLength: Int(prefixLengths[index]))
            : rangeEnds[index]
    }

    /// The value of interval `index`, never an exclusion.
    @inline(__always)
    func intervalValue(_ index: Int) -> TableValue { prefixesAreFlat ? prefixValues[index] : rangeValues[index] }

    /// The last interval starting at or before `address`, if any.
    @inline(__always)
    func intervalIndex(notAfter address: Key) -> Int? {
        prefixesAreFlat
            ? SortedSearch.lastIndex(in: prefixStarts, from: 0, to: prefixStarts.count, notAfter: address)
            : SortedSearch.lastIndex(in: rangeStarts, from: 0, to: rangeStarts.count, notAfter: address)
    }

    /// The value of the interval holding `address`, if one does.
    @inline(__always)
    func intervalValue(covering address: Key) -> TableValue? {
        guard intervalFilter.mayHold(address), let index = intervalIndex(notAfter: address),
              address <= intervalEnd(index)
        else { return nil }
        return intervalValue(index)
    }

    /// Freezes builder contents: sorts, and stores the host values compactly.
    init(hosts: [Key: TableValue], prefixes: [TablePrefix<Key>: TableValue]) {
        // Directory offsets and serialized counts are UInt32; more would need tens of GiB anyway.
        precondition(hosts.count <= Int(UInt32.max) && prefixes.count <= Int(UInt32.max),
                     "too many entries for one table")
        var hostPairs = Array(hosts)
        hostPairs.sort { $0.key < $1.key }
        let hostTable = hostPairs.isEmpty ? HostTable<Key>.empty
            : HostTable(first: hostPairs[0].key, last: hostPairs[hostPairs.count - 1].key, count: hostPairs.count) { visit in
                for (key, value) in hostPairs { visit(key, value) }
            }
        hostPairs = []
        var prefixPairs = Array(prefixes)
        prefixPairs.sort { $0.key < $1.key }
        self.init(hosts: hostTable,
                  prefixStarts: prefixPairs.map(\.key.start), prefixLengths: prefixPairs.map(\.key.length),
                  prefixValues: prefixPairs.map(\.value))
    }

    /// The number of entries, hosts and shorter prefixes, exclusions included.
    var count: Int { hosts.count + prefixStarts.count }

    /// Bytes held by the arrays (element strides times counts).
    var memoryBytes: Int {
        hosts.memoryBytes
            + prefixStarts.count * MemoryLayout<Key>.stride
            + prefixLengths.count * MemoryLayout<UInt8>.stride
            + prefixValues.count * MemoryLayout<TableValue>.stride
            + rangeStarts.count * MemoryLayout<Key>.stride
            + rangeEnds.count * MemoryLayout<Key>.stride
            + rangeValues.count * MemoryLayout<TableValue>.stride
            + intervalFilter.memoryBytes
    }

    /// The value of the longest prefix covering `address`, or nil when none does or when
    /// that prefix is an exclusion. Never allocates.
    func lookup(_ address: Key) -> TableValue? {
        if let value = hosts.value(of: address) {
            return value.isExclusion ? nil : value
        }
        return intervalValue(covering: address)
    }

    /// The entry that answers for `address`, exclusions included: the host's own entry, or
    /// the interval of the longest covering prefix, or an exclusion that leaves a gap. For
    /// explaining an answer (the web lookup), not for serving: it may search every prefix
    /// length in a gap.
    func match(_ address: Key) -> TableMatch? {
        if let value = hosts.value(of: address) {
            return value.isExclusion ? .excluded : .host(value)
        }
        if let value = intervalValue(covering: address) { return .network(value) }
        // A gap: an exclusion of a shorter prefix, or nothing at all.
        for length in 0..<Key.bitWidth {
            let start = TablePrefix(address: address, prefixLength: length).start
            guard var index = SortedSearch.lastIndex(in: prefixStarts, from: 0, to: prefixStarts.count, notAfter: start) else { continue }
            // Several prefixes may share a start; the last one not after `start` is the longest.
            while index >= 0, prefixStarts[index] == start {
                if Int(prefixLengths[index]) == length && prefixValues[index].isExclusion { return .excluded }
                index -= 1
            }
        }
        return nil
    }

    /// Calls `body` with every entry, sorted by (start, length): the prefixes and the
    /// hosts merged, so an export comes out in address order.
    func forEachEntry(_ body: (TablePrefix<Key>, TableValue) -> Void) {
        var prefixIndex = 0
        func prefixes(through key: Key?) {
            // At equal starts the shorter prefix comes first, and a host is the longest.
            while prefixIndex < prefixStarts.count, key.map({ prefixStarts[prefixIndex] <= $0 }) ?? true {
                body(TablePrefix(address: prefixStarts[prefixIndex], prefixLength: Int(prefixLengths[prefixIndex])),
                     prefixValues[prefixIndex])
                prefixIndex += 1
            }
        }
        hosts.forEach { _, key, value in
            prefixes(through: key)
            body(TablePrefix(address: key, prefixLength: Key.bitWidth), value)
        }
        prefixes(through: nil)
    }

    /// Flattens nested prefixes into disjoint intervals valued by the longest cover.
    ///
    /// Prefixes form a laminar family (any two are nested or disjoint), and sorted by
    /// (start, length) each comes after all prefixes containing it. A sweep with a stack
    /// of open prefixes therefore emits every stretch of addresses once, with the value
    /// of the innermost open prefix. Exclusion stretches are dropped; adjacent stretches
    /// with equal values are merged.
    static func flatten(starts: [Key], lengths: [UInt8], values: [TableValue])
        -> (starts: [Key], ends: [Key], values: [TableValue]) {
        var outStarts: [Key] = []
        var outEnds: [Key] = []
        var outValues: [TableValue] = []

        func emit(_ first: Key, _ last: Key, _ value: TableValue) {
            guard !value.isExclusion else { return }
            if let previousEnd = outEnds.last, let previousValue = outValues.last,
               previousValue == value, previousEnd != Key.max, previousEnd + 1 == first {
                outEnds[outEnds.count - 1] = last
                return
            }
            outStarts.append(first)
            outEnds.append(last)
            outValues.append(value)
        }

        var open: [(end: Key, value: TableValue)] = []
        // The first address not yet emitted; only meaningful while `open` is not empty.
        var cursor: Key = 0
        for index in starts.indices {
            let prefix = TablePrefix(address: starts[index], prefixLength: Int(lengths[index]))
            // Close the open prefixes that end before this one starts.
            while let top = open.last, top.end < prefix.start {
                if cursor <= top.end { emit(cursor, top.end, top.value) }
                cursor = top.end + 1   // cannot overflow: top.end < prefix.start <= Key.max
                open.removeLast()
            }
            // The innermost open prefix (if any) contains this one: emit up to its start.
            if let top = open.last, cursor < prefix.start {
                emit(cursor, prefix.start - 1, top.value)
            }
            cursor = prefix.start
            open.append((prefix.end, values[index]))
        }
        // Close the rest, innermost first; an end of Key.max means everything is emitted.
        var finished = false
        while let top = open.popLast() {
            if !finished, cursor <= top.end { emit(cursor, top.end, top.value) }
            if top.end == Key.max { finished = true } else { cursor = top.end + 1 }
        }
        return (outStarts, outEnds, outValues)
    }
}
