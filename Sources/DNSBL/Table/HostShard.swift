// HostShard.swift -- one immutable stretch of a family's hosts: keys, bucket offsets and values.

/// The hosts of one run of `layout.bucketsPerShard` directory buckets: their keys, the
/// offsets of each bucket in them, and their values, all by index inside the shard.
///
/// A class so that tables share it by reference: a table made by ``HostTable/applying(_:)``
/// holds the very shards of its source that no edit touched.
final class HostShard<Key: TableKey>: Sendable {
    /// `offsets[b] ..< offsets[b + 1]` are the indexes of the hosts in local bucket `b`;
    /// one more entry than the layout has buckets a shard, starting at 0.
    let offsets: [UInt32]
    /// The low 16 bits of each key in the dense layout; empty in the full layout.
    let lows: LowKeys
    /// Each key's bits below its bucket bits in the full layout; empty in the dense layout.
    let keys: KeyTails<Key>
    /// The value of each host, by its index in the shard.
    let values: HostValues

    /// The hosts of `offsets`, in `layout`'s form: `stored` holds each key or at least the
    /// part of it the form keeps (its low 16 bits in the dense layout, its tail otherwise).
    init(offsets: [UInt32], stored: [Key], values: HostValues, layout: HostLayout<Key>) {
        let dense = layout.isDense
        self.offsets = offsets
        lows = LowKeys(dense ? stored.map { UInt16(truncatingIfNeeded: $0) } : [], offsets: offsets)
        keys = KeyTails(dense ? [] : stored, width: layout.tailBytes)
        self.values = values
    }

    /// A shard of strictly increasing `keys`, all in one shard of `layout`, with their values.
    convenience init(keys sortedKeys: [Key], values: [TableValue], layout: HostLayout<Key>) {
        var offsets = [UInt32](repeating: 0, count: layout.bucketsPerShard + 1)
        for key in sortedKeys {
            // No overflow: a shard holds fewer than UInt32.max hosts (checked when freezing or loading).
            offsets[layout.localBucket(of: key) + 1] &+= 1
        }
        for bucket in 0..<layout.bucketsPerShard {
            offsets[bucket + 1] &+= offsets[bucket]   // ends at sortedKeys.count
        }
        var collector = HostValues.Collector(capacity: values.count)
        for value in values { collector.append(value) }
        self.init(offsets: offsets, stored: sortedKeys, values: collector.finish(), layout: layout)
    }

    /// The number of hosts.
    var count: Int { lows.count + keys.count }

    /// The part of `key` a shard of `layout` keeps, as ``storedParts(layout:)`` gives it.
    private func storedPart(of key: Key, layout: HostLayout<Key>) -> Key {
        layout.isDense ? Key(truncatingIfNeeded: UInt16(truncatingIfNeeded: key)) : keys.tail(of: key)
    }

    /// What is kept of every key, in order: the low 16 bits in the dense layout, the tail otherwise.
    private func storedParts(layout: HostLayout<Key>) -> [Key] {
        layout.isDense ? lows.decoded().map { Key(truncatingIfNeeded: $0) } : Array(keys)
    }

    /// This shard with `edits` (sorted, at most one per key, none in another shard of
    /// `layout`, which must be this shard's) applied; nil when no host is left. The runs of
    /// hosts between the edited keys are copied whole: keys, values, and bucket counts.
    func applying(_ edits: ArraySlice<TableEdit<Key>>, layout: HostLayout<Key>) -> HostShard? {
        var counts = (0..<layout.bucketsPerShard).map { Int(offsets[$0 + 1] - offsets[$0]) }
        let stored = storedParts(layout: layout)
        var newStored: [Key] = []
        newStored.reserveCapacity(count + edits.count)
        var newValues = HostValues.Collector(capacity: count + edits.count)
        func copy(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            newStored.append(contentsOf: stored[range])
            newValues.append(values, range: range)
        }
        var next = 0
        for edit in edits {
            let key = edit.prefix.start
            // Outside the shared prefix there is no host to remove, and no insert (it
            // would have moved the layout).
            guard layout.bucket(of: key) != nil else { continue }
            let bucket = layout.localBucket(of: key)
            // Inside one bucket the stored parts order and compare as the keys do, so the
            // decoded parts are searched, not the shard's packed form again.
            let part = storedPart(of: key, layout: layout)
            let bucketHosts = Int(offsets[bucket])..<Int(offsets[bucket + 1])
            let end = Swift.max(next, SortedSearch.firstIndex(in: stored, in: bucketHosts, notBefore: part))
            copy(next..<end)
            let present = end < bucketHosts.upperBound && stored[end] == part
            next = present ? end + 1 : end
            if present { counts[bucket] -= 1 }
            if let value = edit.value {
                newStored.append(key)        // cut to the stored part when the shard is made
                newValues.append(value)
                counts[bucket] += 1
            }
        }
        copy(next..<count)
        guard !newStored.isEmpty else { return nil }
        var newOffsets = [UInt32](repeating: 0, count: layout.bucketsPerShard + 1)
        for bucket in 0..<layout.bucketsPerShard {
            // No overflow: the sum is the shard's host count.
            newOffsets[bucket + 1] = newOffsets[bucket] &+ UInt32(truncatingIfNeeded: counts[bucket])
        }
        return HostShard(offsets: newOffsets, stored: newStored, values: newValues.finish(), layout: layout)
    }

    /// Bytes held by the arrays.
    var memoryBytes: Int {
        offsets.count * MemoryLayout<UInt32>.stride + lows.memoryBytes + keys.memoryBytes + values.memoryBytes
    }

    /// The local bucket that holds host `index` (below `count`): a binary search of the offsets.
    func bucket(containing index: Int) -> Int {
        // The last bucket whose first offset is at most `index`; an empty bucket shares its
        // offset with the next, so the last one is the bucket that is not empty. There is
        // one: the first offset is 0.
        SortedSearch.lastIndex(in: offsets, from: 0, to: offsets.count - 1,
                               notAfter: UInt32(truncatingIfNeeded: index))!
    }

    /// The local index of `key` in local bucket `bucket`, if it is a host. Never allocates.
    @inline(__always)
    func index(of key: Key, bucket: Int) -> Int? {
        // Unchecked: `bucket` is below the layout's buckets a shard, one fewer than the
        // offsets (an invariant), and a checked read would touch the array's header, a
        // cache line of its own, on every lookup.
        let (lower, upper) = offsets.withUnsafeBufferPointer { (Int($0[bucket]), Int($0[bucket + 1])) }
        if !lows.isEmpty { return lows.index(of: UInt16(truncatingIfNeeded: key), bucket: bucket, in: lower..<upper) }
        // Inside one bucket the tails order as the keys do.
        keys.prefetch(lower..<upper)
        let tail = keys.tail(of: key)
        guard let index = SortedSearch.lastIndex(in: keys, from: lower, to: upper, notAfter: tail),
              keys[index] == tail
        else { return nil }
        return index
    }

    /// The first local index in local bucket `bucket` whose key is at least `key`.
    func firstIndex(notBefore key: Key, bucket: Int) -> Int {
        let range = Int(offsets[bucket])..<Int(offsets[bucket + 1])
        if !lows.isEmpty { return lows.firstIndex(notBefore: UInt16(truncatingIfNeeded: key), bucket: bucket, in: range) }
        return SortedSearch.firstIndex(in: keys, in: range, notBefore: keys.tail(of: key))
    }

    /// What is kept of key `index` (its low 16 bits or its tail), read in order: `cursor`
    /// follows the dense form's bits as in ``LowKeys/low(at:from:)``.
    @inline(__always)
    func stored(at index: Int, from cursor: inout Int) -> Key {
        lows.isEmpty ? keys[index] : Key(truncatingIfNeeded: lows.low(at: index, from: &cursor))
    }

    /// Calls `body` with the local index, key and value of every host, in order; `shard`
    /// is this shard's index in `layout`.
    func forEach(shard: Int, layout: HostLayout<Key>, _ body: (Int, Key, TableValue) -> Void) {
        var position = 0
        var cursor = 0
        for bucket in 0..<layout.bucketsPerShard where offsets[bucket] < offsets[bucket + 1] {
            let high = layout.high(ofBucket: shard << layout.bucketInShardBits + bucket)
            for index in Int(offsets[bucket])..<Int(offsets[bucket + 1]) {
                body(index, high | stored(at: index, from: &cursor), values.value(at: index, following: &position))
            }
        }
    }
}

/// Where a family's hosts lie: the bits every host shares, and which bits below them pick
/// a directory bucket. A function of the first and last host and, in the full layout, of
/// how many hosts there are.
///
/// The bucket bits are the ones right below the prefix that all hosts share, not always
/// the top ones: for IPv4 the hosts usually share nothing and the buckets are the /16s, but
/// IPv6 hosts cluster (one provider's /32 is a single top-16 value), and a directory on
/// the top bits would leave them all in one bucket of a million keys. Skipping the common
/// prefix keeps buckets small for either shape at no cost per lookup beyond one compare.
///
/// The dense layout (the buckets fix every bit from 16 up) always has 65,536 buckets, which
/// ``LowKeys`` counts on. The full layout has one bucket for every two to four hosts, from
/// 256 to 65,536 buckets: a lookup reads one offset and one bucket's tails, and with fewer
/// hosts than buckets the offsets would cost as much memory as the keys and miss the cache
/// as often.
struct HostLayout<Key: TableKey>: Sendable, Equatable {
    /// The bits all hosts share above the bucket bits (the bits below are zero).
    let base: Key
    /// How far a key is shifted right to bring its bucket bits to the bottom.
    let shift: Int
    /// How many bits pick a bucket: 16 in the dense layout, 8 to 16 in the full one.
    let bucketBits: Int

    /// The most bucket bits, always those of the dense layout.
    static var maxBucketBits: Int { 16 }
    /// The fewest: one bucket a shard.
    static var minBucketBits: Int { HostTable<Key>.shardBits }
    /// Buckets per shard in the dense layout.
    static var denseBucketsPerShard: Int { 1 << (maxBucketBits - HostTable<Key>.shardBits) }

    /// The layout of `count` hosts from `first` to `last` (sorted).
    init(first: Key, last: Key, count: Int) {
        self.init(first: first, last: last, bucketBits: Self.bucketBits(first: first, last: last, count: count))
    }

    /// The layout of `count` hosts from `first` to `last` that keeps `current`'s bucket
    /// bits while they are within one of those `count` calls for, so that a table whose
    /// size drifts keeps its layout and edits rebuild only the shards they touch.
    init(first: Key, last: Key, count: Int, keeping current: Self) {
        let bits = Self.bucketBits(first: first, last: last, count: count)
        self.init(first: first, last: last, bucketBits: abs(bits - current.bucketBits) <= 1 ? current.bucketBits : bits)
    }

    private init(first: Key, last: Key, bucketBits: Int) {
        // Sorted, so the first and last key share exactly the prefix every key shares.
        let commonBits = (first ^ last).leadingZeroBitCount
        self.bucketBits = Self.isDense(commonBits: commonBits) ? Self.maxBucketBits : bucketBits
        shift = Swift.max(0, Key.bitWidth - self.bucketBits - commonBits)
        base = first & Key.networkMask(prefixLength: Key.bitWidth - shift - self.bucketBits)
    }

    /// The bucket bits for `count` hosts from `first` to `last`: 16 in the dense layout,
    /// otherwise the fewest that leave at most four hosts a bucket, within 8 to 16.
    static func bucketBits(first: Key, last: Key, count: Int) -> Int {
        guard !isDense(commonBits: (first ^ last).leadingZeroBitCount) else { return maxBucketBits }
        let buckets = (Swift.max(count, 1) + 3) / 4
        let bits = Int.bitWidth - (buckets - 1).leadingZeroBitCount    // ceil(log2(buckets))
        return Swift.min(maxBucketBits, Swift.max(minBucketBits, bits))
    }

    /// Whether hosts sharing their top `commonBits` bits lie in the dense layout: 16
    /// bucket bits then fix every bit from 16 up.
    private static func isDense(commonBits: Int) -> Bool {
        Key.bitWidth - commonBits <= maxBucketBits + 16
    }

    /// The layout of a family without hosts.
    static var none: Self { Self(first: 0, last: 0, count: 0) }

    /// Whether the bucket fixes every key bit from 16 up (`shift <= 16`), so only the low
    /// 16 bits of a key are stored: always for IPv4, and for IPv6 hosts in one /96.
    var isDense: Bool { shift <= 16 }

    /// The bytes of each key kept in the full layout: those holding the bits below the bucket's.
    var tailBytes: Int { Swift.max(1, (shift + 7) / 8) }

    /// Buckets in the directory.
    var bucketCount: Int { 1 << bucketBits }
    /// The bits of a bucket number that pick a bucket inside its shard.
    var bucketInShardBits: Int { bucketBits - HostTable<Key>.shardBits }
    /// Buckets per shard.
    var bucketsPerShard: Int { 1 << bucketInShardBits }

    /// The bucket `key` falls in; nil when it lies outside the prefix all hosts share.
    @inline(__always)
    func bucket(of key: Key) -> Int? {
        // `>>` by the full width is 0.
        guard (key ^ base) >> (shift + bucketBits) == 0 else { return nil }
        return Int(truncatingIfNeeded: key >> shift) & (bucketCount - 1)
    }

    /// The bucket of `key` inside its shard (the key must lie inside the shared prefix).
    @inline(__always)
    func localBucket(of key: Key) -> Int {
        Int(truncatingIfNeeded: key >> shift) & (bucketsPerShard - 1)
    }

    /// The shard `key` falls in, or would: the first for keys below the shared prefix, the
    /// last for keys above it.
    func shard(of key: Key) -> Int {
        if let bucket = bucket(of: key) { return bucket >> bucketInShardBits }
        return key < base ? 0 : HostTable<Key>.shardCount - 1
    }

    /// The bits of every key in `bucket` above those a shard stores: from 16 up in the
    /// dense layout, from the tail's width up in the full one. Where the bucket bits reach
    /// into the stored bits, the stored bits equal them.
    @inline(__always)
    func high(ofBucket bucket: Int) -> Key {
        let prefix = base | Key(truncatingIfNeeded: bucket) << shift
        return isDense ? prefix & ~Key(0xFFFF) : prefix
    }
}
