// KeyTails.swift -- a full-layout shard's keys, each cut to the bytes below its bucket bits.

import CMemoryHints

/// The keys of one ``HostShard`` in the full layout, each kept as its low `width` bytes:
/// the bits above come from the layout's shared prefix and the key's bucket. IPv6 hosts
/// spread over 2000::/3 share 3 bits and the bucket fixes 16 more, so 109 bits are left:
/// 14 bytes a host instead of 16. Inside one bucket the tails order as the keys do, so a
/// bucket is searched on its tails alone.
///
/// Stored little-endian, back to back, and read with two unaligned 8-byte loads; 16 bytes
/// of padding at the end keep the last loads inside the array.
struct KeyTails<Key: TableKey>: RandomAccessCollection, Sendable {
    /// `width` bytes a key, then the padding.
    let bytes: [UInt8]
    /// Bytes kept of each key, 1...16.
    let width: Int
    let count: Int
    /// The bits a tail keeps.
    private let mask: UInt128

    /// `keys` cut to their low `width` bytes.
    init(_ keys: [Key], width: Int) {
        precondition((1...16).contains(width), "a key tail is 1 to 16 bytes")
        self.width = width
        count = keys.count
        mask = width == 16 ? .max : (1 << UInt128(width * 8)) - 1
        guard !keys.isEmpty else {
            bytes = []
            return
        }
        var bytes = [UInt8](repeating: 0, count: keys.count * width + 16)
        bytes.withUnsafeMutableBytes { raw in
            // Each store spills past its tail into the next one's bytes, which the next
            // store then writes; the last spills into the padding.
            for (index, key) in keys.enumerated() {
                raw.storeBytes(of: UInt128(truncatingIfNeeded: key).littleEndian, toByteOffset: index * width, as: UInt128.self)
            }
        }
        self.bytes = bytes
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    /// The tail of key `index`.
    @inline(__always)
    subscript(index: Int) -> Key {
        precondition(index >= 0 && index < count, "key tail index out of range")
        return bytes.withUnsafeBytes { raw in
            let offset = index * width
            let low = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            return Key(truncatingIfNeeded: (UInt128(high) << 64 | UInt128(low)) & mask)
        }
    }

    /// The part of `key` a tail keeps.
    @inline(__always)
    func tail(of key: Key) -> Key {
        Key(truncatingIfNeeded: UInt128(truncatingIfNeeded: key) & mask)
    }

    /// Asks for the cache lines of tails `range` (up to four), so that a search of them
    /// waits for one miss, not one for each step.
    @inline(__always)
    func prefetch(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        bytes.withUnsafeBufferPointer { raw in
            guard let base = raw.baseAddress else { return }
            // Each line from the one holding the first tail's first byte to the one holding
            // the last tail's, at most four.
            var line = UInt(bitPattern: base + range.lowerBound * width) & ~63
            let last = UInt(bitPattern: base + range.upperBound * width - 1)
            for _ in 0..<4 where line <= last {
                memory_prefetch(UnsafeRawPointer(bitPattern: line))
                line += 64
            }
        }
    }

    var memoryBytes: Int { bytes.count }
}
