// HostKeys.swift -- the sorted host addresses of one family, stored as compactly as their directory allows.

/// The host addresses (/32 or /128) of one address family, strictly increasing, with the
/// ``HostDirectory`` that narrows a lookup to one bucket.
///
/// Two layouts, picked when the keys are frozen:
///
/// - **Dense**: only the low 16 bits of each key. Possible when the directory's bucket
///   bits start at bit 16 or lower (`shift <= 16`): then the directory's base and bucket
///   fix every bit from 16 up, and a bucket's keys differ only in their low 16 bits. IPv4
///   is always dense (its shift is at most 16), so an IPv4 host costs 2 bytes of key; so
///   is IPv6 when all hosts lie in one /96.
/// - **Full**: the whole key, for hosts spread wider (IPv6 as a rule).
///
/// Either way a lookup reads two directory offsets and binary-searches one bucket; a
/// dense bucket of n keys spans 2n bytes, so the search touches fewer cache lines.
struct HostKeys<Key: TableKey>: Sendable {
    /// Narrows a key to one bucket of indexes.
    let directory: HostDirectory<Key>
    /// The low 16 bits of each key in the dense layout; empty in the full layout.
    let lows: [UInt16]
    /// Every key in the full layout; empty in the dense layout.
    let keys: [Key]

    /// No hosts.
    static var empty: Self { Self(sortedKeys: []) }

    /// Stores strictly increasing `keys` in the layout their directory allows.
    init(sortedKeys keys: [Key]) {
        let directory = HostDirectory(sortedKeys: keys)
        self.directory = directory
        if Self.fitsDense(directory) {
            lows = keys.map { UInt16(truncatingIfNeeded: $0) }
            self.keys = []
        } else {
            lows = []
            self.keys = keys
        }
    }

    /// The dense layout from its parts; the caller guarantees they are consistent (as
    /// ``invariantViolations()`` checks).
    init(directory: HostDirectory<Key>, lows: [UInt16]) {
        self.directory = directory
        self.lows = lows
        keys = []
    }

    /// Whether keys indexed by `directory` can be stored as their low 16 bits.
    static func fitsDense(_ directory: HostDirectory<Key>) -> Bool {
        !directory.offsets.isEmpty && directory.shift <= 16
    }

    /// Whether only the low 16 bits of each key are stored.
    var isDense: Bool { !lows.isEmpty }

    var count: Int { isDense ? lows.count : keys.count }

    var isEmpty: Bool { count == 0 }

    /// Bytes held by the keys and the directory.
    var memoryBytes: Int {
        lows.count * MemoryLayout<UInt16>.stride + keys.count * MemoryLayout<Key>.stride + directory.memoryBytes
    }

    /// The index of `key`, if it is a host. Never allocates.
    @inline(__always)
    func index(of key: Key) -> Int? {
        let bucket = directory.candidates(for: key)
        if isDense {
            let low = UInt16(truncatingIfNeeded: key)
            guard let index = Self.lastIndex(in: lows, from: bucket.lowerBound, to: bucket.upperBound, notAfter: low),
                  lows[index] == low
            else { return nil }
            return index
        }
        guard let index = Self.lastIndex(in: keys, from: bucket.lowerBound, to: bucket.upperBound, notAfter: key),
              keys[index] == key
        else { return nil }
        return index
    }

    /// The first index whose key is at least `key` (`count` when there is none).
    func firstIndex(notBefore key: Key) -> Int {
        guard let bucket = directory.bucket(of: key) else {
            // Outside the prefix all hosts share: before all of them or after all of them.
            return isEmpty || key < directory.base ? 0 : count
        }
        let range = directory.range(ofBucket: bucket)
        if isDense {
            return Self.firstIndex(in: lows, in: range, notBefore: UInt16(truncatingIfNeeded: key))
        }
        return Self.firstIndex(in: keys, in: range, notBefore: key)
    }

    /// The key at `index`. O(1) in the full layout; a search of the directory (16 steps)
    /// in the dense one, so sequential reads should use ``makeIterator(from:)``.
    subscript(index: Int) -> Key {
        guard isDense else { return keys[index] }
        return key(low: lows[index], bucket: directory.bucket(containing: index))
    }

    /// The key stored as `low` in `bucket` (dense layout).
    @inline(__always)
    private func key(low: UInt16, bucket: Int) -> Key {
        high(ofBucket: bucket) | Key(truncatingIfNeeded: low)
    }

    /// The bits from 16 up of every key in `bucket` (dense layout).
    @inline(__always)
    private func high(ofBucket bucket: Int) -> Key {
        // Bits from 16 up come from the base and the bucket (shift <= 16); the low 16 bits
        // are stored. Where the bucket bits reach below bit 16 the stored bits equal them.
        (directory.base | Key(truncatingIfNeeded: bucket) << directory.shift) & ~Key(0xFFFF)
    }

    /// Calls `body` with the index and key of every host in `range`, in order: a dense
    /// bucket's upper bits are worked out once for all its keys.
    @inline(__always)
    func forEach<E: Error>(in range: Range<Int>, _ body: (Int, Key) throws(E) -> Void) throws(E) {
        guard !range.isEmpty else { return }
        guard isDense else {
            for index in range { try body(index, keys[index]) }
            return
        }
        var bucket = directory.bucket(containing: range.lowerBound)
        var index = range.lowerBound
        while index < range.upperBound {
            let end = Swift.min(Int(directory.offsets[bucket + 1]), range.upperBound)
            let high = high(ofBucket: bucket)
            while index < end {
                try body(index, high | Key(truncatingIfNeeded: lows[index]))
                index += 1
            }
            bucket += 1
        }
    }

    /// Calls `body` with the index and key of every host, in order.
    @inline(__always)
    func forEach<E: Error>(_ body: (Int, Key) throws(E) -> Void) throws(E) {
        try forEach(in: 0..<count, body)
    }

    /// Reads the keys in order from `index` on.
    func makeIterator(from index: Int = 0) -> Iterator {
        Iterator(keys: self, index: index)
    }

    /// The keys in order, with the bucket of a dense key followed along instead of searched.
    struct Iterator: IteratorProtocol {
        let keys: HostKeys
        /// The index of the next key.
        private(set) var index: Int
        /// The directory bucket holding the last key read (dense layout).
        private var bucket = 0
        /// The index where that bucket ends, and the upper bits of its keys.
        private var bucketEnd = 0
        private var high: Key = 0

        init(keys: HostKeys, index: Int) {
            self.keys = keys
            self.index = index
            if keys.isDense, index < keys.count { bucket = keys.directory.bucket(containing: index) }
        }

        mutating func next() -> Key? {
            guard index < keys.count else { return nil }
            defer { index += 1 }
            guard keys.isDense else { return keys.keys[index] }
            if index >= bucketEnd {
                while Int(keys.directory.offsets[bucket + 1]) <= index { bucket += 1 }
                bucketEnd = Int(keys.directory.offsets[bucket + 1])
                high = keys.high(ofBucket: bucket)
            }
            return high | Key(truncatingIfNeeded: keys.lows[index])
        }
    }

    /// Calls `body` with the keys, in order, as arrays of at most `chunk` keys.
    func forEachChunk<E: Error>(of chunk: Int = 4096, _ body: ([Key]) throws(E) -> Void) throws(E) {
        guard isDense else {
            if !keys.isEmpty { try body(keys) }
            return
        }
        var buffer: [Key] = []
        buffer.reserveCapacity(Swift.min(chunk, count))
        var start = 0
        while start < count {
            let end = Swift.min(start + chunk, count)
            buffer.removeAll(keepingCapacity: true)
            forEach(in: start..<end) { _, key in buffer.append(key) }
            try body(buffer)
            start = end
        }
    }

    /// Every key, in order (allocates the full array; for tests and checks).
    var allKeys: [Key] {
        guard isDense else { return keys }
        var all: [Key] = []
        all.reserveCapacity(count)
        forEach { _, key in all.append(key) }
        return all
    }

    /// Every broken invariant, described; empty when consistent.
    func invariantViolations() -> [String] {
        if !lows.isEmpty && !keys.isEmpty { return ["both host layouts are filled"] }
        if isDense {
            var problems: [String] = []
            if !Self.fitsDense(directory) { problems.append("dense hosts under a directory with shift \(directory.shift)") }
            guard directory.offsets.count == HostDirectory<Key>.bucketCount + 1,
                  directory.offsets.last.map(Int.init) == lows.count
            else { return problems + ["directory does not span the dense hosts"] }
            let all = allKeys
            // The directory must be the one the keys themselves give, and hold each key.
            let expected = HostDirectory(sortedKeys: all)
            if expected.offsets != directory.offsets || expected.base != directory.base || expected.shift != directory.shift {
                problems.append("dense directory differs from the keys' own")
            }
            if zip(all, all.dropFirst()).contains(where: { $0 >= $1 }) { problems.append("dense hosts not strictly increasing") }
            if zip(all, lows).contains(where: { UInt16(truncatingIfNeeded: $0) != $1 }) {
                problems.append("dense hosts disagree with their buckets")
            }
            return problems
        }
        var problems = directory.invariantViolations(keys: keys)
        if zip(keys, keys.dropFirst()).contains(where: { $0 >= $1 }) { problems.append("hosts not strictly increasing") }
        if Self.fitsDense(directory) { problems.append("full host keys stored although they fit the dense layout") }
        return problems
    }

    /// The last index in `start ..< end` of sorted `values` whose value is at most `target`.
    ///
    /// Branch-free halving: the step only picks between two indexes, which compiles to a
    /// conditional move. Addresses are random, so the branchy form mispredicts about
    /// every other step, and that, not memory, dominated lookups in cache.
    @inline(__always)
    static func lastIndex<Value: Comparable>(in values: [Value], from start: Int, to end: Int,
                                             notAfter target: Value) -> Int? {
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
    static func firstIndex<Value: Comparable>(in values: [Value], in range: Range<Int>, notBefore target: Value) -> Int {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if values[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
