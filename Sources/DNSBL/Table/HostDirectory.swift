// HostDirectory.swift -- the radix directory that narrows a host lookup to one small bucket.

/// Offsets into a sorted host-key array, one bucket per value of 16 address bits.
///
/// The 16 bits are the ones right below the prefix that all hosts share, not always the
/// top 16: for IPv4 the hosts usually share nothing and the buckets are the /16s, but
/// IPv6 hosts cluster (one provider's /32 is a single top-16 value), and a directory on
/// the top bits would leave them all in one bucket of a million keys. Skipping the common
/// prefix keeps buckets small for either shape at no cost per lookup beyond one compare.
struct HostDirectory<Key: TableKey>: Sendable {
    /// Number of buckets: one per value of 16 bits.
    static var bucketCount: Int { 1 << 16 }

    /// `offsets[b] ..< offsets[b + 1]` are the indexes of the hosts in bucket `b`;
    /// 65,537 entries, or none when there are no hosts.
    let offsets: [UInt32]
    /// The bits all hosts share above the bucket bits (the bits below are zero).
    let base: Key
    /// How far a key is shifted right to bring its bucket bits to the bottom.
    let shift: Int

    /// Indexes `keys`, which must be sorted; O(n + 65,536).
    init(sortedKeys keys: [Key]) {
        guard let first = keys.first, let last = keys.last else {
            self.init(offsets: [], base: 0, shift: 0)
            return
        }
        self.init(first: first, last: last) { visit in
            for key in keys { visit(key) }
        }
    }

    /// Indexes the sorted keys from `first` to `last` that `forEachKey` passes to its
    /// argument, in order; O(n + 65,536).
    init(first: Key, last: Key, forEachKey: ((Key) -> Void) -> Void) {
        // Sorted, so the first and last key share exactly the prefix every key shares.
        let commonBits = (first ^ last).leadingZeroBitCount
        let shift = max(0, Key.bitWidth - 16 - commonBits)
        self.shift = shift
        base = first & Key.networkMask(prefixLength: Key.bitWidth - shift - 16)
        var offsets = [UInt32](repeating: 0, count: Self.bucketCount + 1)
        forEachKey { key in
            // No overflow: at most UInt32.max hosts (checked when freezing or loading).
            offsets[Self.bucket(key, shift: shift) + 1] &+= 1
        }
        for bucket in 0..<Self.bucketCount {
            // No overflow: the running sum ends at keys.count <= UInt32.max.
            offsets[bucket + 1] &+= offsets[bucket]
        }
        self.offsets = offsets
    }

    /// A directory from its parts, which the caller has derived as ``init(sortedKeys:)`` would.
    init(offsets: [UInt32], base: Key, shift: Int) {
        self.offsets = offsets
        self.base = base
        self.shift = shift
    }

    private static func bucket(_ key: Key, shift: Int) -> Int {
        Int(truncatingIfNeeded: key >> shift) & (bucketCount - 1)
    }

    /// The index range of the hosts that could equal `key`; empty when no host can.
    @inline(__always)
    func candidates(for key: Key) -> Range<Int> {
        guard let bucket = bucket(of: key) else { return 0..<0 }
        return range(ofBucket: bucket)
    }

    /// The bucket `key` falls in; nil when it lies outside the prefix all hosts share.
    @inline(__always)
    func bucket(of key: Key) -> Int? {
        // `>>` by the full width is 0.
        guard !offsets.isEmpty, (key ^ base) >> (shift + 16) == 0 else { return nil }
        return Self.bucket(key, shift: shift)
    }

    /// The indexes of the hosts in `bucket`.
    @inline(__always)
    func range(ofBucket bucket: Int) -> Range<Int> {
        Int(offsets[bucket])..<Int(offsets[bucket + 1])
    }

    /// The bucket that holds host `index` (which must be below the host count): a binary
    /// search of the offsets.
    func bucket(containing index: Int) -> Int {
        // The last bucket whose first offset is at most `index`; an empty bucket shares its
        // offset with the next, so the last one is the bucket that is not empty.
        var low = 0
        var high = Self.bucketCount
        while high - low > 1 {
            let middle = (low + high) / 2
            if Int(offsets[middle]) <= index { low = middle } else { high = middle }
        }
        return low
    }

    /// Bytes held by the offsets.
    var memoryBytes: Int { offsets.count * MemoryLayout<UInt32>.stride }

    /// Every broken invariant against `keys`, described; empty when consistent.
    func invariantViolations(keys: [Key]) -> [String] {
        if keys.isEmpty { return offsets.isEmpty ? [] : ["directory without hosts"] }
        guard offsets.count == Self.bucketCount + 1 else { return ["directory has \(offsets.count) entries"] }
        guard offsets.first == 0, offsets.last.map(Int.init) == keys.count else { return ["directory does not span the hosts"] }
        for bucket in 0..<Self.bucketCount where offsets[bucket] > offsets[bucket + 1] {
            return ["directory offsets decrease at bucket \(bucket)"]
        }
        if let wrong = keys.indices.first(where: { !candidates(for: keys[$0]).contains($0) }) {
            return ["host \(keys[wrong]) lies outside its directory bucket"]
        }
        return []
    }
}
