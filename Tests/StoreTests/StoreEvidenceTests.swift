// StoreEvidenceTests.swift -- weak evidence in a real store: held back, corroborated,
// confirmed, rejected; the delistings it may not lift; batches and single hits alike.

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreEvidenceTests {
    let directory = TemporaryDirectory()
    let clock = TestClock()
    let zone = "bl.example.org"
    static let day: Int64 = 86400
    private let counter = StorePolicyTests.Counter()

    func open(_ name: String = "rbld.sqlite") throws -> Store { try Store(path: directory.file(name), clock: clock.function) }

    func hit(_ address: String, _ strength: EvidenceStrength, trap: String = "one", kind: HitKind = .dsn, at time: Int64? = nil) -> Hit {
        Hit(source: prefix(address), kind: kind, strength: strength, time: time ?? clock.now, trap: "…@trap.example.org",
            trapKey: Array("key-\(trap)".utf8), reporter: "mx.trap.example.org", digest: Array("message-\(counter.next())".utf8))
    }

    func status(_ store: Store, _ address: String) throws -> SourceReport.Status {
        try store.report(for: prefix(address), zone: zone, now: clock.now).status
    }

    @Test func weakEvidenceIsHeldBackUntilAnotherTrapCorroboratesIt() throws {
        let store = try open()
        #expect(try store.recordHit(hit("81.2.69.1", .weak, trap: "one"), zone: zone) == .recorded(listed: false, code: 2))
        #expect(try store.listing(for: prefix("81.2.69.1"), zone: zone, now: clock.now) == nil)
        var report = try store.report(for: prefix("81.2.69.1"), zone: zone, now: clock.now)
        #expect(report.status == .heldBack)
        #expect(report.lastHits.map(\.strength) == ["weak"])
        #expect(report.corroboration?.heldUntil == clock.now + 28 * Self.day)
        #expect(report.corroboration?.missingWeakHits == 1 && report.corroboration?.missingTraps == 1)
        #expect(report.policy.corroborationWeakHits == 2 && report.policy.corroborationTraps == 2 && report.policy.weakWeight == 1)
        var held = try store.heldBackSources(zone: zone, now: clock.now)
        #expect(held.map(\.address) == ["81.2.69.1"] && held.first?.weakHits == 1 && held.first?.traps == 1)

        clock.advance(3600)
        _ = try store.recordHit(hit("81.2.69.1", .weak, trap: "one"), zone: zone)
        report = try store.report(for: prefix("81.2.69.1"), zone: zone, now: clock.now)
        #expect(report.status == .heldBack, "two weak hits, but one trap")
        #expect(report.corroboration?.missingWeakHits == 0 && report.corroboration?.missingTraps == 1)

        clock.advance(3600)
        #expect(try store.recordHit(hit("81.2.69.1", .weak, trap: "two", kind: .autoreply), zone: zone)
                == .recorded(listed: true, code: 6))
        #expect(try store.listing(for: prefix("81.2.69.1"), zone: zone, now: clock.now)?.code == 6)
        #expect(try status(store, "81.2.69.1") == .listed)
        held = try store.heldBackSources(zone: zone, now: clock.now)
        #expect(held.isEmpty)
        _ = try store.recordHit(hit("81.2.69.10", .weak), zone: zone)
        let stats = try store.statistics(zone: zone, now: clock.now)
        #expect(stats.sourcesListed == 1 && stats.sourcesHeldBack == 1)
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func aStrongHitListsAtOnceAndCorroboratesWeakHitsAfterIt() throws {
        let store = try open()
        #expect(try store.recordHit(hit("81.2.69.2", .strong), zone: zone) == .recorded(listed: true, code: 2))
        clock.advance(2 * Self.day)
        #expect(try store.recordHit(hit("81.2.69.2", .weak, kind: .virus), zone: zone) == .recorded(listed: true, code: 18))
        #expect(try store.listing(for: prefix("81.2.69.2"), zone: zone, now: clock.now)?.expires == clock.now + 28 * Self.day,
                "the corroborated weak hit extended the listing")
    }

    @Test func confirmListsAHeldBackSourceAndIsAudited() throws {
        let store = try open()
        let first = clock.now
        _ = try store.recordHit(hit("81.2.69.3", .weak, kind: .challenge), zone: zone)
        clock.advance(3600)
        let serial = try store.changeSerial()
        let result = try store.confirm(prefix("81.2.69.3"), zone: zone, actor: "alice", reason: "a real challenge system")
        #expect(result.action == "confirm" && result.message.contains("listed until"))
        let listing = try #require(try store.listing(for: prefix("81.2.69.3"), zone: zone, now: clock.now))
        #expect(listing.code == 10 && listing.expires == first + 28 * Self.day, "listed from the weak hit, as if corroborated")
        #expect(try store.changes(zone: zone, after: serial)?.changes.map(\.prefix) == [prefix("81.2.69.3")],
                "publication learns of it through the change log")
        let report = try store.report(for: prefix("81.2.69.3"), zone: zone, now: clock.now)
        #expect(report.status == .listed && report.corroboration?.confirmed == clock.now)
        let audit = try #require(report.audit.first)
        #expect(audit.action == "confirm" && audit.actor == "alice" && audit.reason == "a real challenge system")
        #expect(audit.before?.contains("\"heldUntil\"") == true && audit.after?.contains("\"listedUntil\"") == true)

        #expect(throws: StoreError(.conflict, "")) { try store.confirm(prefix("81.2.69.3"), zone: zone, actor: "a", reason: "again") }
        #expect(throws: StoreError(.notFound, "")) { try store.confirm(prefix("81.2.69.99"), zone: zone, actor: "a", reason: "r") }
        _ = try store.recordHit(hit("81.2.69.4", .strong), zone: zone)
        #expect(throws: StoreError(.conflict, "")) { try store.confirm(prefix("81.2.69.4"), zone: zone, actor: "a", reason: "r") }
        _ = try store.recordHit(hit("81.2.69.5", .weak), zone: zone)
        _ = try store.exclude(prefix("81.2.69.5"), zone: zone, actor: "bob", reason: "ours")
        #expect(throws: StoreError(.conflict, "")) { try store.confirm(prefix("81.2.69.5"), zone: zone, actor: "a", reason: "r") }
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func rejectDropsWeakEvidenceAndKeepsStrongHits() throws {
        let store = try open()
        _ = try store.recordHits([hit("81.2.69.6", .weak, trap: "one"), hit("81.2.69.6", .weak, trap: "two")], zone: zone)
        #expect(try status(store, "81.2.69.6") == .listed)
        clock.advance(60)
        let serial = try store.changeSerial()
        let result = try store.reject(prefix("81.2.69.6"), zone: zone, actor: "alice", reason: "newsletter wording")
        #expect(result.message == "rejected 2 weak hits of 81.2.69.6: not listed")
        #expect(try store.listing(for: prefix("81.2.69.6"), zone: zone, now: clock.now) == nil)
        #expect(try store.changes(zone: zone, after: serial)?.changes.map(\.prefix) == [prefix("81.2.69.6")])
        var report = try store.report(for: prefix("81.2.69.6"), zone: zone, now: clock.now)
        #expect(report.status == .notListed && report.hitCount == 2, "the hits stay recorded")
        #expect(report.corroboration?.rejected == clock.now && report.audit.first?.action == "reject")
        #expect(throws: StoreError(.conflict, "")) { try store.reject(prefix("81.2.69.6"), zone: zone, actor: "a", reason: "again") }
        // Weak hits after the rejection are evidence again.
        clock.advance(60)
        _ = try store.recordHit(hit("81.2.69.6", .weak, trap: "three"), zone: zone)
        report = try store.report(for: prefix("81.2.69.6"), zone: zone, now: clock.now)
        #expect(report.status == .heldBack && report.corroboration?.recentWeakHits == 1)

        // Strong evidence stands.
        _ = try store.recordHits([hit("81.2.69.7", .strong), hit("81.2.69.7", .weak, trap: "one", kind: .virus)], zone: zone)
        #expect(try store.listing(for: prefix("81.2.69.7"), zone: zone, now: clock.now)?.code == 18)
        clock.advance(60)
        #expect(try store.reject(prefix("81.2.69.7"), zone: zone, actor: "alice", reason: "r").message.contains("listed until"))
        #expect(try store.listing(for: prefix("81.2.69.7"), zone: zone, now: clock.now)?.code == 2, "the virus bit went with the weak hit")
        #expect(try store.integrityCheck().isEmpty)
    }

    /// A delisting holds a listing down until a hit that counts is newer: an uncorroborated
    /// weak hit is not enough.
    @Test func anUncorroboratedWeakHitDoesNotLiftADelisting() throws {
        let store = try open()
        _ = try store.recordHit(hit("81.2.69.8", .strong, at: clock.now - 10 * Self.day), zone: zone)
        _ = try store.delist(prefix("81.2.69.8"), zone: zone, actor: "alice", reason: "fixed")
        clock.advance(60)
        _ = try store.recordHit(hit("81.2.69.8", .weak, trap: "one"), zone: zone)
        #expect(try store.listing(for: prefix("81.2.69.8"), zone: zone, now: clock.now) == nil)
        #expect(try status(store, "81.2.69.8") == .delisted)
        clock.advance(60)
        _ = try store.recordHit(hit("81.2.69.8", .weak, trap: "two"), zone: zone)
        #expect(try store.listing(for: prefix("81.2.69.8"), zone: zone, now: clock.now) != nil, "corroborated: lists again")
    }

    @Test func strengthAndTrapKeyAreStored() throws {
        let store = try open()
        _ = try store.recordHits([hit("81.2.69.9", .weak, trap: "one"), hit("81.2.69.9", .strong, trap: "two")], zone: zone)
        let rows = try store.db.statement("SELECT strength, trap_key FROM hits ORDER BY id")
        defer { rows.reset() }
        var stored: [(Int64, [UInt8]?)] = []
        while try rows.step() { stored.append((rows.int64(0), rows.blob(1))) }
        #expect(stored.map(\.0) == [1, 0])
        #expect(stored.map(\.1) == [Array("key-one".utf8), nil], "a trap key is kept for weak hits, whose traps are counted")
        #expect(try store.trapKeySecret().count == 32)
    }

    /// Recording weak and strong hits one transaction at a time is the oracle for batches:
    /// every source ends in the same state. Seeded: repeated messages, out-of-order times,
    /// a handful of traps.
    @Test(arguments: [5, 6, 7] as [UInt64]) func batchesAgreeWithSingleHits(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let addresses = (1...16).map { "81.2.70.\($0)" }
        var batches: [[Hit]] = []
        for _ in 0..<6 {
            batches.append((0..<Int.random(in: 1...12, using: &random)).map { _ in
                let address = addresses.randomElement(using: &random)!
                let message = Int.random(in: 0..<30, using: &random)
                return Hit(source: prefix(address), kind: HitKind.allCases[message % 5],
                           strength: message % 5 == 0 ? .strong : .weak,
                           time: clock.now - Int64.random(in: 0...(40 * Self.day), using: &random), trap: "…@trap.example.org",
                           trapKey: Array("trap-\(message % 2)".utf8), digest: Array("m\(message)-\(address)".utf8))
            })
        }
        let batched = try open("batched.sqlite")
        let single = try open("single.sqlite")
        for batch in batches {
            _ = try batched.recordHits(batch, zone: zone)
            for hit in batch { _ = try single.recordHit(hit, zone: zone) }
        }
        var statuses: Set<SourceReport.Status> = []
        for address in addresses {
            let a = try batched.report(for: prefix(address), zone: zone, now: clock.now)
            statuses.insert(a.status)
            let b = try single.report(for: prefix(address), zone: zone, now: clock.now)
            #expect(a.status == b.status && a.code == b.code && a.expires == b.expires, "\(address), seed \(seed)")
            #expect(a.hitCount == b.hitCount && a.corroboration == b.corroboration, "\(address), seed \(seed)")
        }
        #expect(statuses.isSuperset(of: [.listed, .heldBack]), "the seed exercises both: \(statuses)")
        #expect(try batched.integrityCheck().isEmpty)
    }
}
