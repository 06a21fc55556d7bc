// PublisherStepTests.swift -- a change that touches most of a table is published in steps.

import DNSBL
import Logging
import Store
import Testing
import TestSupport
@testable import Publication

@Suite struct PublisherStepTests {
    /// An import spread over every /8 touches every host shard: it is served in parts, each
    /// under the previous serial, and the last table holds all of it.
    @Test func aMergeTouchingEveryShardIsPublishedInSteps() throws {
        let directory = TemporaryDirectory()
        let clock = TestClock()
        let zone = "bl.example.org"
        let admin = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        try admin.saveZoneSettings(.defaults(zone: zone))
        // Hosts at both ends of the unicast space, so the table's buckets are the /16s.
        let ends = ([0x0100_0001, 0xDFFF_FFFE] as [UInt32]).map { ImportEntry(prefix: .host(v4: $0)) }
        _ = try admin.importEntries(ends, zone: zone, replace: false, actor: "t", reason: "ends")
        let publisher = Publisher(store: try Store(path: directory.file("rbld.sqlite"), clock: clock.function),
                                  zones: [zone], logger: Logger(label: "test.steps"), clock: clock.function)
        let served = try publisher.loadAll()
        let before = try #require(served.zone(named: zone))

        let addresses = (0..<4096 as Range<UInt32>).map { index -> UInt32 in
            let octet: UInt32 = 1 + index % 223
            let low: UInt32 = (index &* 2_654_435_761) & 0xFF_FFFF
            return octet << 24 | low
        }
        _ = try admin.importEntries(addresses.map { ImportEntry(prefix: .host(v4: $0)) }, zone: zone, replace: false,
                                    actor: "t", reason: "spread")
        var steps: [ZoneSnapshot] = []
        let published = try publisher.update { steps.append($0) }
        let last = try #require(published.first)
        #expect(steps.count >= 3, "\(steps.count) steps")
        #expect(steps.allSatisfy { $0.config.soa.serial == before.config.soa.serial })
        #expect(last.config.soa.serial != before.config.soa.serial)
        // Each step holds more of the import, and the last holds all of it.
        let counts = steps.map(\.table.v4Count) + [last.table.v4Count]
        #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 < $1 }, "\(counts)")
        #expect(addresses.allSatisfy { last.table.lookup(v4: $0) != nil })
    }
}
