// IntervalFilter.swift -- one bit a block of a family's address space: does an interval touch it?

/// Which blocks of a family's address space some interval (a listed network) touches: the
/// blocks are the values of the `blockBits` bits below the prefix every interval shares,
/// at least 16 bits and about eight blocks an interval, so that most blocks are empty.
///
/// A lookup that misses the hosts reads one bit of the filter before it searches the
/// intervals, a binary search of thousands of starts with a mispredicted branch at nearly
/// every step and a cache miss at its last ones, where most addresses lie in no listed
/// network: with 10,000 listed /24s (2^17 blocks, 16 KiB) nine lookups in ten stop at the
/// bit. The filter has no false negatives: every block from the one holding an interval's
/// first address to the one holding its last is marked.
struct IntervalFilter<Key: TableKey>: Sendable, Equatable {
    /// The bits all intervals share above the block bits (the bits below are zero).
    let base: Key
    /// How far a key is shifted right to bring its block bits to the bottom.
    let shift: Int
    /// How many bits pick a block: 16 to 24.
    let blockBits: Int
    /// One bit a block; empty when there are no intervals.
    let words: [UInt64]

    /// The filter of `count` sorted disjoint intervals, interval `i` from `start(i)` to `end(i)`.
    init(count: Int, start: (Int) -> Key, end: (Int) -> Key) {
        guard count > 0 else {
            (base, shift, blockBits, words) = (0, 0, 16, [])
            return
        }
        // About eight blocks an interval: ceil(log2(count)) + 3 bits.
        blockBits = Swift.min(24, Swift.max(16, Int.bitWidth - (count - 1).leadingZeroBitCount + 3))
        let first = start(0)
        // Sorted, so the first start and last end share exactly the prefix every interval shares.
        let commonBits = (first ^ end(count - 1)).leadingZeroBitCount
        shift = Swift.max(0, Key.bitWidth - blockBits - commonBits)
        base = first & Key.networkMask(prefixLength: Key.bitWidth - shift - blockBits)
        var words = [UInt64](repeating: 0, count: (1 << blockBits) / 64)
        for index in 0..<count {
            // Every interval lies between the first start and the last end, inside the
            // shared prefix; were one not to, it would mark every block, never too few.
            let firstBlock = Self.block(of: start(index), base: base, shift: shift, bits: blockBits) ?? 0
            let lastBlock = Self.block(of: end(index), base: base, shift: shift, bits: blockBits) ?? (1 << blockBits) - 1
            var block = firstBlock
            while block <= lastBlock {
                if block & 63 == 0 && lastBlock - block >= 63 {
                    words[block >> 6] = .max
                    block += 64
                } else {
                    words[block >> 6] |= 1 << UInt64(block & 63)
                    block += 1
                }
            }
        }
        self.words = words
    }

    /// The block `key` falls in; nil when it lies outside the prefix all intervals share.
    @inline(__always)
    func block(of key: Key) -> Int? {
        Self.block(of: key, base: base, shift: shift, bits: blockBits)
    }

    @inline(__always)
    private static func block(of key: Key, base: Key, shift: Int, bits: Int) -> Int? {
        // `>>` by the full width is 0.
        guard (key ^ base) >> (shift + bits) == 0 else { return nil }
        return Int(truncatingIfNeeded: key >> shift) & ((1 << bits) - 1)
    }

    /// False when no interval holds `key`; true when one may.
    @inline(__always)
    func mayHold(_ key: Key) -> Bool {
        guard !words.isEmpty, let block = block(of: key) else { return false }
        // Unchecked: a block is below 2^blockBits, 64 times the words.
        return words.withUnsafeBufferPointer { $0[block >> 6] } & 1 << UInt64(block & 63) != 0
    }

    var memoryBytes: Int { words.count * MemoryLayout<UInt64>.stride }
}
