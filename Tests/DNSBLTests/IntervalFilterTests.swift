// IntervalFilterTests.swift -- the blocks a family's intervals touch, against a naive marking.

import Testing
@testable import DNSBL

@Suite("Interval filter")
struct IntervalFilterTests {
    /// The blocks the filter marks, read bit by bit.
    static func marked<Key: TableKey>(_ filter: IntervalFilter<Key>) -> [Int] {
        (0..<(1 << filter.blockBits)).filter { filter.words[$0 >> 6] & 1 << UInt64($0 & 63) != 0 }
    }

    static func filter<Key: TableKey>(_ intervals: [(Key, Key)]) -> IntervalFilter<Key> {
        IntervalFilter(count: intervals.count, start: { intervals[$0].0 }, end: { intervals[$0].1 })
    }

    @Test(arguments: [
        // Two /24s far apart: the intervals share no prefix, so the blocks are the /16s.
        ([(0x0A00_0100, 0x0A00_01FF), (0xC000_0200, 0xC000_02FF)], [0x0A00, 0xC000]),
        // A /8 and a /24 far apart: the 256 /16s of the /8, a whole number of words, and one more.
        ([(0x0A00_0000, 0x0AFF_FFFF), (0xC633_6400, 0xC633_64FF)], Array(0x0A00...0x0AFF) + [0xC633]),
        // A stretch across block boundaries, unaligned at both ends.
        ([(0x0000_0000, 0x0000_0001), (0x0A00_FF00, 0x0A45_00FF), (0xFFFF_FFFF, 0xFFFF_FFFF)],
         [0] + Array(0x0A00...0x0A45) + [0xFFFF]),
    ] as [([(UInt32, UInt32)], [Int])])
    func ipv4Blocks(intervals: [(UInt32, UInt32)], blocks: [Int]) {
        let filter = Self.filter(intervals)
        #expect(Self.marked(filter) == blocks)
    }

    @Test func ipv4IntervalsInsideOneSlash16AreMarkedAddressByAddress() {
        // Everything inside 10.1.0.0/16: the blocks are its 65,536 addresses, the 16 bits
        // below the shared /16.
        let filter = Self.filter([(UInt32(0x0A01_0010), UInt32(0x0A01_0020)), (0x0A01_F000, 0x0A01_F0FF)])
        #expect(Self.marked(filter) == Array(0x10...0x20) + Array(0xF000...0xF0FF))
        #expect(filter.mayHold(0x0A01_0015) && !filter.mayHold(0x0A01_0021) && !filter.mayHold(0x0A02_0015))
    }

    @Test func ipv6IntervalsInOneProviderPrefixUseTheBitsBelowIt() {
        // Two /64s in 2001:db8::/32: the blocks are the 16 bits below what they share.
        let base: UInt128 = 0x2001_0DB8 << 96
        let a = base | UInt128(0x0001_0000) << 64, b = base | UInt128(0x0002_0000) << 64
        let filter = Self.filter([(a, a | UInt128(UInt64.max)), (b, b | UInt128(UInt64.max))])
        #expect(Self.marked(filter).count == 2)
        #expect(filter.mayHold(a | 5) && filter.mayHold(b) && !filter.mayHold(base) && !filter.mayHold(UInt128(0x2001) << 112))
        #expect(IntervalFilter<UInt128>(count: 0, start: { _ in 0 }, end: { _ in 0 }).mayHold(a) == false)
    }

    @Test func theBlocksFollowTheNumberOfIntervals() {
        // About eight blocks an interval, from 2^16 to 2^24: ceil(log2(count)) + 3 bits.
        for (count, bits) in [(1, 16), (8192, 16), (8193, 17), (10_000, 17), (100_000, 20), (3_000_000, 24)] {
            let filter = IntervalFilter<UInt32>(count: count, start: { UInt32($0) << 8 }, end: { UInt32($0) << 8 | 0xFF })
            #expect(filter.blockBits == bits && filter.memoryBytes == (1 << bits) / 8, "\(count) intervals")
            // Consecutive /24s from 0.0.0.0: the blocks they cover and none above.
            let covered = ((count << 8) - 1) >> filter.shift
            #expect(filter.mayHold(UInt32((count << 8) - 1)) && (covered + 1 == 1 << bits || !filter.mayHold(UInt32(covered + 1) << filter.shift)),
                    "\(count) intervals")
        }
    }

    /// Random disjoint intervals: every address an interval holds passes, and the marked
    /// blocks are exactly those the intervals touch, read block by block.
    @Test("random intervals: no false negatives, exactly the touched blocks", arguments: [1, 2, 3, 4] as [UInt64])
    func randomIntervals(seed: UInt64) {
        var rng = PrefixTableTesting.RNG(seed: seed)
        var scenario = PrefixTableScenario(family: PrefixTableTesting.v4, seed: seed)
        scenario.insertRandom(count: 200)
        let family = scenario.builder.freeze().v4
        let starts = (0..<family.intervalCount).map(family.intervalStart)
        let ends = (0..<family.intervalCount).map(family.intervalEnd)
        let filter = family.intervalFilter
        #expect(family.invariantViolations() == [])
        var expected = Set<Int>()
        for (start, end) in zip(starts, ends) {
            for block in filter.block(of: start)!...filter.block(of: end)! { expected.insert(block) }
        }
        #expect(!starts.isEmpty && Self.marked(filter) == expected.sorted())
        var probes = starts + ends + starts.map { $0 &- 1 } + ends.map { $0 &+ 1 }
        for _ in 0..<2000 { probes.append(rng.key()) }
        let missed = probes.filter { probe in
            zip(starts, ends).contains { $0.0 <= probe && probe <= $0.1 } && !filter.mayHold(probe)
        }
        #expect(missed.isEmpty, "addresses inside an interval that the filter turns away: \(missed.count)")
    }
}
