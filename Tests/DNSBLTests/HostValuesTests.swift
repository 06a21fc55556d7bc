// HostValuesTests.swift -- the three forms of per-host values and the choice between them.

import Testing
@testable import DNSBL

@Suite("Host values")
struct HostValuesTests {
    static let common = TableValue(listing: 1)

    /// `count` hosts 10.0.0.0, 10.0.0.1, ... of the common value, but those in `differing`.
    static func table(count: Int, differing: [Int: TableValue]) -> PrefixTable {
        var builder = PrefixTableBuilder()
        for index in 0..<count {
            builder.insert(v4: 0x0A00_0000 + UInt32(index), prefixLength: 32, value: differing[index] ?? common)
        }
        return builder.freeze()
    }

    @Test func fewDifferingHostsAreExceptions() throws {
        let scored = TableValue(listing: 2, expires: 1_900_000_000)
        let table = Self.table(count: 10_000, differing: [0: scored, 17: .excluded, 9_999: scored])
        let values = table.v4.hosts.globalValues()
        #expect(values.exceptionIndexes == [0, 17, 9_999] && values.common == Self.common && !values.isFull)
        #expect(values.memoryBytes == 3 * 12)
        #expect(table.lookup(v4: 0x0A00_0000) == scored && table.lookup(v4: 0x0A00_0011) == nil)
        #expect(table.lookup(v4: 0x0A00_0001) == Self.common && table.lookup(v4: 0x0A00_270F) == scored)
        #expect(table.invariantViolations() == [])
        let reloaded = try PrefixTableSerializationTests.load(table.serialized())
        #expect(reloaded.v4.hosts.globalValues().exceptionIndexes == [0, 17, 9_999] && reloaded.serialized() == table.serialized())
    }

    @Test func manyDifferingHostsArePerHostArrays() {
        var differing: [Int: TableValue] = [:]
        for index in stride(from: 0, to: 1_000, by: 3) { differing[index] = TableValue(listing: 2) }
        let table = Self.table(count: 1_000, differing: differing)
        let values = table.v4.hosts.globalValues()
        // 334 exceptions (4 KB) against 2 bytes of listing a host (2 KB): the listings win.
        #expect(values.listings.count == 1_000 && values.expiries.isEmpty && values.exceptionIndexes.isEmpty)
        #expect(table.lookup(v4: 0x0A00_0000) == TableValue(listing: 2) && table.lookup(v4: 0x0A00_0001) == Self.common)
        #expect(table.invariantViolations() == [])
    }

    @Test func aSharedExpiryIsNotStoredPerHost() {
        let value = TableValue(listing: 3, expires: 42)
        let table = Self.table(count: 100, differing: Dictionary(uniqueKeysWithValues: (0..<100).map { ($0, value) }))
        #expect(table.v4.hosts.globalValues().memoryBytes == 0 && table.lookup(v4: 0x0A00_0005) == value)
    }

    @Test func theMajorityIsCommonWhateverComesFirst() {
        // The first host is the odd one out; the form does not depend on the order of arrival.
        let table = Self.table(count: 1_000, differing: [0: TableValue(listing: 2)])
        #expect(table.v4.hosts.globalValues().common == Self.common && table.v4.hosts.globalValues().exceptionIndexes == [0])
        // The same values reached by a delta on a table of per-host listings.
        var differing: [Int: TableValue] = [:]
        for index in stride(from: 0, to: 1_000, by: 2) { differing[index] = TableValue(listing: 2) }
        let full = Self.table(count: 1_000, differing: differing)
        #expect(full.v4.hosts.globalValues().isFull)
        var delta = PrefixTableDelta()
        for index in stride(from: 2, to: 1_000, by: 2) {
            delta.insert(v4: 0x0A00_0000 + UInt32(index), prefixLength: 32, value: Self.common)
        }
        let merged = full.applying(delta)
        #expect(merged.v4.hosts.globalValues().exceptionIndexes == [0] && merged.serialized() == table.serialized())
    }

    @Test func oneChangedHostIsADifferenceForTransfers() {
        let scored = TableValue(listing: 2, expires: 1_900_000_000)
        let before = Self.table(count: 5_000, differing: [10: scored])
        for (host, value) in [(10, TableValue(listing: 2, expires: 1_900_000_001)), (11, scored), (10, Self.common)] {
            var delta = PrefixTableDelta()
            delta.insert(v4: 0x0A00_0000 + UInt32(host), prefixLength: 32, value: value)
            let after = before.applying(delta)
            #expect(!after.v4.hosts.globalValues().isFull && after.invariantViolations() == [])
            let changed = before.v4.changedNetworks(comparedWith: after.v4, labelBits: 8)
            #expect(changed == [TablePrefix(address: 0x0A00_0000 + UInt32(host), prefixLength: 32)], "host \(host)")
            #expect(after.v4.changedNetworks(comparedWith: before.v4, labelBits: 8) == changed, "host \(host)")
        }
    }

    @Test func collectorRunsAndSlicesGiveTheOneForm() {
        var rng = PrefixTableTesting.RNG(seed: 77)
        for round in 0..<300 {
            let count = 1 + rng.below(200)
            let pool = [TableValue(listing: 1), TableValue(listing: 2), TableValue(listing: 1, expires: 9), .excluded]
            let odds = [0, 1, 5, 30, 60][round % 5]
            let values = (0..<count).map { _ in rng.chance(odds) ? pool[rng.below(pool.count)] : pool[round % 2] }
            var oneByOne = HostValues.Collector(capacity: count)
            for value in values { oneByOne.append(value) }
            let reference = oneByOne.finish()
            #expect(reference.violation == nil, "round \(round)")
            #expect((0..<count).allSatisfy { reference[$0] == values[$0] }, "round \(round)")
            // The same values copied from the reference in random slices, with extra capacity.
            var sliced = HostValues.Collector(capacity: count + rng.below(50))
            var next = 0
            while next < count {
                let end = min(count, next + 1 + rng.below(40))
                sliced.append(reference, range: next..<end)
                next = end
            }
            let copy = sliced.finish()
            #expect(copy.violation == nil, "round \(round)")
            #expect(copy.common == reference.common && copy.listings == reference.listings
                    && copy.expiries == reference.expiries && copy.exceptionIndexes == reference.exceptionIndexes
                    && copy.exceptionValues == reference.exceptionValues, "round \(round)")
        }
    }
}
