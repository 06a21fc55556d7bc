// AddressFamilyTable+Invariants.swift -- checks that loading and tests rely on.

extension AddressFamilyTable {
    /// Whether source arrays (as read from a serialized table) may be frozen as they are.
    ///
    /// Checks everything the lookup's bounds and the flattening sweep depend on, but the
    /// order of the hosts (``HostTable`` checks that): host values for every host and in
    /// their one form (``HostValues/violation``), parallel arrays of matching length,
    /// prefix lengths shorter than a host, host bits clear, prefixes strictly increasing by
    /// (start, length). O(n), no allocation but the exceptions a full form would have.
    static func sourceArraysAreValid(
        hostCount: Int, hostValues: HostValues,
        prefixStarts: [Key], prefixLengths: [UInt8], prefixValues: [TableValue]
    ) -> Bool {
        guard hostCount <= Int(UInt32.max), prefixStarts.count <= Int(UInt32.max),
              hostValues.count == hostCount, hostValues.violation == nil,
              prefixLengths.count == prefixStarts.count, prefixValues.count == prefixStarts.count
        else { return false }
        var previous: TablePrefix<Key>?
        for index in prefixStarts.indices {
            guard Int(prefixLengths[index]) < Key.bitWidth else { return false }
            let prefix = TablePrefix(address: prefixStarts[index], prefixLength: Int(prefixLengths[index]))
            guard prefix.start == prefixStarts[index] else { return false }
            if let previous, !(previous < prefix) { return false }
            previous = prefix
        }
        return true
    }

    /// Every broken invariant, described; empty when the family is consistent.
    ///
    /// Checks the source arrays, the host layout and its directory, the intervals for
    /// order, disjointness and the absence of exclusions, and that the intervals are
    /// exactly the flattening of the prefixes. For tests; O(n) plus one re-flattening.
    func invariantViolations() -> [String] {
        var problems: [String] = []
        if !Self.sourceArraysAreValid(
            hostCount: hosts.count, hostValues: hosts.globalValues(),
            prefixStarts: prefixStarts, prefixLengths: prefixLengths, prefixValues: prefixValues) {
            problems.append("source arrays unsorted, unmasked or of mismatched lengths")
        }
        problems += hosts.invariantViolations()
        guard rangeStarts.count == rangeEnds.count, rangeStarts.count == rangeValues.count else {
            problems.append("interval arrays of mismatched lengths")
            return problems
        }
        for index in 0..<intervalCount {
            if intervalStart(index) > intervalEnd(index) { problems.append("interval \(index) is inverted") }
            if index > 0, intervalEnd(index - 1) >= intervalStart(index) {
                problems.append("intervals \(index - 1) and \(index) overlap or are unsorted")
            }
            if intervalValue(index).isExclusion { problems.append("interval \(index) is an exclusion") }
        }
        let expected = Self.flatten(starts: prefixStarts, lengths: prefixLengths, values: prefixValues)
        let ownFlattening = Self.areTheirOwnFlattening(expected, starts: prefixStarts, lengths: prefixLengths, values: prefixValues)
        if prefixesAreFlat != ownFlattening {
            problems.append(prefixesAreFlat ? "prefixes marked flat but nest or exclude" : "flat prefixes stored twice")
        }
        if prefixesAreFlat && !rangeStarts.isEmpty { problems.append("interval arrays stored for flat prefixes") }
        let filter = IntervalFilter(count: expected.starts.count, start: { expected.starts[$0] }, end: { expected.ends[$0] })
        if intervalFilter != filter { problems.append("interval filter is not the intervals'") }
        let actual = (0..<intervalCount).map { (intervalStart($0), intervalEnd($0), intervalValue($0)) }
        if actual.count != expected.starts.count
            || !zip(actual, expected.starts.indices).allSatisfy({ interval, index in
                interval.0 == expected.starts[index] && interval.1 == expected.ends[index] && interval.2 == expected.values[index]
            }) {
            problems.append("intervals are not the flattening of the prefixes")
        }
        return problems
    }
}
