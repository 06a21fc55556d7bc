// HistoryTests.swift -- the daily history behind /stats: what was listed each day, delistings and exclusions subtracted.

import Testing
import TestSupport
@testable import Store

@Suite struct HistoryTests {
    /// Noon of a UTC day, so that an act at noon of day k changes day k's count (taken at
    /// the day's end).
    static let t0: Int64 = 20254 * 86400 + 43200
    static let zone = "bl.test.example"

    /// Five sources listed on day 0, then: B delisted on day 3 for good; C delisted on day 2
    /// and listed again by a hit on day 5; D excluded on day 6; E inside a /24 delisted on
    /// day 4; A untouched. Ten days, today (day 9) counted at `now`.
    @Test func listedPerDaySubtractsDelistingsAndExclusions() throws {
        let directory = TemporaryDirectory()
        let clock = TestClock(Self.t0)
        let store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        try store.saveZoneSettings(.defaults(zone: Self.zone))
        var digest: UInt8 = 0
        func hit(_ address: String) throws {
            digest += 1
            _ = try store.recordHit(Hit(source: IPPrefix(address)!, kind: .dsn, time: clock.now, trap: "…@t.example", digest: [digest]),
                                    zone: Self.zone)
        }
        for address in ["45.0.0.1", "45.0.0.2", "45.0.0.3", "45.0.0.4", "45.7.7.7"] { try hit(address) }
        func onDay(_ day: Int64, _ act: () throws -> Void) throws {
            clock.now = Self.t0 + day * 86400
            try act()
        }
        try onDay(2) { _ = try store.delist(IPPrefix("45.0.0.3")!, zone: Self.zone, actor: "t", reason: "r") }
        try onDay(3) { _ = try store.delist(IPPrefix("45.0.0.2")!, zone: Self.zone, actor: "t", reason: "r") }
        try onDay(4) { _ = try store.delist(IPPrefix("45.7.7.0/24")!, zone: Self.zone, actor: "t", reason: "r") }
        try onDay(5) { try hit("45.0.0.3") }
        try onDay(6) { _ = try store.exclude(IPPrefix("45.0.0.4")!, zone: Self.zone, actor: "t", reason: "r") }
        clock.now = Self.t0 + 9 * 86400

        let history = try store.history(zone: Self.zone, now: clock.now, dayCount: 10)
        #expect(history.days.map(\.start) == (0..<10).map { Self.t0 - 43200 + Int64($0) * 86400 })
        #expect(history.days.map(\.listed) == [5, 5, 4, 3, 2, 3, 2, 2, 2, 2])
        #expect(history.listedNow == 2)
        #expect(history.days.map { $0.hits["dsn"] ?? 0 } == [5, 0, 0, 0, 0, 1, 0, 0, 0, 0])
    }
}
