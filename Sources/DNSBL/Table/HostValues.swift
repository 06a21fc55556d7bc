// HostValues.swift -- the values of a family's hosts, stored for the hosts that differ.

/// The value (listing and expiry) of each host of a family, by host index, in the
/// smallest of three forms:
///
/// - **Uniform**: every host has `common`; nothing is stored per host.
/// - **Exceptions**: most hosts have `common`, and the few that do not are listed as
///   sorted host indexes with their values (12 bytes each). A host's value is one binary
///   search in that small index array, done only when it is not empty.
/// - **Full**: a listing per host, an expiry per host, or both (2 and 4 bytes a host),
///   the column whose values are all equal left empty and given by `common`.
///
/// The form is a function of the values alone (see ``Collector/finish()``), so equal
/// tables are laid out, and serialize, alike: exceptions when one value is held by a
/// majority of the hosts and the others cost less as exceptions than the full columns
/// would, the full columns otherwise.
struct HostValues: Sendable {
    /// The number of hosts.
    let count: Int
    /// The value of every host that the arrays below do not give; in the full form, the
    /// listing is 0 when `listings` is used and the expiry is 0 when `expiries` is used.
    /// (0, 0) when there are no hosts.
    let common: TableValue
    /// Full form: the listing of every host, or empty when all share `common.listing`.
    let listings: [UInt16]
    /// Full form: the expiry of every host, or empty when all share `common.expires`.
    let expiries: [UInt32]
    /// Exception form: the indexes of the hosts whose value is not `common`, strictly
    /// increasing. Empty in the other forms.
    let exceptionIndexes: [UInt32]
    /// The values of the hosts at `exceptionIndexes`, parallel to it, never `common`.
    let exceptionValues: [TableValue]

    /// Bytes an exception costs.
    static let exceptionBytes = MemoryLayout<UInt32>.stride + MemoryLayout<TableValue>.stride

    /// No hosts.
    static let empty = HostValues(count: 0, common: TableValue(listing: 0), listings: [], expiries: [],
                                  exceptionIndexes: [], exceptionValues: [])

    /// Every one of `count` hosts has `value`.
    static func uniform(_ value: TableValue, count: Int) -> HostValues {
        count == 0 ? .empty
            : HostValues(count: count, common: value, listings: [], expiries: [], exceptionIndexes: [], exceptionValues: [])
    }

    /// Whether the values are the full columns (at least one of them stored).
    var isFull: Bool { !listings.isEmpty || !expiries.isEmpty }

    /// The value of host `index`.
    @inline(__always)
    subscript(index: Int) -> TableValue {
        if !exceptionIndexes.isEmpty {
            let position = exceptionPosition(notBefore: index)
            if position < exceptionIndexes.count, Int(exceptionIndexes[position]) == index {
                return exceptionValues[position]
            }
            return common
        }
        return TableValue(listing: listings.isEmpty ? common.listing : listings[index],
                          expires: expiries.isEmpty ? common.expires : expiries[index])
    }

    /// The value of host `index`, for hosts visited in increasing order: `position`
    /// (0 before the first host) follows the exceptions, so a walk of all hosts does not
    /// search.
    @inline(__always)
    func value(at index: Int, following position: inout Int) -> TableValue {
        guard !exceptionIndexes.isEmpty else { return self[index] }
        while position < exceptionIndexes.count, Int(exceptionIndexes[position]) < index { position += 1 }
        return position < exceptionIndexes.count && Int(exceptionIndexes[position]) == index
            ? exceptionValues[position] : common
    }

    /// The position of the first exception whose host index is at least `index`.
    @inline(__always)
    func exceptionPosition(notBefore index: Int) -> Int {
        // Host indexes within a shard fit in UInt32 (checked when freezing or loading).
        SortedSearch.firstIndex(in: exceptionIndexes, in: exceptionIndexes.indices,
                                notBefore: UInt32(clamping: index))
    }

    /// Bytes held by the arrays.
    var memoryBytes: Int {
        listings.count * MemoryLayout<UInt16>.stride + expiries.count * MemoryLayout<UInt32>.stride
            + exceptionIndexes.count * Self.exceptionBytes
    }

    /// Bytes a host costs in the full form, given which columns hold more than one value.
    static func fullBytesPerHost(listingsDiffer: Bool, expiriesDiffer: Bool) -> Int {
        (listingsDiffer ? MemoryLayout<UInt16>.stride : 0) + (expiriesDiffer ? MemoryLayout<UInt32>.stride : 0)
    }

    /// The exception form of full-form values, if it is the smaller: the majority value
    /// and the hosts without it, when they cost less than the columns. O(n); stops
    /// collecting as soon as the exceptions cost as much as the columns.
    func exceptionsOfFullForm() -> (common: TableValue, indexes: [UInt32], values: [TableValue])? {
        guard isFull, count > 0 else { return nil }
        let fullBytes = count * Self.fullBytesPerHost(listingsDiffer: !listings.isEmpty, expiriesDiffer: !expiries.isEmpty)
        // Boyer-Moore majority vote: the only value that can hold a majority.
        var candidate = self[0]
        var votes = 0
        for index in 0..<count {
            let value = self[index]
            if votes == 0 {
                candidate = value
                votes = 1
            } else {
                votes += value == candidate ? 1 : -1
            }
        }
        var indexes: [UInt32] = []
        var values: [TableValue] = []
        for index in 0..<count where self[index] != candidate {
            guard (indexes.count + 1) * Self.exceptionBytes < fullBytes else { return nil }
            indexes.append(UInt32(index))
            values.append(self[index])
        }
        return (candidate, indexes, values)
    }

    /// What breaks the invariants of `count` host values, or nil: arrays of the right
    /// lengths, exceptions sorted, in range and not `common`, and the form the one
    /// ``Collector/finish()`` chooses. O(n).
    var violation: String? {
        if count == 0 {
            return common == TableValue(listing: 0) && !isFull && exceptionIndexes.isEmpty && exceptionValues.isEmpty
                ? nil : "host values stored without hosts"
        }
        guard listings.isEmpty || listings.count == count, expiries.isEmpty || expiries.count == count,
              exceptionIndexes.count == exceptionValues.count
        else { return "per-host arrays of mismatched lengths" }
        if !exceptionIndexes.isEmpty {
            if isFull { return "both exceptions and per-host arrays" }
            guard zip(exceptionIndexes, exceptionIndexes.dropFirst()).allSatisfy({ $0 < $1 }),
                  Int(exceptionIndexes[exceptionIndexes.count - 1]) < count
            else { return "exception indexes unsorted or out of range" }
            if exceptionValues.contains(common) { return "an exception has the common value" }
            let fullBytes = count * Self.fullBytesPerHost(
                listingsDiffer: exceptionValues.contains { $0.listing != common.listing },
                expiriesDiffer: exceptionValues.contains { $0.expires != common.expires })
            if exceptionIndexes.count * Self.exceptionBytes >= fullBytes { return "exceptions larger than per-host arrays" }
            return nil
        }
        if !listings.isEmpty, common.listing != 0 || listings.allSatisfy({ $0 == listings[0] }) {
            return "per-host listings stored although all are equal"
        }
        if !expiries.isEmpty, common.expires != 0 || expiries.allSatisfy({ $0 == expiries[0] }) {
            return "per-host expiries stored although all are equal"
        }
        if exceptionsOfFullForm() != nil { return "per-host arrays larger than exceptions" }
        return nil
    }
}

extension HostValues {
    /// Takes the values of the hosts in host order and keeps them in the smaller form:
    /// the hosts that differ from the first value while they are few, the full columns
    /// once the exceptions would outgrow them (`capacity`, an upper bound of the host
    /// count, bounds the columns). Hosts that all share one value allocate nothing.
    struct Collector {
        private let capacity: Int
        /// The hosts added so far.
        private(set) var count = 0
        /// The value of the first host, which the exceptions differ from.
        private var first = TableValue(listing: 0)
        private var indexes: [UInt32] = []
        private var values: [TableValue] = []
        /// Whether the values went to the columns.
        private var spilled = false
        private var listings: HostColumn<UInt16>
        private var expiries: HostColumn<UInt32>

        init(capacity: Int) {
            self.capacity = capacity
            listings = HostColumn(capacity: capacity)
            expiries = HostColumn(capacity: capacity)
        }

        /// Adds `value` for each of the next `times` hosts.
        mutating func append(_ value: TableValue, times: Int = 1) {
            guard times > 0 else { return }
            if count == 0 { first = value }
            if !spilled, value != first,
               (indexes.count + times) * HostValues.exceptionBytes
                   > capacity * HostValues.fullBytesPerHost(listingsDiffer: true, expiriesDiffer: true) {
                spill()
            }
            if spilled {
                listings.append(value.listing, times: times)
                expiries.append(value.expires, times: times)
            } else if value != first {
                for index in count..<(count + times) {
                    indexes.append(UInt32(truncatingIfNeeded: index))
                    values.append(value)
                }
            }
            count += times
        }

        /// Adds the values of `source`'s hosts in `range`: runs of the common value at
        /// once, full columns as slices.
        mutating func append(_ source: HostValues, range: Range<Int>) {
            if !source.isFull {
                var next = range.lowerBound
                var position = source.exceptionPosition(notBefore: range.lowerBound)
                while position < source.exceptionIndexes.count, Int(source.exceptionIndexes[position]) < range.upperBound {
                    let index = Int(source.exceptionIndexes[position])
                    append(source.common, times: index - next)
                    append(source.exceptionValues[position])
                    next = index + 1
                    position += 1
                }
                append(source.common, times: range.upperBound - next)
                return
            }
            // Columns beget columns: spilled now, the slices are copied whole, and
            // `finish()` still picks exceptions if they come out smaller.
            guard !range.isEmpty else { return }
            if count == 0 { first = source[range.lowerBound] }
            spill()
            let rest = range
            if source.listings.isEmpty {
                listings.append(source.common.listing, times: rest.count)
            } else {
                listings.append(contentsOf: source.listings[rest])
            }
            if source.expiries.isEmpty {
                expiries.append(source.common.expires, times: rest.count)
            } else {
                expiries.append(contentsOf: source.expiries[rest])
            }
            count += rest.count
        }

        /// Moves the exceptions into the columns.
        private mutating func spill() {
            guard !spilled else { return }
            spilled = true
            var next = 0
            for (index, value) in zip(indexes, values) {
                listings.append(first.listing, times: Int(index) - next)
                expiries.append(first.expires, times: Int(index) - next)
                listings.append(value.listing)
                expiries.append(value.expires)
                next = Int(index) + 1
            }
            listings.append(first.listing, times: count - next)
            expiries.append(first.expires, times: count - next)
            indexes = []
            values = []
        }

        /// The values added, in the smaller form: exceptions when a majority value
        /// exists and the other hosts cost less as exceptions than as full columns.
        mutating func finish() -> HostValues {
            guard count > 0 else { return .empty }
            if !spilled {
                if indexes.isEmpty { return .uniform(first, count: count) }
                let fullBytes = count * HostValues.fullBytesPerHost(
                    listingsDiffer: values.contains { $0.listing != first.listing },
                    expiriesDiffer: values.contains { $0.expires != first.expires })
                if indexes.count * HostValues.exceptionBytes < fullBytes {
                    return HostValues(count: count, common: first, listings: [], expiries: [],
                                      exceptionIndexes: indexes, exceptionValues: values)
                }
                spill()
            }
            let listingsShared = listings.values.isEmpty ? listings.shared ?? 0 : nil
            let expiriesShared = expiries.values.isEmpty ? expiries.shared ?? 0 : nil
            if let listingsShared, let expiriesShared {
                return .uniform(TableValue(listing: listingsShared, expires: expiriesShared), count: count)
            }
            let columns = HostValues(count: count,
                                     common: TableValue(listing: listingsShared ?? 0, expires: expiriesShared ?? 0),
                                     listings: listings.values, expiries: expiries.values,
                                     exceptionIndexes: [], exceptionValues: [])
            guard let exceptions = columns.exceptionsOfFullForm() else { return columns }
            return HostValues(count: count, common: exceptions.common, listings: [], expiries: [],
                              exceptionIndexes: exceptions.indexes, exceptionValues: exceptions.values)
        }
    }
}
