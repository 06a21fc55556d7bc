// PrefixTableLayoutTests.swift -- the dense and full host-key layouts against plain sorted arrays.

import Testing
@testable import DNSBL

@Suite("PrefixTable host layouts")
struct PrefixTableLayoutTests {
    /// Up to `count` distinct sorted keys sharing their first `commonBits` bits.
    static func keys<Key: TableKey>(_: Key.Type, count: Int, commonBits: Int, seed: UInt64) -> [Key] {
        var rng = PrefixTableTesting.RNG(seed: seed)
        let base: Key = rng.key()
        let free = Key.bitWidth - commonBits
        let low: Key = free == 0 ? 0 : Key.max >> (Key.bitWidth - free)
        var keys = Set<Key>()
        for _ in 0..<count { keys.insert((base & ~low) | (rng.key() & low)) }
        return keys.sorted()
    }

    /// Every read of ``HostKeys`` agrees with the sorted array it was built from.
    static func checkReads<Key: TableKey>(_ sorted: [Key], seed: UInt64, context: String) {
        let hosts = HostKeys(sortedKeys: sorted)
        #expect(hosts.invariantViolations() == [], "\(context)")
        #expect(hosts.count == sorted.count && hosts.allKeys == sorted, "\(context)")
        #expect(hosts.isDense == (!sorted.isEmpty && hosts.directory.shift <= 16), "\(context)")
        if Key.bitWidth == 32 { #expect(hosts.isDense == !sorted.isEmpty, "\(context): IPv4 hosts are always dense") }

        var chunked: [Key] = []
        hosts.forEachChunk(of: 7) { chunked += $0 }
        #expect(chunked == sorted, "\(context): chunks")

        var mismatches = 0
        for index in sorted.indices {
            var iterator = hosts.makeIterator(from: index)
            if hosts[index] != sorted[index] || iterator.next() != sorted[index] || hosts.index(of: sorted[index]) != index {
                mismatches += 1
            }
        }
        var rng = PrefixTableTesting.RNG(seed: seed ^ 0xF00D)
        var probes: [Key] = [0, 1, Key.max, Key.max - 1]
        for key in sorted { probes += [key &- 1, key &+ 1, key ^ 0x1_0000, key ^ 0x8000] }
        for _ in 0..<200 { probes.append(rng.key()) }
        for _ in 0..<200 where !sorted.isEmpty { probes.append(sorted[rng.below(sorted.count)] ^ Key(truncatingIfNeeded: rng.next() & 0xFF_FFFF)) }
        for probe in probes {
            let lowerBound = sorted.firstIndex { $0 >= probe } ?? sorted.count
            let exact = lowerBound < sorted.count && sorted[lowerBound] == probe ? lowerBound : nil
            if hosts.firstIndex(notBefore: probe) != lowerBound || hosts.index(of: probe) != exact { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(context): \(mismatches) reads differ")
    }

    @Test("IPv4 host keys under every shared-prefix length", arguments: [0, 1, 8, 15, 16, 17, 24, 31, 32])
    func v4Layouts(commonBits: Int) {
        for seed in 0..<4 as Range<UInt64> {
            for count in [1, 2, 60, 3000] {
                Self.checkReads(Self.keys(UInt32.self, count: count, commonBits: commonBits, seed: seed), seed: seed,
                                context: "v4 /\(commonBits), \(count) keys, seed \(seed)")
            }
        }
        Self.checkReads([UInt32](), seed: 0, context: "v4 empty")
    }

    @Test("IPv6 host keys, dense within a /96 and full beyond", arguments: [0, 3, 64, 95, 96, 100, 112, 113, 127, 128])
    func v6Layouts(commonBits: Int) {
        for seed in 0..<4 as Range<UInt64> {
            for count in [1, 2, 60, 3000] {
                let keys = Self.keys(UInt128.self, count: count, commonBits: commonBits, seed: seed)
                Self.checkReads(keys, seed: seed, context: "v6 /\(commonBits), \(count) keys, seed \(seed)")
                if commonBits >= 96 { #expect(HostKeys(sortedKeys: keys).isDense, "v6 /\(commonBits), seed \(seed)") }
                if commonBits < 90 && count > 2 { #expect(!HostKeys(sortedKeys: keys).isDense, "v6 /\(commonBits), seed \(seed)") }
            }
        }
    }

    @Test("IPv6 hosts inside one /96 (dense) match the naive longest-match scan", arguments: 300..<316 as Range<UInt64>)
    func denseV6MatchesOracle(seed: UInt64) {
        // One base and at most 31 random low bits: every host shares the base's /96, so
        // the v6 hosts take the dense layout that IPv4 always has.
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v6, seed: seed)
        scenario.bases = Array(scenario.bases.prefix(1))
        scenario.maxRandomBits = 8 + Int(seed % 24)
        scenario.insertRandom(count: 60)
        let table = scenario.builder.freeze()
        #expect(table.v6.hostKeys.count == 0 || table.v6.hostKeys.isDense, "seed \(seed)")
        scenario.run(inserts: 60, removals: 20, randomQueries: 400)
    }

    @Test func denseAndFullLayoutsSerializeAlike() throws {
        // The serialized form holds whole keys: a dense v6 family writes the bytes a full one would.
        var builder = PrefixTableBuilder()
        let base: UInt128 = 0x2001_0DB8 << 96
        for low in [5, 9, 0x1_0000, 0xFFFF_FFFF] as [UInt128] {
            builder.insert(v6: base | low, prefixLength: 128, value: TableValue(listing: 1))
            builder.insert(v4: UInt32(truncatingIfNeeded: low), prefixLength: 32, value: TableValue(listing: 1))
        }
        let table = builder.freeze()
        #expect(table.v4.hostKeys.isDense && table.v6.hostKeys.isDense)
        let bytes = table.serialized()
        // v4 section starts after the 16-byte header and its own 16 bytes of counts and flags.
        let v4Keys = bytes[32..<48]
        #expect(Array(v4Keys) == [5, 0, 0, 0, 9, 0, 0, 0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF])
        let v6Keys = Array(bytes[(48 + 16)..<(48 + 16 + 64)])
        var expected: [UInt8] = []
        for low in [5, 9, 0x1_0000, 0xFFFF_FFFF] as [UInt128] { LittleEndian.write(base | low) { expected += $0 } }
        #expect(v6Keys == expected)
        let loaded = try PrefixTableSerializationTests.load(bytes)
        #expect(loaded.v6.hostKeys.isDense && loaded.serialized() == bytes)
    }
}
