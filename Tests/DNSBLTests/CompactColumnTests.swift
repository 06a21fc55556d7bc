// CompactColumnTests.swift -- CompactColumn against a plain array, on seeded random appends.

import Testing
@testable import DNSBL

struct CompactColumnTests {
    /// Random runs of single values, repeats and slices, mostly of one value: the column
    /// holds exactly the naive array's elements, and an array only when they differ.
    @Test(arguments: 0..<200)
    func matchesAPlainArray(seed: Int) {
        var random = PrefixTableTesting.RNG(seed: UInt64(seed))
        let fixed: UInt16? = random.chance(50) ? 0 : nil
        var column = CompactColumn<UInt16>(capacity: 64, shared: fixed)
        var naive: [UInt16] = []
        func value() -> UInt16 { random.chance(90) ? 7 : UInt16(random.below(3)) }
        for _ in 0..<random.below(12) {
            switch random.below(3) {
            case 0:
                let element = value()
                column.append(element)
                naive.append(element)
            case 1:
                let element = value(), count = random.below(5)
                column.append(repeating: element, count: count)
                naive += repeatElement(element, count: count)
            default:
                let slice = (0..<random.below(5)).map { _ in value() }
                column.append(contentsOf: slice[...])
                naive += slice
            }
        }
        #expect(column.count == naive.count, "seed \(seed)")
        let allShared = naive.allSatisfy { $0 == (fixed ?? naive.first) }
        #expect(column.isUniform == allShared, "seed \(seed): an array only when the values differ")
        let stored = column.isUniform ? Array(repeating: column.shared ?? 0, count: column.count) : column.values
        #expect(stored == naive, "seed \(seed)")
    }
}
