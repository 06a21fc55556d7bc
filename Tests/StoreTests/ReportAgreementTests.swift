// ReportAgreementTests.swift -- `report` (show, the web lookup) answers as the served snapshot does, on random stores.

import Testing
import TestSupport
@testable import Store

@Suite struct ReportAgreementTests {
    /// Random manual networks and hosts, exclusions, delistings and hits in a small space
    /// (45.1.0.0/22), so they nest and overlap; then every address of the space: the
    /// report's code is the longest match of the bulk snapshot, excluded or not.
    @Test(arguments: [1, 2, 3] as [UInt64]) func reportMatchesTheSnapshot(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let directory = TemporaryDirectory()
        let clock = TestClock()
        let store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        let zone = "bl.test.example"
        try store.saveZoneSettings(.defaults(zone: zone))
        func randomPrefix(_ lengths: ClosedRange<Int>) -> IPPrefix {
            let host = UInt128(0x2D01_0000) + UInt128(Int.random(in: 0..<1024, using: &random))
            return IPPrefix(family: .v4, address: host, length: 32)!.truncated(to: Int.random(in: lengths, using: &random))
        }
        for index in 0..<60 {
            let host = randomPrefix(32...32)
            _ = try store.recordHit(Hit(source: host, kind: HitKind.allCases.randomElement(using: &random)!, time: clock.now - 3600,
                                        trap: "…@t.example", digest: [UInt8(index), 1, 2, 3]), zone: zone)
        }
        for _ in 0..<12 { _ = try? store.list(randomPrefix(22...32), zone: zone, actor: "t", reason: "r") }
        for _ in 0..<6 { _ = try? store.exclude(randomPrefix(26...32), zone: zone, actor: "t", reason: "r") }
        for _ in 0..<10 { _ = try? store.delist(randomPrefix(24...32), zone: zone, actor: "t", reason: "r") }
        clock.advance(10)

        let listings = try store.activeListings(zone: zone, now: clock.now)
        for offset in 0..<1024 {
            let address = IPPrefix(family: .v4, address: UInt128(0x2D01_0000 + offset), length: 32)!
            let match = listings.filter { $0.prefix.contains(address) }.max { $0.prefix.length < $1.prefix.length }
            let expected = match.flatMap { $0.excluded ? nil : $0.code }
            let report = try store.report(for: address, zone: zone, now: clock.now, hitLimit: 0, auditLimit: 0)
            #expect(report.code == expected, "seed \(seed): \(address): report \(report.status) \(report.code.map(String.init) ?? "-"), snapshot \(expected.map(String.init) ?? "-")")
        }
    }
}
