// LowKeysTests.swift -- a dense shard's low keys, packed and plain, against sorted arrays.

import Testing
@testable import DNSBL

@Suite("Low keys of dense shards")
struct LowKeysTests {
    /// Random buckets of strictly increasing lows: empty ones, single hosts, clusters on
    /// one value of bits 8–15, one bucket with every value of bits 8–15, and both ends.
    static func buckets(seed: UInt64) -> [[UInt16]] {
        var rng = PrefixTableTesting.RNG(seed: seed)
        return (0..<HostLayout<UInt32>.denseBucketsPerShard).map { bucket -> [UInt16] in
            var lows = Set<UInt16>()
            switch bucket {
            case 0: lows = [0, 1, 0xFF, 0x100, 0xFFFF]
            case 1: for middle in 0..<256 { lows.insert(UInt16(middle) << 8 | UInt16(rng.below(256))) }
            case 2: for low in 0x4100...0x41FF { lows.insert(UInt16(low)) }      // one value of bits 8–15, full
            case HostLayout<UInt32>.denseBucketsPerShard - 1: lows = [0xFFFF, 0xFF00, 0x00FF]
            default:
                switch rng.below(4) {
                case 0: break
                case 1: lows.insert(UInt16(rng.below(0x10000)))
                case 2: for _ in 0..<rng.below(400) { lows.insert(UInt16(rng.below(0x10000))) }
                default:
                    let middle = UInt16(rng.below(256)) << 8
                    for _ in 0..<rng.below(40) { lows.insert(middle | UInt16(rng.below(256))) }
                }
            }
            return lows.sorted()
        }
    }

    static func offsets(of buckets: [[UInt16]]) -> [UInt32] {
        var offsets: [UInt32] = [0]
        for bucket in buckets { offsets.append(offsets.last! + UInt32(bucket.count)) }
        return offsets
    }

    @Test("packed and plain low keys find, bound and read every key as sorted arrays do",
          arguments: [1, 7, 0xB0B] as [UInt64])
    func packedAndPlainAnswerAsSortedArrays(seed: UInt64) {
        let buckets = Self.buckets(seed: seed)
        let offsets = Self.offsets(of: buckets)
        let all = buckets.flatMap { $0 }
        var rng = PrefixTableTesting.RNG(seed: seed ^ 0xFF)
        for packed in [true, false] {
            let lows = LowKeys(all, offsets: offsets, packed: packed)
            #expect(lows.isPacked == packed && lows.count == all.count)
            #expect(lows.decoded() == all, "packed \(packed): decoded")
            for (bucket, keys) in buckets.enumerated() {
                let range = Int(offsets[bucket])..<Int(offsets[bucket + 1])
                var queries: [UInt16] = [0, 0xFFFF]
                for key in keys { queries += [key, key &+ 1, key &- 1] }
                for _ in 0..<20 { queries.append(UInt16(rng.below(0x10000))) }
                for query in queries {
                    let expected = keys.firstIndex(of: query).map { range.lowerBound + $0 }
                    #expect(lows.index(of: query, bucket: bucket, in: range) == expected,
                            "packed \(packed), bucket \(bucket), index of \(query)")
                    let bound = range.lowerBound + (keys.firstIndex { $0 >= query } ?? keys.count)
                    #expect(lows.firstIndex(notBefore: query, bucket: bucket, in: range) == bound,
                            "packed \(packed), bucket \(bucket), first not before \(query)")
                }
                // Reads from any host on, as an iterator starting there does.
                guard !keys.isEmpty else { continue }
                let first = range.lowerBound + rng.below(keys.count)
                var cursor = lows.cursor(at: first, bucket: bucket, start: range.lowerBound)
                let read = (first..<all.count).map { lows.low(at: $0, from: &cursor) }
                #expect(read == Array(all[first...]), "packed \(packed), bucket \(bucket), read from \(first)")
            }
        }
    }

    @Test func theSmallerFormIsChosen() {
        let buckets = HostLayout<UInt32>.denseBucketsPerShard
        #expect(!LowKeys.packs(count: 1000, buckets: buckets))
        #expect(LowKeys.packs(count: 40_000, buckets: buckets))
        // Bytes: n + (n + 65,536) / 8 packed against 2 n plain; they meet at n = 9,362.
        #expect(!LowKeys.packs(count: 9_362, buckets: buckets) && LowKeys.packs(count: 9_400, buckets: buckets))
        let sparse = LowKeys([1, 2, 3], offsets: [0, 3] + Array(repeating: 3, count: buckets - 1))
        #expect(!sparse.isPacked && sparse.memoryBytes == 6)
    }

    @Test("IPv6 hosts over 2000::/3 keep the bytes below their bucket bits", arguments: [(5000, 11, 15), (20_000, 13, 14)])
    func ipv6HostsSpreadOverTheSpaceKeepTheirTails(count: Int, bits: Int, bytes: Int) {
        var rng = PrefixTableTesting.RNG(seed: 9)
        // 2000::/3 shares 3 bits and the bucket fixes `bits` more; the rest is kept.
        let keys = (0..<count).map { _ in UInt128(0x2000) << 112 | rng.key(UInt128.self) >> 3 }
        let hosts = HostTable(sortedKeys: Set(keys).sorted())
        #expect(!hosts.isDense && hosts.layout.bucketBits == bits && hosts.layout.tailBytes == bytes)
        #expect(hosts.shards.allSatisfy { $0.keys.isEmpty || $0.keys.memoryBytes == $0.count * bytes + 16 })
        #expect(keys.allSatisfy { hosts.index(of: $0) != nil } && hosts.index(of: keys[0] ^ 1) == nil)
        #expect(Array(IteratorSequence(hosts.makeIterator())) == Set(keys).sorted())
    }

    /// A v4 table whose 10/8 shard holds enough hosts to be packed, edited by deltas: it
    /// answers as the oracle, as the same hosts frozen from scratch, and keeps its invariants.
    @Test("a packed shard made by deltas answers as the oracle", arguments: [3, 0xACE] as [UInt64])
    func packedShardMatchesOracle(seed: UInt64) {
        var run = PrefixTableShardTests.Run(family: PrefixTableTesting.v4, seed: seed)
        // Both ends of the space, so a shard is a /8 and its buckets the /16s.
        var edits: [(UInt32, Int, TableValue?)] = [(0, 32, TableValue(listing: 1)), (.max, 32, TableValue(listing: 1))]
        edits += run.randomHosts(300)
        for _ in 0..<24_000 { edits.append((0x0A00_0000 | UInt32(run.rng.below(1 << 24)), 32, run.value())) }
        run.apply(edits, stage: "10/8 filled")
        let hosts = run.table.v4.hosts
        let shard = hosts.layout.shard(of: 0x0A00_0000)
        #expect(hosts.shards[shard].lows.isPacked && !hosts.shards[shard + 1].lows.isPacked)
        // A byte a host, and a bit per host and per value of bits 8–15 of each bucket.
        let packed = hosts.shards[shard].count
        #expect(hosts.shards[shard].lows.memoryBytes == packed + (packed + 256 * 256 + 63) / 64 * 8)

        // Every host of the shard, and its neighbours, by index and by key.
        let tens = run.hosts.filter { $0 >> 24 == 10 }
        let start = hosts.firstIndex(notBefore: 0x0A00_0000)
        #expect(tens.enumerated().allSatisfy { hosts.index(of: $1) == start + $0 && hosts[start + $0] == $1 })
        #expect(tens.allSatisfy { hosts.index(of: $0 &+ 1) == nil || tens.contains($0 &+ 1) })
        var iterator = hosts.makeIterator(from: start + tens.count / 2)
        #expect(Array(tens[(tens.count / 2)...]).allSatisfy { iterator.next() == $0 })

        // Removals, insertions and changes in the packed shard, and a shard emptied of all but a few.
        edits = tens.shuffledPrefix(3000, rng: &run.rng).map { ($0, 32, nil) }
        for _ in 0..<3000 { edits.append((0x0A00_0000 | UInt32(run.rng.below(1 << 24)), 32, run.value())) }
        edits += tens.shuffledPrefix(500, rng: &run.rng).map { ($0, 32, TableValue(listing: 3)) }
        run.apply(edits, stage: "10/8 edited")
        run.apply(run.hosts.filter { $0 >> 24 == 10 }.dropFirst(5).map { ($0, 32, nil) }, stage: "10/8 emptied")
        #expect(!run.table.v4.hosts.shards[shard].lows.isPacked)
    }
}
