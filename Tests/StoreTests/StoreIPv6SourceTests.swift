// StoreIPv6SourceTests.swift -- IPv6 sources scored per network (the policy's ipv6-prefix):
// attribution, corroboration across the network's addresses, admin acts inside it.

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreIPv6SourceTests {
    let directory = TemporaryDirectory()
    let clock = TestClock()
    let zone = "bl.example.org"
    private let counter = StorePolicyTests.Counter()
    /// A public network: 2001:db8::/32 is documentation space, which scoring never lists.
    static let network = "2a00:1450:4001:2::/64"

    func open(ipv6Prefix: Int? = nil) throws -> Store {
        let store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        if let ipv6Prefix {
            var policy = ListingPolicy.defaults
            policy.ipv6Prefix = ipv6Prefix
            try store.saveListingPolicy(policy, zone: zone, actor: "test", reason: "ipv6-prefix")
        }
        return store
    }

    func hit(_ address: String, _ strength: EvidenceStrength = .strong, trap: String = "one") -> Hit {
        Hit(source: prefix(address), kind: .dsn, strength: strength, time: clock.now, trap: "…@trap.example.org",
            trapKey: Array("key-\(trap)".utf8), reporter: "mx.trap.example.org",
            digest: Array("message-\(counter.next())".utf8), excerpt: "Received: from mx.example ([\(address)]) by trap")
    }

    func report(_ store: Store, _ address: String) throws -> SourceReport {
        try store.report(for: prefix(address), zone: zone, now: clock.now)
    }

    @Test func aHitCountsForTheSlash64AroundItsAddress() throws {
        let store = try open()
        #expect(try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone) == .recorded(listed: true, code: 2))
        #expect(try store.activeListings(zone: zone, now: clock.now).map(\.prefix) == [prefix(Self.network)])
        #expect(try store.listing(for: prefix(Self.network), zone: zone, now: clock.now)?.code == 2)
        #expect(try store.listing(for: prefix("2a00:1450:4001:2::5"), zone: zone, now: clock.now) == nil, "no entry of its own")
        // Any address of the network is answered by the network's entry; show says why and
        // keeps the address that delivered each hit.
        let other = try report(store, "2a00:1450:4001:2::99")
        #expect(other.status == .listed && other.matchedPrefix == Self.network && other.source == Self.network)
        #expect(other.hitCount == 1 && other.lastHits.map(\.client) == ["2a00:1450:4001:2::5"])
        #expect(try store.recentHits(zone: zone).map(\.source) == ["2a00:1450:4001:2::5"])
        #expect(try report(store, "2a00:1450:4001:3::5").status == .notListed, "another /64 is another source")
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func twoAddressesOfOneSlash64CorroborateEachOther() throws {
        let store = try open()
        #expect(try store.recordHit(hit("2a00:1450:4001:2::5", .weak, trap: "one"), zone: zone) == .recorded(listed: false, code: 2))
        #expect(try report(store, "2a00:1450:4001:2::5").status == .heldBack)
        #expect(try store.heldBackSources(zone: zone, now: clock.now).map(\.address) == [Self.network])
        clock.advance(3600)
        #expect(try store.recordHit(hit("2a00:1450:4001:2::7", .weak, trap: "two"), zone: zone) == .recorded(listed: true, code: 2))
        let listed = try report(store, "2a00:1450:4001:2::5")
        #expect(listed.status == .listed && listed.hitCount == 2 && listed.source == Self.network)
        #expect(Set(listed.lastHits.compactMap(\.client)) == ["2a00:1450:4001:2::5", "2a00:1450:4001:2::7"])
        #expect(try store.heldBackSources(zone: zone, now: clock.now).isEmpty)
        #expect(try store.integrityCheck().isEmpty)
    }

    /// Batched and single hits of several addresses of one network end in the same state.
    @Test func aBatchOfOneNetworkIsOneSource() throws {
        let store = try open()
        let hits = ["2a00:1450:4001:2::5", "2a00:1450:4001:2::6", "2a00:1450:4001:2::5"].map { hit($0, .weak, trap: $0) }
        let outcomes = try store.recordHits(hits, zone: zone)
        #expect(outcomes.last == .recorded(listed: true, code: 2), "three weak hits from two traps, one source")
        #expect(try report(store, "2a00:1450:4001:2::1").hitCount == 3)
    }

    @Test func prefix128ScoresEachAddressAlone() throws {
        let store = try open(ipv6Prefix: 128)
        #expect(try store.recordHit(hit("2a00:1450:4001:2::5", .weak, trap: "one"), zone: zone) == .recorded(listed: false, code: 2))
        #expect(try store.recordHit(hit("2a00:1450:4001:2::7", .weak, trap: "two"), zone: zone) == .recorded(listed: false, code: 2),
                "two sources with one trap each")
        #expect(try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone) == .recorded(listed: true, code: 2))
        #expect(try store.activeListings(zone: zone, now: clock.now).map(\.prefix) == [prefix("2a00:1450:4001:2::5")])
        let own = try report(store, "2a00:1450:4001:2::5")
        #expect(own.status == .listed && own.source == nil && own.matchedPrefix == "2a00:1450:4001:2::5")
        #expect(own.lastHits.allSatisfy { $0.client == nil })
        #expect(try report(store, "2a00:1450:4001:2::7").status == .heldBack)
        #expect(try store.heldBackSources(zone: zone, now: clock.now).map(\.address) == ["2a00:1450:4001:2::7"])
    }

    @Test func anExclusionCarvesAnAddressOutOfTheListedNetwork() throws {
        let store = try open()
        _ = try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone)
        _ = try store.exclude(prefix("2a00:1450:4001:2::7"), zone: zone, actor: "alice", reason: "our relay")
        #expect(try report(store, "2a00:1450:4001:2::7").status == .excluded)
        #expect(try report(store, "2a00:1450:4001:2::5").status == .listed)
        let listings = try store.activeListings(zone: zone, now: clock.now)
        #expect(Set(listings.map { "\($0.prefix) \($0.excluded)" }) == ["\(Self.network) false", "2a00:1450:4001:2::7 true"])
        // An exclusion of the network itself, or a wider one, takes the whole source out.
        _ = try store.exclude(prefix("2a00:1450:4001::/48"), zone: zone, actor: "alice", reason: "customer")
        #expect(try store.listing(for: prefix(Self.network), zone: zone, now: clock.now) == nil)
        #expect(try report(store, "2a00:1450:4001:2::5").status == .excluded)
    }

    /// `delist` of one address of a listed network delists the network's source (it is one
    /// source) until a newer hit; an address with a manual listing of its own loses only that.
    @Test func delistingAnAddressDelistsItsNetworkUntilANewerHit() throws {
        let store = try open()
        _ = try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone)
        _ = try store.list(prefix("2a00:1450:4001:2::9"), zone: zone, actor: "alice", reason: "seen elsewhere")
        #expect(try report(store, "2a00:1450:4001:2::9").matchedPrefix == "2a00:1450:4001:2::9", "its own entry answers")
        var result = try store.delist(prefix("2a00:1450:4001:2::9"), zone: zone, actor: "alice", reason: "manual only")
        #expect(result.prefix == "2a00:1450:4001:2::9")
        #expect(try report(store, "2a00:1450:4001:2::9").matchedPrefix == Self.network, "the network still answers")

        result = try store.delist(prefix("2a00:1450:4001:2::77"), zone: zone, actor: "alice", reason: "fixed")
        #expect(result.prefix == Self.network && result.message.contains("2a00:1450:4001:2::77"))
        #expect(try store.activeListings(zone: zone, now: clock.now).isEmpty)
        #expect(try report(store, "2a00:1450:4001:2::5").status == .delisted)
        clock.advance(60)
        _ = try store.recordHit(hit("2a00:1450:4001:2::6"), zone: zone)
        #expect(try store.listing(for: prefix(Self.network), zone: zone, now: clock.now) != nil, "a newer hit lists it again")
        #expect(try store.integrityCheck().isEmpty)
    }

    /// Confirming the weak evidence of an address judges its network's source.
    /// Self-service counts the delistings of the whole network: asking from a neighbour
    /// address does not start the count afresh.
    @Test func selfServiceIsCountedPerNetwork() throws {
        let store = try open()
        let policy = SelfServicePolicy(enabled: true, maxDelistings: 1, window: 30 * 86400)
        func ask(_ address: String) throws -> DelistRequest.Status {
            try store.requestDelisting(prefix(address), zone: zone, client: "198.51.100.1", email: "postmaster@example.com",
                                       reason: "fixed", policy: policy, actor: "web:198.51.100.1").status
        }
        _ = try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone)
        #expect(try ask("2a00:1450:4001:2::5") == .delisted)
        clock.advance(60)
        _ = try store.recordHit(hit("2a00:1450:4001:2::6"), zone: zone)
        #expect(try report(store, "2a00:1450:4001:2::7").status == .listed, "a newer hit lists the network again")
        #expect(try ask("2a00:1450:4001:2::7") == .pending, "the network used its one self-service delisting")
        // Another network has its own count.
        _ = try store.recordHit(hit("2a00:1450:4001:3::5"), zone: zone)
        #expect(try ask("2a00:1450:4001:3::5") == .delisted)
    }

    @Test func confirmOfAnAddressJudgesItsNetwork() throws {
        let store = try open()
        _ = try store.recordHit(hit("2a00:1450:4001:2::5", .weak), zone: zone)
        let result = try store.confirm(prefix("2a00:1450:4001:2::8"), zone: zone, actor: "alice", reason: "known backscatterer")
        #expect(result.prefix == Self.network)
        #expect(try report(store, "2a00:1450:4001:2::5").status == .listed)
    }

    /// After the policy's length changes, new hits count for networks of the new length;
    /// sources scored before keep theirs, except the row that starts where a new source
    /// does: it becomes that source, with its hits.
    @Test func aNewLengthAppliesToNewHits() throws {
        let store = try open()
        _ = try store.recordHit(hit("2a00:1450:4001:0::5"), zone: zone)
        _ = try store.recordHit(hit("2a00:1450:4001:2::5"), zone: zone)
        var policy = try store.listingPolicy(zone: zone)
        policy.ipv6Prefix = 48
        try store.saveListingPolicy(policy, zone: zone, actor: "test", reason: "wider")
        _ = try store.recordHit(hit("2a00:1450:4001:3::5"), zone: zone)
        #expect(try store.activeListings(zone: zone, now: clock.now).map(\.prefix).sorted()
                == [prefix("2a00:1450:4001::/48"), prefix(Self.network)])
        let wide = try report(store, "2a00:1450:4001:0::5")
        #expect(wide.source == "2a00:1450:4001::/48" && wide.hitCount == 2)
        #expect(try report(store, "2a00:1450:4001:2::5").source == Self.network, "the longest source that contains it")
        #expect(try store.integrityCheck().isEmpty)
    }
}
