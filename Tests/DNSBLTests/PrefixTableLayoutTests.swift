// PrefixTableLayoutTests.swift -- the dense and full host layouts against plain sorted arrays.

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

    /// Every read of ``HostTable`` agrees with the sorted array it was built from.
    static func checkReads<Key: TableKey>(_ sorted: [Key], seed: UInt64, context: String) {
        let hosts = HostTable(sortedKeys: sorted)
        #expect(hosts.invariantViolations() == [], "\(context)")
        #expect(hosts.count == sorted.count && hosts.allKeys == sorted, "\(context)")
        #expect(hosts.isDense == (!sorted.isEmpty && hosts.layout.shift <= 16), "\(context)")
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
                if commonBits >= 96 { #expect(HostTable(sortedKeys: keys).isDense, "v6 /\(commonBits), seed \(seed)") }
                if commonBits < 90 && count > 2 { #expect(!HostTable(sortedKeys: keys).isDense, "v6 /\(commonBits), seed \(seed)") }
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
        #expect(table.v6.hosts.count == 0 || table.v6.hosts.isDense, "seed \(seed)")
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
        #expect(table.v4.hosts.isDense && table.v6.hosts.isDense)
        let bytes = table.serialized()
        // v4 section starts after the 16-byte header and its own 24 bytes of counts, flags and common value.
        let v4Keys = bytes[40..<56]
        #expect(Array(v4Keys) == [5, 0, 0, 0, 9, 0, 0, 0, 0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFF])
        let v6Keys = Array(bytes[(56 + 24)..<(56 + 24 + 64)])
        var expected: [UInt8] = []
        for low in [5, 9, 0x1_0000, 0xFFFF_FFFF] as [UInt128] { LittleEndian.write(base | low) { expected += $0 } }
        #expect(v6Keys == expected)
        let loaded = try PrefixTableSerializationTests.load(bytes)
        #expect(loaded.v6.hosts.isDense && loaded.serialized() == bytes)
    }

    @Test("disjoint prefixes are read as their own intervals", arguments: 400..<412 as Range<UInt64>)
    func flatPrefixesMatchOracle(seed: UInt64) {
        // Hosts and one prefix length, no exclusions: the prefixes never nest, so a table
        // is flat unless two adjacent ones share a value (bases make that common too).
        var scenario4 = PrefixTableScenario(family: PrefixTableTesting.v4, seed: seed)
        scenario4.onlyLengths = [24, 32]
        scenario4.exclusionPercent = 0
        scenario4.run(inserts: 120, removals: 30, randomQueries: 500)
        var scenario6 = PrefixTableScenario(family: PrefixTableTesting.v6, seed: seed)
        scenario6.onlyLengths = [64, 128]
        scenario6.exclusionPercent = seed % 2 == 0 ? 0 : 2
        scenario6.run(inserts: 120, removals: 30, randomQueries: 500)
    }

    @Test func flatPrefixesAreStoredOnceAndNestingUndoesIt() throws {
        var builder = PrefixTableBuilder()
        for index in 0..<100 as Range<UInt32> {
            builder.insert(v4: 0x0A00_0000 | index << 9, prefixLength: 24, value: TableValue(listing: 1))   // every other /24
            builder.insert(v6: UInt128(0x2001_0DB8_0000_0000 | UInt64(index) << 17) << 64, prefixLength: 64,
                           value: TableValue(listing: 2, expires: 7))
        }
        let flat = builder.freeze()
        #expect(flat.v4.prefixesAreFlat && flat.v6.prefixesAreFlat && flat.invariantViolations() == [])
        #expect(flat.v4.rangeStarts.isEmpty && flat.v6.rangeEnds.isEmpty && flat.v4.intervalCount == 100)
        // The prefixes once each, and each family's interval filter: 2^16 bits for 100 intervals.
        #expect(flat.memoryBytes == 100 * (4 + 1 + 8) + 100 * (16 + 1 + 8) + 2 * 8192)
        #expect(flat.lookup(v4: 0x0A00_0300) == nil && flat.lookup(v4: 0x0A00_02FF)?.listing == 1)
        #expect(flat.lookup(v4: 0x0A00_01FF) == nil && flat.lookup(v4: 0x0A00_00FF)?.listing == 1)
        #expect(flat.match(v4: 0x0A00_0005) == .network(TableValue(listing: 1)))

        // A nested prefix, an exclusion, or two adjacent equal prefixes need the stored intervals.
        var delta = PrefixTableDelta()
        delta.insert(v4: 0x0A00_0000, prefixLength: 8, value: TableValue(listing: 3))
        delta.insert(v6: 0x2001_0DB8_0000_0000 << 64, prefixLength: 64, value: .excluded)
        let nested = flat.applying(delta)
        #expect(!nested.v4.prefixesAreFlat && !nested.v6.prefixesAreFlat && nested.invariantViolations() == [])
        #expect(nested.lookup(v4: 0x0A00_01FF)?.listing == 3 && nested.lookup(v6: 0x2001_0DB8_0000_0000 << 64) == nil)
        var adjacent = PrefixTableBuilder()
        adjacent.insert(v4: 0x0A00_0000, prefixLength: 24, value: TableValue(listing: 1))
        adjacent.insert(v4: 0x0A00_0100, prefixLength: 24, value: TableValue(listing: 1))
        #expect(!adjacent.freeze().v4.prefixesAreFlat && adjacent.freeze().v4.intervalCount == 1)

        // Undoing the edits gives the flat table back, bytes and layout.
        var undo = PrefixTableDelta()
        undo.remove(v4: 0x0A00_0000, prefixLength: 8)
        undo.insert(v6: 0x2001_0DB8_0000_0000 << 64, prefixLength: 64, value: TableValue(listing: 2, expires: 7))
        let again = nested.applying(undo)
        #expect(again.v4.prefixesAreFlat && again.v6.prefixesAreFlat && again.serialized() == flat.serialized())
        let loaded = try PrefixTableSerializationTests.load(flat.serialized())
        #expect(loaded.v4.prefixesAreFlat && loaded.invariantViolations() == [])
    }

    @Test func hostColumnsStayOneValueUntilTwoDiffer() {
        var rng = PrefixTableTesting.RNG(seed: 5)
        for round in 0..<200 {
            var column = HostColumn<UInt16>(capacity: 8)
            var expected: [UInt16] = []
            for _ in 0..<rng.below(12) {
                let value = UInt16(rng.below(round % 3 + 1))
                switch rng.below(3) {
                case 0:
                    column.append(value)
                    expected.append(value)
                case 1:
                    let times = rng.below(4)
                    column.append(value, times: times)
                    expected += Array(repeating: value, count: times)
                default:
                    let run = (0..<rng.below(4)).map { _ in UInt16(rng.below(round % 3 + 1)) }
                    column.append(contentsOf: run[...])
                    expected += run
                }
            }
            if let first = expected.first, expected.allSatisfy({ $0 == first }) {
                #expect(column.values.isEmpty && column.shared == first, "round \(round)")
            } else if expected.isEmpty {
                #expect(column.values.isEmpty && column.shared == nil, "round \(round)")
            } else {
                #expect(column.values == expected, "round \(round)")
            }
        }
    }
}
