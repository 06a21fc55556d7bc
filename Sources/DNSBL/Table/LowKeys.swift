// LowKeys.swift -- the stored 16 bits of a dense shard's keys: 2 bytes each, or packed into about 1.1.

import CMemoryHints

/// The low 16 bits of the keys of one ``HostShard`` in the dense layout, strictly
/// increasing inside each of its buckets, in the smaller of two forms:
///
/// - **plain**: one `UInt16` per host;
/// - **packed** (Elias–Fano): bits 0–7 of each key in a byte per host, bits 8–15 in unary
///   in one bit array. Host `i` (its index in the shard) of local bucket `b` whose bits
///   8–15 are `mid` sets bit `i + 256 b + mid`. Bucket `b`'s run of bits starts at
///   `start(b) + 256 b` and holds its hosts' ones and 256 zeros: the hosts whose bits 8–15
///   are `mid` are the ones right before the run's zero number `mid + 1`.
///
/// A packed shard costs 1 + 1/8 bytes per host and 256 bits per bucket (8 KiB a shard),
/// so it is chosen only where that is smaller, in practice from about 9,400 hosts a shard:
/// 10M IPv4 hosts take 1.33 bytes each instead of 2, close to the 1.25 that any encoding
/// of 10M random public addresses needs. A lookup reads the bucket's run of bits from its
/// start (a few words: 256 zeros and the bucket's ones, one or two cache lines) and the
/// bytes of the hosts whose bits 8–15 are the key's: usually none or one.
struct LowKeys: Sendable {
    /// Every key's low 16 bits (plain form); empty when packed.
    private let plain: [UInt16]
    /// Bits 0–7 of every key (packed form); empty when plain.
    private let bytes: [UInt8]
    /// Bits 8–15 of every key in unary (packed form); empty when plain.
    private let unary: [UInt64]

    /// Zeros in each bucket's run of unary bits: one per value of bits 8–15.
    static var zerosPerBucket: Int { 256 }

    /// `lows` of the hosts of `HostLayout.denseBucketsPerShard` buckets, bucket `b` holding
    /// `offsets[b] ..< offsets[b + 1]`, in the form `packed` names or, when nil, the smaller.
    init(_ lows: [UInt16], offsets: [UInt32], packed: Bool? = nil) {
        let buckets = offsets.count - 1
        guard packed ?? Self.packs(count: lows.count, buckets: buckets), !lows.isEmpty else {
            plain = lows
            bytes = []
            unary = []
            return
        }
        var unary = [UInt64](repeating: 0, count: Self.words(count: lows.count, buckets: buckets))
        for bucket in 0..<buckets {
            for index in Int(offsets[bucket])..<Int(offsets[bucket + 1]) {
                let position = index + bucket * Self.zerosPerBucket + Int(lows[index] >> 8)
                unary[position >> 6] |= 1 << UInt64(position & 63)
            }
        }
        plain = []
        bytes = lows.map { UInt8(truncatingIfNeeded: $0) }
        self.unary = unary
    }

    /// Whether `count` hosts in `buckets` buckets take fewer bytes packed than plain.
    static func packs(count: Int, buckets: Int) -> Bool {
        count + words(count: count, buckets: buckets) * MemoryLayout<UInt64>.stride < count * MemoryLayout<UInt16>.stride
    }

    private static func words(count: Int, buckets: Int) -> Int {
        (count + buckets * zerosPerBucket + 63) / 64
    }

    var count: Int { plain.count + bytes.count }
    var isEmpty: Bool { count == 0 }
    var isPacked: Bool { !bytes.isEmpty }

    var memoryBytes: Int {
        plain.count * MemoryLayout<UInt16>.stride + bytes.count + unary.count * MemoryLayout<UInt64>.stride
    }

    /// The index of `low` among the hosts `range` of `bucket`, if it is one. Never allocates.
    @inline(__always)
    func index(of low: UInt16, bucket: Int, in range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        guard isPacked else {
            guard let index = SortedSearch.lastIndex(in: plain, from: range.lowerBound, to: range.upperBound, notAfter: low),
                  plain[index] == low
            else { return nil }
            return index
        }
        let middle = Int(low >> 8)
        // The unary scan and the byte read below each miss the cache at 10M hosts, the byte
        // read waiting on the scan. Where the key would lie if its bucket's keys were spread
        // evenly is known now: ask for both lines at once, so the misses overlap.
        let guess = range.lowerBound + (range.count * middle) >> 8
        bytes.withUnsafeBufferPointer { memory_prefetch($0.baseAddress! + guess) }
        let position = guess + bucket * Self.zerosPerBucket + middle    // its one, were it a host
        unary.withUnsafeBufferPointer { memory_prefetch($0.baseAddress! + position >> 6) }
        let group = hosts(withMiddle: middle, bucket: bucket, start: range.lowerBound)
        let byte = UInt8(truncatingIfNeeded: low)
        for index in group where bytes[index] >= byte {
            return bytes[index] == byte ? index : nil
        }
        return nil
    }

    /// The first index among the hosts `range` of `bucket` whose low bits are at least
    /// `low` (`range.upperBound` when there is none).
    func firstIndex(notBefore low: UInt16, bucket: Int, in range: Range<Int>) -> Int {
        guard !range.isEmpty else { return range.upperBound }
        guard isPacked else { return SortedSearch.firstIndex(in: plain, in: range, notBefore: low) }
        let group = hosts(withMiddle: Int(low >> 8), bucket: bucket, start: range.lowerBound)
        let byte = UInt8(truncatingIfNeeded: low)
        return group.first { bytes[$0] >= byte } ?? group.upperBound
    }

    /// The indexes of the hosts of `bucket` (whose first host is `start`) with bits 8–15
    /// `middle`: those whose ones lie right before the run's zero number `middle + 1`.
    @inline(__always)
    private func hosts(withMiddle middle: Int, bucket: Int, start: Int) -> Range<Int> {
        let skipped = bucket * Self.zerosPerBucket + middle
        let end = zero(from: start + bucket * Self.zerosPerBucket, skipping: middle)
        let ones = onesEnding(at: end)
        // Host i with these bits has its one at i + skipped.
        return end - ones - skipped ..< end - skipped
    }

    /// The position of the first zero at or after `start` once `skipping` zeros are passed.
    /// There is one inside the bucket's run whenever `skipping` < 256.
    @inline(__always)
    private func zero(from start: Int, skipping: Int) -> Int {
        var word = start >> 6
        var zeros = ~unary[word] & (UInt64.max << UInt64(start & 63))
        var remaining = skipping
        while true {
            let found = zeros.nonzeroBitCount
            if remaining < found { return word << 6 + Self.select(remaining, in: zeros) }
            remaining -= found
            word += 1
            zeros = ~unary[word]
        }
    }

    /// The position of the first one at or after `start` (there must be one).
    private func one(from start: Int) -> Int {
        var word = start >> 6
        var ones = unary[word] & (UInt64.max << UInt64(start & 63))
        while ones == 0 {
            word += 1
            ones = unary[word]
        }
        return word << 6 + ones.trailingZeroBitCount
    }

    /// How many ones come right before `position`.
    @inline(__always)
    private func onesEnding(at position: Int) -> Int {
        var count = 0
        var end = position
        while end > 0 {
            let last = (end - 1) & 63
            // The bit before `end` moved to the top; what it shifts in are zeros.
            let run = (~(unary[(end - 1) >> 6] << UInt64(63 - last))).leadingZeroBitCount
            count += run
            guard run == last + 1 else { break }
            end -= run
        }
        return count
    }

    /// The position of the set bit of rank `rank` (from 0) in `word`, which has more.
    @inline(__always)
    private static func select(_ rank: Int, in word: UInt64) -> Int {
        var bits = word
        var remaining = rank
        var base = 0
        // Halve the word to the 8 bits holding that bit, then clear the ones below it.
        func skip(_ width: Int) {
            let below = (bits & ((1 << UInt64(width)) - 1)).nonzeroBitCount
            if remaining >= below {
                remaining -= below
                bits >>= UInt64(width)
                base += width
            }
        }
        skip(32)
        skip(16)
        skip(8)
        while remaining > 0 {
            bits &= bits - 1
            remaining -= 1
        }
        return base + bits.trailingZeroBitCount
    }

    /// The position where sequential reads from host `index` of `bucket` (whose first host
    /// is `start`) begin: pass it to ``low(at:from:)``.
    func cursor(at index: Int, bucket: Int, start: Int) -> Int {
        guard isPacked else { return 0 }
        // Host `index`'s one is the run's one number index - start + 1.
        var position = start + bucket * Self.zerosPerBucket
        for _ in start..<index { position = one(from: position) + 1 }
        return position
    }

    /// The low bits of host `index`, read in order: `cursor` is 0 for the shard's first
    /// host or comes from ``cursor(at:bucket:start:)``, and moves on to the next host.
    @inline(__always)
    func low(at index: Int, from cursor: inout Int) -> UInt16 {
        guard isPacked else { return plain[index] }
        let position = one(from: cursor)
        cursor = position + 1
        // position = index + 256 bucket + middle, and middle < 256.
        let middle = UInt16(truncatingIfNeeded: (position - index) & 0xFF)
        return middle << 8 | UInt16(bytes[index])
    }

    /// Every host's low bits, in order.
    func decoded() -> [UInt16] {
        guard isPacked else { return plain }
        var cursor = 0
        return (0..<count).map { low(at: $0, from: &cursor) }
    }

    /// What is inconsistent with `offsets`, or nil.
    func violation(offsets: [UInt32]) -> String? {
        let buckets = offsets.count - 1
        if !plain.isEmpty && !bytes.isEmpty { return "low keys in both forms" }
        if isPacked != Self.packs(count: count, buckets: buckets) { return "low keys not in the smaller form" }
        guard isPacked else { return nil }
        if unary.count != Self.words(count: count, buckets: buckets) { return "\(unary.count) words of unary bits for \(count) hosts" }
        if unary.reduce(0, { $0 + $1.nonzeroBitCount }) != count { return "unary bits do not count the hosts" }
        return nil
    }
}
