// ReportAgreementTests.swift -- `report` (show, the web lookup) answers as the served snapshot does, on random stores.

import Testing
import TestSupport
@testable import Store

@Suite struct ReportAgreementTests {
    /// A store with one zone, its clock, and random prefixes among the first
    /// `addressCount` addresses of 45.1.0.0, so they nest and overlap.
    struct Fixture {
        static let zone = "bl.test.example"
        let directory = TemporaryDirectory()
        let clock = TestClock()
        let store: Store
        let random: SplitMix64
        let addressCount: Int

        init(seed: UInt64, addressCount: Int) throws {
            store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
            try store.saveZoneSettings(.defaults(zone: Self.zone))
            random = SplitMix64(seed: seed)
            self.addressCount = addressCount
        }

        func prefix(_ lengths: ClosedRange<Int>, using random: inout SplitMix64) -> IPPrefix {
            let host = UInt128(0x2D01_0000) + UInt128(Int.random(in: 0..<addressCount, using: &random))
            return IPPrefix(family: .v4, address: host, length: 32)!.truncated(to: Int.random(in: lengths, using: &random))
        }
    }

    /// Random manual networks and hosts, exclusions, delistings and hits in a small space
    /// (45.1.0.0/22), so they nest and overlap; then every address of the space: the
    /// report's code is the longest match of the bulk snapshot, excluded or not.
    @Test(arguments: [1, 2, 3] as [UInt64]) func reportMatchesTheSnapshot(seed: UInt64) throws {
        let fixture = try Fixture(seed: seed, addressCount: 1024)
        let (store, clock, zone) = (fixture.store, fixture.clock, Fixture.zone)
        var random = fixture.random
        func randomPrefix(_ lengths: ClosedRange<Int>) -> IPPrefix { fixture.prefix(lengths, using: &random) }
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

    /// The point lookups publication runs on every change agree with the bulk snapshot, on
    /// random stores: `listing(for:)`, and `listings(for:)` by point lookups (16 prefixes
    /// or fewer) and by loading the exclusions and delistings (more), for every prefix the
    /// store has a row for and for prefixes it has none for. Each path gathers the facts
    /// for `ListingPrecedence.decide` its own way; this holds them to one answer.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64]) func pointLookupsMatchTheSnapshot(seed: UInt64) throws {
        let fixture = try Fixture(seed: seed, addressCount: 512)
        let (store, clock, zone) = (fixture.store, fixture.clock, Fixture.zone)
        var random = fixture.random
        func randomPrefix(_ lengths: ClosedRange<Int>) -> IPPrefix { fixture.prefix(lengths, using: &random) }
        var touched: Set<IPPrefix> = []
        for index in 0..<80 {
            let source = randomPrefix(32...32)
            let age = [3600, 40 * 86400, 600].randomElement(using: &random)!
            let strength: EvidenceStrength = Int.random(in: 0..<4, using: &random) == 0 ? .weak : .strong
            _ = try store.recordHit(Hit(source: source, kind: HitKind.allCases.randomElement(using: &random)!,
                                        strength: strength, time: clock.now - Int64(age), trap: "t\(index % 3)@t.example",
                                        digest: [UInt8(index), 9]), zone: zone)
            touched.insert(source)
        }
        for _ in 0..<14 {
            let prefix = randomPrefix(22...32)
            let expires: Int64? = Int.random(in: 0..<3, using: &random) == 0 ? clock.now + 5 : nil
            _ = try? store.list(prefix, zone: zone, expires: expires, actor: "t", reason: "r")
            touched.insert(prefix)
        }
        for _ in 0..<6 {
            let prefix = randomPrefix(26...32)
            _ = try? store.exclude(prefix, zone: zone, actor: "t", reason: "r")
            touched.insert(prefix)
        }
        for _ in 0..<10 {
            let prefix = randomPrefix(24...32)
            _ = try? store.delist(prefix, zone: zone, actor: "t", reason: "r")
            touched.insert(prefix)
        }
        for _ in 0..<40 { touched.insert(randomPrefix(20...32)) }  // most without a row
        clock.advance(10)  // some manual listings have expired

        let bulk = Dictionary(try store.activeListings(zone: zone, now: clock.now).map { ($0.prefix, $0) },
                              uniquingKeysWith: { first, _ in first })
        let prefixes = touched.sorted { ($0.address, $0.length) < ($1.address, $1.length) }
        for prefix in prefixes {
            #expect(try store.listing(for: prefix, zone: zone, now: clock.now) == bulk[prefix],
                    "seed \(seed): listing(for: \(prefix))")
        }
        let few = Array(prefixes.prefix(16))
        #expect(try store.listings(for: few, zone: zone, now: clock.now) == few.map { bulk[$0] },
                "seed \(seed): listings(for:) by point lookups")
        #expect(prefixes.count > 16)
        #expect(try store.listings(for: prefixes, zone: zone, now: clock.now) == prefixes.map { bulk[$0] },
                "seed \(seed): listings(for:) with the tables loaded")
    }

    /// The served table as the snapshot builds it from `listings`: the longest match, and
    /// whether it is an exclusion, the address's own entry or a network's.
    static func served(_ address: IPPrefix, in listings: [Listing], template: String) -> ServedMatch {
        let covering = listings.filter { $0.prefix.contains(address) }
        if covering.contains(where: \.excluded) { return .excluded }
        guard let match = covering.max(by: { $0.prefix.length < $1.prefix.length }) else { return .none }
        return .listed(code: match.code, text: match.text ?? template, expires: match.expires, ownEntry: match.prefix == address)
    }

    /// The lookup's fast path (the served table plus the store's own rows) gives what the
    /// full report gives, on random stores with manual, imported, expiring, excluded,
    /// delisted, scored, expired, held-back and special-purpose addresses; and when the
    /// table is older than the store, it answers as the table does or defers to the report.
    @Test(arguments: [1, 2, 3, 4] as [UInt64]) func publicReportMatchesTheReport(seed: UInt64) throws {
        let fixture = try Fixture(seed: seed, addressCount: 512)
        let (store, clock, zone) = (fixture.store, fixture.clock, Fixture.zone)
        var random = fixture.random
        func randomPrefix(_ lengths: ClosedRange<Int>) -> IPPrefix { fixture.prefix(lengths, using: &random) }
        for index in 0..<80 {
            let age = [3600, 40 * 86400, 600].randomElement(using: &random)!
            let strength: EvidenceStrength = Int.random(in: 0..<4, using: &random) == 0 ? .weak : .strong
            _ = try store.recordHit(Hit(source: randomPrefix(32...32), kind: HitKind.allCases.randomElement(using: &random)!,
                                        strength: strength, time: clock.now - Int64(age), trap: "…@t.example",
                                        digest: [UInt8(index), 1, 2, 3]), zone: zone)
        }
        _ = try store.recordHit(Hit(source: IPPrefix("10.1.2.3")!, kind: .dsn, time: clock.now - 60, trap: "…@t.example",
                                    digest: [200, 1]), zone: zone)
        for _ in 0..<10 { _ = try? store.list(randomPrefix(23...32), zone: zone, actor: "t", reason: "r") }
        for _ in 0..<4 {
            _ = try? store.list(randomPrefix(28...32), zone: zone, code: 66, text: "own $", expires: clock.now + 50, actor: "t", reason: "r")
        }
        for _ in 0..<5 { _ = try? store.exclude(randomPrefix(27...32), zone: zone, actor: "t", reason: "r") }
        for _ in 0..<8 { _ = try? store.delist(randomPrefix(26...32), zone: zone, actor: "t", reason: "r") }
        clock.advance(10)
        let template = ZoneSettings.defaults(zone: zone).txtTemplate
        var addresses = (0..<512).map { IPPrefix(family: .v4, address: UInt128(0x2D01_0000 + $0), length: 32)! }
        addresses += [IPPrefix("10.1.2.3")!, IPPrefix("45.9.9.9")!, IPPrefix("2001:db8::1")!]

        // Only a delisted source, whose delisting the table does not show, defers to the report.
        func check(_ listings: [Listing], _ label: String) throws {
            for address in addresses {
                let expected = PublicReport(try store.report(for: address, zone: zone, now: clock.now, auditLimit: 0))
                let served = Self.served(address, in: listings, template: template)
                guard let fast = try store.publicReport(for: address, zone: zone, now: clock.now, served: served) else {
                    #expect(expected.status == .delisted, "seed \(seed), \(label): \(address) (\(expected.status)) deferred")
                    continue
                }
                #expect(fast == expected, "seed \(seed), \(label): \(address) served \(served)")
            }
        }
        try check(try store.activeListings(zone: zone, now: clock.now), "current table")

        // A table built before the manual listings expired: those read as the report has them.
        clock.advance(60)
        let older = try store.activeListings(zone: zone, now: clock.now - 60)
        for address in addresses {
            let served = Self.served(address, in: older, template: template)
            if case .listed(_, _, let expires?, _) = served, expires <= clock.now {
                #expect(try store.publicReport(for: address, zone: zone, now: clock.now, served: served) == nil,
                        "seed \(seed): \(address): an expired served listing defers to the report")
            }
        }
        try check(try store.activeListings(zone: zone, now: clock.now), "after expiry")
    }
}
