// HostKeysCollector.swift -- host keys and per-host values gathered in order, straight into their frozen layout.

extension HostKeys {
    /// Takes strictly increasing keys one at a time and lays them out without holding
    /// them all as whole keys first: 32-bit keys, always dense, go straight into their low
    /// 16 bits and a count per value of their high 16 bits; wider keys are kept whole.
    struct Collector {
        private var lows: [UInt16] = []
        private var highCounts: [UInt32] = []
        private var keys: [Key] = []
        private var first: Key = 0
        private var last: Key = 0
        private(set) var count = 0

        init(capacity: Int) {
            if Key.bitWidth == 32 {
                lows.reserveCapacity(capacity)
                highCounts = [UInt32](repeating: 0, count: 1 << 16)
            } else {
                keys.reserveCapacity(capacity)
            }
        }

        /// Adds `key`, which must be greater than every key added before.
        mutating func append(_ key: Key) {
            if count == 0 { first = key }
            last = key
            count += 1
            if Key.bitWidth == 32 {
                lows.append(UInt16(truncatingIfNeeded: key))
                // No overflow: at most UInt32.max hosts (checked when freezing or loading).
                highCounts[Int(truncatingIfNeeded: key >> 16)] &+= 1
            } else {
                keys.append(key)
            }
        }

        /// The keys added, laid out.
        func finish() -> HostKeys {
            guard Key.bitWidth == 32, count > 0 else { return HostKeys(sortedKeys: keys) }
            return HostKeys.dense(lows: lows, highCounts: highCounts, first: first, last: last)
        }
    }

    /// The dense layout of 32-bit keys given as their low 16 bits, in order, and how many
    /// keys have each value of the high 16 bits.
    static func dense(lows: [UInt16], highCounts: [UInt32], first: Key, last: Key) -> HostKeys {
        precondition(Key.bitWidth == 32 && highCounts.count == 1 << 16)
        if (first ^ last).leadingZeroBitCount == 0 {
            // No bit shared, so the buckets are the high 16 bits (shift 16, base 0): the
            // counts are the directory already.
            var offsets = [UInt32](repeating: 0, count: HostDirectory<Key>.bucketCount + 1)
            for high in highCounts.indices { offsets[high + 1] = offsets[high] &+ highCounts[high] }
            return HostKeys(directory: HostDirectory(offsets: offsets, base: 0, shift: 16), lows: lows)
        }
        // Each key again, its high bits from the counts and its low bits from `lows`.
        let directory = HostDirectory(first: first, last: last) { visit in
            var index = 0
            for high in highCounts.indices {
                for _ in 0..<highCounts[high] {
                    visit(Key(truncatingIfNeeded: high) << 16 | Key(truncatingIfNeeded: lows[index]))
                    index += 1
                }
            }
        }
        return HostKeys(directory: directory, lows: lows)
    }
}

/// One per-host value (listing or expiry) gathered in host order: a single shared value
/// until two hosts differ, and only then an array, so merging or freezing hosts that all
/// share a listing and never expire allocates nothing for them.
struct HostColumn<Value: Equatable> {
    /// Every value, once two differed; empty before.
    private(set) var values: [Value] = []
    /// The value every host so far shares, while `values` is empty.
    private(set) var shared: Value?
    private var count = 0
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds the value of the next host.
    mutating func append(_ value: Value) {
        append(value, times: 1)
    }

    /// Adds `value` for each of the next `times` hosts.
    mutating func append(_ value: Value, times: Int) {
        guard times > 0 else { return }
        if values.isEmpty, count == 0 || shared == value {
            shared = value
            count += times
            return
        }
        if values.isEmpty, let shared {
            values.reserveCapacity(capacity)
            values.append(contentsOf: repeatElement(shared, count: count))
        }
        values.append(contentsOf: repeatElement(value, count: times))
        count += times
    }

    /// Adds the values of the next hosts.
    mutating func append(contentsOf newValues: ArraySlice<Value>) {
        if values.isEmpty {
            for value in newValues { append(value) }
        } else {
            values.append(contentsOf: newValues)
            count += newValues.count
        }
    }
}
