// ServedLookupTests.swift -- lookups answered from the served tables give what the store alone gives, and the store after a write.

import Logging
import Store
import Synchronization
import Testing
import TestSupport
@testable import Web

@Suite struct ServedLookupTests {
    static let t0: Int64 = 1_750_000_000

    /// The served table as publication builds it from the store's active listings: the
    /// longest match, an exclusion covering the address winning.
    struct ListingsTable: ServedListings {
        let zone: String
        let listings: [Listing]
        let template: String

        func match(_ address: IPPrefix, zone: String) -> ServedMatch? {
            guard zone == self.zone else { return nil }
            let covering = listings.filter { $0.prefix.contains(address) }
            if covering.contains(where: \.excluded) { return .excluded }
            guard let match = covering.max(by: { $0.prefix.length < $1.prefix.length }) else { return ServedMatch.none }
            return .listed(code: match.code, text: match.text ?? template, expires: match.expires, ownEntry: match.prefix == address)
        }
    }

    /// A table that lists every address (what a table behind the store could say).
    struct ListsEverything: ServedListings {
        func match(_ address: IPPrefix, zone: String) -> ServedMatch? {
            .listed(code: 2, text: "listed", expires: nil, ownEntry: false)
        }
    }

    static func site(_ harness: WebHarness, served: (any ServedListings)?) throws -> WebSite {
        var logger = Logger(label: "web-test")
        logger.logLevel = .warning
        return try WebSite(configuration: harness.configuration(), logger: logger, served: served, servedLag: .seconds(3600),
                           clock: harness.clock.function)
    }

    /// Scored (with two kinds), weak-only (held back), delisted, expired, special-purpose,
    /// manual network, manual host with its own code, TXT and expiry, excluded, unknown.
    @Test func servedAnswersAsTheStore() throws {
        let harness = try WebHarness(clock: TestClock(Self.t0)) { store in
            let zone = WebHarness.zone
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", kind: .dsn, time: Self.t0 - 600, digest: 1), zone: zone)
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", kind: .autoreply, time: Self.t0 - 300, digest: 2), zone: zone)
            _ = try store.recordHit(Hit(source: IPPrefix("45.2.2.2")!, kind: .dsn, strength: .weak, time: Self.t0 - 60,
                                        trap: "…@trap.test.example", digest: [3]), zone: zone)
            _ = try store.recordHit(WebHarness.hit("45.3.3.3", time: Self.t0 - 600, digest: 4), zone: zone)
            _ = try store.delist(IPPrefix("45.3.3.3")!, zone: zone, actor: "ops", reason: "fixed")
            _ = try store.recordHit(WebHarness.hit("45.6.6.6", time: Self.t0 - 40 * 86400, digest: 5), zone: zone)
            _ = try store.recordHit(WebHarness.hit("10.1.2.3", time: Self.t0 - 60, digest: 6), zone: zone)
            _ = try store.list(IPPrefix("45.4.0.0/16")!, zone: zone, actor: "ops", reason: "spam run")
            _ = try store.recordHit(WebHarness.hit("45.4.1.1", time: Self.t0 - 60, digest: 7), zone: zone)
            _ = try store.list(IPPrefix("45.7.7.7")!, zone: zone, code: 66, text: "see $", expires: Self.t0 + 3600,
                               actor: "ops", reason: "r")
            _ = try store.exclude(IPPrefix("45.5.5.5")!, zone: zone, actor: "ops", reason: "our relay")
            _ = try store.recordHit(WebHarness.hit("45.5.5.5", time: Self.t0 - 60, digest: 8), zone: zone)
        }
        let table = ListingsTable(zone: WebHarness.zone, listings: try harness.store.activeListings(zone: WebHarness.zone, now: Self.t0),
                                  template: ZoneSettings.defaults(zone: WebHarness.zone).txtTemplate)
        let fast = try Self.site(harness, served: table)
        let plain = try Self.site(harness, served: nil)
        for ip in ["45.1.2.3", "45.2.2.2", "45.3.3.3", "45.6.6.6", "10.1.2.3", "45.4.1.1", "45.4.9.9", "45.7.7.7", "45.5.5.5",
                   "45.9.9.9", "2001:4860::1"] {
            let address = IPPrefix(address: ip.utf8)!
            let expected = try plain.lookup(address)
            #expect(try fast.lookup(address) == expected, "\(ip)")
            #expect(try fast.lookup(address).json() == expected.json(), "\(ip)")
        }
    }

    /// The served answer is used until the site writes; from then on, for `servedLag`, the
    /// store alone answers (a table may not show the write yet).
    @Test func afterAWriteTheStoreAnswers() throws {
        let harness = try WebHarness(clock: TestClock(Self.t0))
        let site = try Self.site(harness, served: ListsEverything())
        let address = IPPrefix("45.9.9.9")!
        #expect(try site.lookup(address).zones.first?.status == "listed", "the served table answers")
        let request = try site.delist(.init(ip: "45.9.9.9", zone: WebHarness.zone, email: "a@example.com", reason: "fixed"),
                                      client: IPPrefix("127.0.0.1")!)
        #expect(request.status == .refused)
        #expect(try site.lookup(address).zones.first?.status == "not-listed", "the store answers after a write")
    }
}
