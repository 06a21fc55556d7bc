// HostTable.swift -- the hosts of one family and their values, in shards that tables share.

/// The host entries (/32 or /128) of one address family: keys strictly increasing, each
/// with its value, split into ``HostShard``s by directory bucket.
///
/// A directory of buckets, one per value of the bits below the prefix all hosts share
/// (``HostLayout``: 16 of them for IPv4, fewer for a small IPv6 family), narrows a lookup
/// to one small bucket. The buckets are grouped in order into `shardCount` shards; each
/// shard holds its keys (the low 16 bits of each in the dense layout, ``LowKeys``; the bits
/// below the bucket's otherwise, ``KeyTails``), its buckets' offsets and its hosts'
/// values, by index inside the shard. A lookup reads the shard of the key's bucket, two
/// offsets, and searches one bucket.
///
/// Shards are immutable and shared by reference: ``applying(_:)`` rebuilds only the shards
/// its edits fall in, so while an old table is still served next to its successor, memory
/// holds one table plus the rebuilt shards, not two tables. A host's global index (its
/// position among all hosts, as enumeration, serialization and the zone walker use it) is
/// its shard's start, from prefix sums of the shard counts, plus its index in the shard.
struct HostTable<Key: TableKey>: Sendable {
    /// The bits of a bucket number that pick its shard: 256 shards, of 256 buckets each in
    /// the dense layout. At 10M IPv4 hosts a shard holds about 40k hosts (50 KB of packed
    /// keys), so a change of one host copies 1/256 of the table; the fixed cost, 256 shards
    /// of 257 offsets (about 260 KiB a family), is what a single directory of 65,537 offsets
    /// costs. Fewer shards would copy more per change, more would add offsets and object
    /// headers per shard.
    static var shardBits: Int { 8 }
    /// Number of shards per family.
    static var shardCount: Int { 1 << shardBits }

    /// Which bits pick a key's bucket; a function of the first and last host and, in the
    /// full layout, of the host count.
    let layout: HostLayout<Key>
    /// `shardCount` shards, or none when there are no hosts.
    let shards: [HostShard<Key>]
    /// The global index of each shard's first host, and the host count last; empty when
    /// there are no hosts.
    let shardStarts: [Int]

    /// No hosts.
    static var empty: Self { Self(layout: .none, shards: []) }

    init(layout: HostLayout<Key>, shards: [HostShard<Key>]) {
        self.layout = layout
        self.shards = shards
        var starts: [Int] = []
        if !shards.isEmpty {
            starts.reserveCapacity(shards.count + 1)
            var total = 0
            for shard in shards {
                starts.append(total)
                total += shard.count
            }
            starts.append(total)
        }
        shardStarts = starts
    }

    /// The `count` hosts from `first` to `last` that `forEachHost` passes to its argument in
    /// order, keys strictly increasing, each with its value. O(n + 65,536).
    init(first: Key, last: Key, count: Int, forEachHost: ((Key, TableValue) -> Void) -> Void) {
        var builder = Builder(layout: HostLayout(first: first, last: last, count: count))
        forEachHost { builder.append($0, $1) }
        self.init(layout: builder.layout, shards: builder.finish())
    }

    /// Strictly increasing `keys`, each with `value` (for tests).
    init(sortedKeys keys: [Key], value: TableValue = TableValue(listing: 1)) {
        guard let first = keys.first, let last = keys.last else {
            self = .empty
            return
        }
        self.init(first: first, last: last, count: keys.count) { visit in
            for key in keys { visit(key, value) }
        }
    }

    /// Gathers hosts in order into the shards of one layout.
    struct Builder {
        let layout: HostLayout<Key>
        private var shards: [HostShard<Key>] = []
        private var keys: [Key] = []
        private var values: [TableValue] = []
        /// Shared by every shard without hosts.
        private let emptyShard: HostShard<Key>

        init(layout: HostLayout<Key>) {
            self.layout = layout
            emptyShard = HostShard(keys: [], values: [], layout: layout)
            shards.reserveCapacity(HostTable.shardCount)
        }

        /// Adds a host; `key` must be greater than every key added before and lie inside
        /// the layout's shared prefix.
        mutating func append(_ key: Key, _ value: TableValue) {
            let shard = layout.shard(of: key)
            if shard != shards.count { close(upTo: shard) }
            keys.append(key)
            values.append(value)
        }

        /// Closes the shard being gathered and the empty ones after it, up to `shard`.
        private mutating func close(upTo shard: Int) {
            if !keys.isEmpty {
                shards.append(HostShard(keys: keys, values: values, layout: layout))
                keys.removeAll(keepingCapacity: true)
                values.removeAll(keepingCapacity: true)
            }
            while shards.count < shard { shards.append(emptyShard) }
        }

        /// The shards, all `shardCount` of them.
        mutating func finish() -> [HostShard<Key>] {
            close(upTo: HostTable.shardCount)
            return shards
        }
    }

    /// The number of hosts.
    var count: Int { shardStarts.last ?? 0 }

    var isEmpty: Bool { shards.isEmpty }

    /// Whether only the low 16 bits of each key are stored.
    var isDense: Bool { !isEmpty && layout.isDense }

    /// Bytes held by the shards' arrays (a shard shared by several slots counted in each)
    /// and the shard starts.
    var memoryBytes: Int {
        shards.reduce(0) { $0 + $1.memoryBytes } + shardStarts.count * MemoryLayout<Int>.stride
    }

    /// The value of host `key`, or nil when it is not a host. The lookup path: one read of
    /// the shard, two offsets and a branch-free search of one bucket. Never allocates.
    @inline(__always)
    func value(of key: Key) -> TableValue? {
        guard !shards.isEmpty, let bucket = layout.bucket(of: key) else { return nil }
        let shard = shards[bucket >> layout.bucketInShardBits]
        guard let index = shard.index(of: key, bucket: bucket & (layout.bucketsPerShard - 1)) else { return nil }
        return shard.values[index]
    }

    /// The global index of `key`, if it is a host.
    func index(of key: Key) -> Int? {
        guard !shards.isEmpty, let bucket = layout.bucket(of: key) else { return nil }
        let shard = bucket >> layout.bucketInShardBits
        return shards[shard].index(of: key, bucket: bucket & (layout.bucketsPerShard - 1)).map { shardStarts[shard] + $0 }
    }

    /// The first global index whose key is at least `key` (`count` when there is none).
    func firstIndex(notBefore key: Key) -> Int {
        guard !shards.isEmpty, let bucket = layout.bucket(of: key) else {
            // Outside the prefix all hosts share: before all of them or after all of them.
            return isEmpty || key < layout.base ? 0 : count
        }
        let shard = bucket >> layout.bucketInShardBits
        return shardStarts[shard] + shards[shard].firstIndex(notBefore: key, bucket: bucket & (layout.bucketsPerShard - 1))
    }

    /// The shard holding global index `index` (below `count`).
    func shard(containing index: Int) -> Int {
        // The last shard starting at or before `index`; an empty shard shares its start
        // with the next, so the last one is the shard that is not empty. There is one: the
        // first start is 0.
        SortedSearch.lastIndex(in: shardStarts, from: 0, to: Self.shardCount, notAfter: index)!
    }

    /// The key at global `index`: a search of the shard starts and of the shard's offsets;
    /// sequential reads should use ``makeIterator(from:)``.
    subscript(index: Int) -> Key {
        let shard = shard(containing: index)
        let local = index - shardStarts[shard]
        let hosts = shards[shard]
        let bucket = hosts.bucket(containing: local)
        var cursor = hosts.lows.cursor(at: local, bucket: bucket, start: Int(hosts.offsets[bucket]))
        return layout.high(ofBucket: shard << layout.bucketInShardBits + bucket) | hosts.stored(at: local, from: &cursor)
    }

    /// The value of the host at global `index`.
    func value(at index: Int) -> TableValue {
        let shard = shard(containing: index)
        return shards[shard].values[index - shardStarts[shard]]
    }

    /// Calls `body` with the global index, key and value of every host, in order.
    func forEach(_ body: (Int, Key, TableValue) -> Void) {
        for (shard, hosts) in shards.enumerated() where hosts.count > 0 {
            let start = shardStarts[shard]
            hosts.forEach(shard: shard, layout: layout) { body(start + $0, $1, $2) }
        }
    }

    /// Reads the hosts in order from global `index` on.
    func makeIterator(from index: Int = 0) -> Iterator {
        Iterator(table: self, index: index)
    }

    /// The hosts in order, the bucket of a dense key followed along instead of searched.
    struct Iterator: IteratorProtocol {
        let table: HostTable
        /// The global index of the next host.
        private(set) var index: Int
        private var shard = 0
        private var local = 0
        /// The local bucket holding the last key read, where it ends, and its keys' upper bits.
        private var bucket = 0
        private var bucketEnd = 0
        private var high: Key = 0
        /// Follows the shard's value exceptions.
        private var position = 0
        /// Follows the shard's packed low keys (dense layout).
        private var cursor = 0

        init(table: HostTable, index: Int) {
            self.table = table
            self.index = index
            guard index < table.count else {
                shard = table.shards.count
                return
            }
            shard = table.shard(containing: index)
            local = index - table.shardStarts[shard]
            let hosts = table.shards[shard]
            bucket = hosts.bucket(containing: local)
            cursor = hosts.lows.cursor(at: local, bucket: bucket, start: Int(hosts.offsets[bucket]))
            position = table.shards[shard].values.exceptionPosition(notBefore: local)
        }

        /// The next host's key and value.
        mutating func nextHost() -> (key: Key, value: TableValue)? {
            while shard < table.shards.count, local >= table.shards[shard].count {
                shard += 1
                local = 0
                bucket = 0
                bucketEnd = 0
                position = 0
                cursor = 0
            }
            guard shard < table.shards.count else { return nil }
            let hosts = table.shards[shard]
            defer {
                local += 1
                index += 1
            }
            let value = hosts.values.value(at: local, following: &position)
            if local >= bucketEnd {
                while Int(hosts.offsets[bucket + 1]) <= local { bucket += 1 }
                bucketEnd = Int(hosts.offsets[bucket + 1])
                high = table.layout.high(ofBucket: shard << table.layout.bucketInShardBits + bucket)
            }
            return (high | hosts.stored(at: local, from: &cursor), value)
        }

        mutating func next() -> Key? {
            nextHost()?.key
        }
    }

    /// Calls `body` with the keys, in order, as arrays of at most `chunk` keys.
    func forEachChunk<E: Error>(of chunk: Int = 4096, _ body: ([Key]) throws(E) -> Void) throws(E) {
        var buffer: [Key] = []
        buffer.reserveCapacity(Swift.min(chunk, count))
        var hosts = makeIterator()
        while let key = hosts.next() {
            buffer.append(key)
            if buffer.count == chunk {
                try body(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        if !buffer.isEmpty { try body(buffer) }
    }

    /// Every key, in order (allocates the full array; for tests and checks).
    var allKeys: [Key] {
        var all: [Key] = []
        all.reserveCapacity(count)
        forEach { _, key, _ in all.append(key) }
        return all
    }

    /// The values of all hosts by global index, in the one form ``HostValues`` gives them:
    /// what the serialized layout stores. Allocates only what that form holds.
    func globalValues() -> HostValues {
        var values = HostValues.Collector(capacity: count)
        for shard in shards where shard.count > 0 { values.append(shard.values, range: 0..<shard.count) }
        return values.finish()
    }

    /// Every broken invariant, described; empty when consistent.
    func invariantViolations() -> [String] {
        guard !shards.isEmpty else { return shardStarts.isEmpty ? [] : ["shard starts without shards"] }
        guard shards.count == Self.shardCount, shardStarts.count == Self.shardCount + 1 else {
            return ["\(shards.count) shards and \(shardStarts.count) starts"]
        }
        var problems: [String] = []
        var total = 0
        for (index, shard) in shards.enumerated() {
            if shardStarts[index] != total { problems.append("shard \(index) starts at \(shardStarts[index]), not \(total)") }
            total += shard.count
            if !shard.lows.isEmpty && !shard.keys.isEmpty { problems.append("shard \(index) fills both layouts") }
            if layout.isDense ? !shard.keys.isEmpty : !shard.lows.isEmpty {
                problems.append("shard \(index) is not in the layout's \(layout.isDense ? "dense" : "full") form")
            }
            guard shard.offsets.count == layout.bucketsPerShard + 1, shard.offsets.first == 0,
                  shard.offsets.last.map(Int.init) == shard.count,
                  zip(shard.offsets, shard.offsets.dropFirst()).allSatisfy({ $0 <= $1 })
            else {
                problems.append("shard \(index) offsets do not span its hosts")
                continue
            }
            if shard.values.count != shard.count { problems.append("shard \(index) has \(shard.values.count) values for \(shard.count) hosts") }
            if let violation = shard.values.violation { problems.append("shard \(index): \(violation)") }
            if let violation = shard.lows.violation(offsets: shard.offsets) { problems.append("shard \(index): \(violation)") }
            if !layout.isDense && shard.keys.width != layout.tailBytes {
                problems.append("shard \(index) keeps \(shard.keys.width) bytes of each key, not \(layout.tailBytes)")
            }
        }
        if shardStarts.last != total { problems.append("shard starts end at \(shardStarts.last ?? 0), not \(total)") }
        guard total > 0 else { return problems + ["shards without hosts"] }
        let all = allKeys
        if zip(all, all.dropFirst()).contains(where: { $0 >= $1 }) { problems.append("hosts not strictly increasing") }
        if let first = all.first, let last = all.last,
           HostLayout(first: first, last: last, count: total, keeping: layout) != layout {
            problems.append("layout differs from the one the hosts give")
        }
        // Each key must come out of the bucket it falls in.
        var hosts = makeIterator()
        var index = 0
        while let key = hosts.next() {
            if self.index(of: key) != index { problems.append("host \(key) lies outside its bucket"); break }
            index += 1
        }
        return problems
    }
}
