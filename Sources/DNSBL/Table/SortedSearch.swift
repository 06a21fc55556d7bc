// SortedSearch.swift -- the two binary searches over sorted arrays that the tables share.

/// Binary searches over sorted arrays: bucket offsets, keys, prefix starts, exception
/// indexes and edits all use these two.
enum SortedSearch {
    /// The last index in `start ..< end` of sorted `values` whose value is at most `target`.
    ///
    /// Branch-free halving: the step only picks between two indexes, which compiles to a
    /// conditional move. Addresses are random, so the branchy form mispredicts about
    /// every other step, and that, not memory, dominated lookups in cache.
    @inline(__always)
    static func lastIndex<Values: RandomAccessCollection>(in values: Values, from start: Int, to end: Int,
                                                          notAfter target: Values.Element) -> Int?
        where Values.Index == Int, Values.Element: Comparable {
        guard start < end, values[start] <= target else { return nil }
        var base = start
        var length = end - start
        while length > 1 {
            let half = length >> 1
            base = values[base + half] <= target ? base + half : base
            length -= half
        }
        return base
    }

    /// The first index in `range` of sorted `values` whose value is at least `target`
    /// (`range.upperBound` when there is none).
    static func firstIndex<Values: RandomAccessCollection>(in values: Values, in range: Range<Int>,
                                                           notBefore target: Values.Element) -> Int
        where Values.Index == Int, Values.Element: Comparable {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if values[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
