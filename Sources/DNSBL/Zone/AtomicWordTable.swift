// AtomicWordTable.swift -- a fixed table of 64-bit words that serving threads update lock-free.

import Synchronization

/// A fixed-size table of atomic 64-bit words, shared by every serving thread, for per-client
/// state on the answer path (rate-limit buckets, query quotas).
///
/// Words are grouped in fours (32 bytes, half a cache line); a key hashes to one group and
/// its state lives in one of the four words, found by a 24-bit tag in the word's top bits.
/// Updates are compare-and-swap loops: no lock, no allocation, and a thread never waits for
/// another. The hash is keyed with a random seed per table, so clients cannot aim their
/// addresses at one group.
final class AtomicWordTable: @unchecked Sendable {
    // @unchecked: `words` is allocated in init, freed in deinit, and between the two only
    // ever read and written through `Atomic` operations.
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    /// Number of groups minus one (the group count is a power of two).
    private let groupMask: Int
    let wordCount: Int
    private let seed: UInt64

    static let groupSize = 4
    static let tagShift: UInt64 = 40
    static let payloadMask: UInt64 = (1 << 40) - 1

    /// - Parameters:
    ///   - minimumWords: rounded up to a power of two, at least one group.
    ///   - seed: the hash key; random by default.
    init(minimumWords: Int, seed: UInt64 = UInt64.random(in: .min ... .max)) {
        var count = Self.groupSize
        while count < minimumWords && count < 1 << 28 { count <<= 1 }
        wordCount = count
        groupMask = count / Self.groupSize - 1
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 8, alignment: 64)
        words = raw.bindMemory(to: Atomic<UInt64>.self, capacity: count)
        for index in 0..<count { (words + index).initialize(to: Atomic(0)) }
        self.seed = seed
    }

    deinit {
        words.deinitialize(count: wordCount)
        words.deallocate()
    }

    /// Where a key's group starts and the tag its word carries (never 0, so 0 means empty).
    @inline(__always)
    func locate(_ key: UInt128, _ extra: UInt64) -> (group: Int, tag: UInt64) {
        var hash = seed ^ UInt64(truncatingIfNeeded: key) ^ (extra &* 0x9E37_79B9_7F4A_7C15)
        hash = Self.mix(hash ^ Self.mix(UInt64(truncatingIfNeeded: key >> 64) &+ seed))
        let tag = (hash >> Self.tagShift) | 1                 // 24 bits, odd: never 0
        return (Int(truncatingIfNeeded: hash) & groupMask, tag)  // & mask: < group count
    }

    /// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }

    /// Looks for the word tagged `tag` in `group`. When there is none, names the slot a new
    /// key takes: the one whose word `score`s lowest (`score` sees every untagged word,
    /// empty ones as 0).
    @inline(__always)
    func probe(group: Int, tag: UInt64, score: (UInt64) -> UInt64) -> (slot: Int, word: UInt64, found: Bool) {
        var best = (slot: 0, word: UInt64(0), found: false)
        var bestScore = UInt64.max
        for slot in 0..<Self.groupSize {
            let word = load(group: group, slot: slot)
            if word >> Self.tagShift == tag { return (slot, word, true) }
            let value = score(word)
            if value < bestScore { (best, bestScore) = ((slot, word, false), value) }
        }
        return best
    }

    @inline(__always)
    func load(group: Int, slot: Int) -> UInt64 {
        // In bounds: group ≤ groupMask and slot < groupSize.
        words[group &* Self.groupSize &+ slot].load(ordering: .relaxed)
    }

    @inline(__always)
    func replace(group: Int, slot: Int, expected: UInt64, with desired: UInt64) -> Bool {
        words[group &* Self.groupSize &+ slot]
            .compareExchange(expected: expected, desired: desired, ordering: .relaxed).exchanged
    }
}
