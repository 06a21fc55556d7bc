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
            offsets = []
            base = 0
            shift = 0
            return
        }
        // Sorted, so the first and last key share exactly the prefix every key shares.
        let commonBits = (first ^ last).leadingZeroBitCount
        shift = max(0, Key.bitWidth - 16 - commonBits)
        base = first & Key.networkMask(prefixLength: Key.bitWidth - shift - 16)
        var offsets = [UInt32](repeating: 0, count: Self.bucketCount + 1)
        for key in keys {
            // No overflow: at most UInt32.max hosts (checked when freezing or loading).
            offsets[Self.bucket(key, shift: shift) + 1] &+= 1
        }
        for bucket in 0..<Self.bucketCount {
            // No overflow: the running sum ends at keys.count <= UInt32.max.
            offsets[bucket + 1] &+= offsets[bucket]
        }
        self.offsets = offsets
    }

    private static func bucket(_ key: Key, shift: Int) -> Int {
        Int(truncatingIfNeeded: key >> shift) & (bucketCount - 1)
    }

    /// The index range of the hosts that could equal `key`; empty when no host can.
    func candidates(for key: Key) -> Range<Int> {
        // A key outside the shared prefix matches no host. `>>` by the full width is 0.
        guard !offsets.isEmpty, (key ^ base) >> (shift + 16) == 0 else { return 0..<0 }
        let bucket = Self.bucket(key, shift: shift)
        return Int(offsets[bucket])..<Int(offsets[bucket + 1])
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
