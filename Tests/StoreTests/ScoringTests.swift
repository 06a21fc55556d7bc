// ScoringTests.swift -- the listing policy folded hit by hit, with a moving clock.

import Foundation
import Testing
import TestSupport
@testable import Store

struct ScoringTests {
    static let day: Int64 = 86400
    static let t0: Int64 = 1_750_000_000

    /// A timeline: hits at day offsets, then questions "listed at day d?" with the code.
    struct Timeline: CustomTestStringConvertible, Sendable {
        let name: String
        var policy = ListingPolicy.defaults
        let hits: [(day: Double, kind: HitKind)]
        /// (day, expected code or nil for not listed)
        let checks: [(day: Double, code: UInt8?)]
        var testDescription: String { name }
    }

    static func at(_ day: Double) -> Int64 { t0 + Int64(day * Double(Self.day)) }

    static let timelines: [Timeline] = [
        Timeline(name: "one bounce lists for 28 days", hits: [(0, .dsn)],
                 checks: [(0, 2), (27.9, 2), (28, nil), (100, nil)]),
        Timeline(name: "each hit extends to 28 days after it", hits: [(0, .dsn), (20, .dsn)],
                 checks: [(30, 2), (47.9, 2), (48, nil)]),
        Timeline(name: "kinds add bits while listed", hits: [(0, .dsn), (1, .autoreply), (2, .virus)],
                 checks: [(0.5, 2), (1.5, 6), (3, 22)]),
        Timeline(name: "challenge is 10", hits: [(0, .challenge)], checks: [(0, 10)]),
        Timeline(name: "unknown bounce is plain 2", hits: [(0, .unknownBounce)], checks: [(0, 2)]),
        Timeline(name: "a new listing forgets old kinds", hits: [(0, .virus), (40, .dsn)],
                 checks: [(10, 18), (30, nil), (40, 2), (67.9, 2), (68, nil)]),
        Timeline(name: "threshold 2 needs two close hits", policy: ListingPolicy(threshold: 2),
                 hits: [(0, .dsn), (30, .dsn), (30.1, .autoreply)],
                 checks: [(0, nil), (29, nil), (30, nil), (30.1, 6), (58, 6), (58.1, nil)]),
        Timeline(name: "threshold 2: hits a half-life apart do not reach it", policy: ListingPolicy(threshold: 2),
                 hits: [(0, .dsn), (7, .dsn)], checks: [(7, nil), (8, nil)]),
        Timeline(name: "threshold 1.5: decayed score adds up", policy: ListingPolicy(threshold: 1.5),
                 hits: [(0, .dsn), (6, .dsn)], checks: [(5, nil), (6, 2), (33.9, 2), (34, nil)]),
        Timeline(name: "weights count", policy: ListingPolicy(threshold: 2, weights: [.virus: 2]),
                 hits: [(0, .dsn), (10, .virus)], checks: [(0, nil), (10, 18)]),
        Timeline(name: "short expiry", policy: ListingPolicy(expiry: 3600), hits: [(0, .dsn)],
                 checks: [(0, 2), (0.04, 2), (0.05, nil)]),
    ]

    @Test(arguments: timelines)
    func timeline(_ t: Timeline) {
        for check in t.checks {
            // The state as of the check: the hits up to that moment, folded in order.
            let seen = t.hits.filter { $0.day <= check.day }
            guard let state = SourceScore.replay(seen.map { (Self.at($0.day), $0.kind) }, policy: t.policy) else {
                #expect(check.code == nil, "day \(check.day): no hits yet")
                continue
            }
            let now = Self.at(check.day)
            let listed = state.isListed(at: now)
            #expect(listed == (check.code != nil), "day \(check.day): listed \(listed), score \(state.score)")
            if let code = check.code, listed { #expect(ReturnCodes.defaults.code(kinds: state.kinds) == code, "day \(check.day)") }
        }
    }

    /// A timeline of hits with their evidence strength and trap (`nil`: strong), an
    /// operator's confirmation or rejection, and what holds at given days: listed with a
    /// code, held back, or neither.
    struct EvidenceCase: CustomTestStringConvertible, Sendable {
        enum State: Equatable, Sendable { case listed(UInt8), heldBack, not }
        let name: String
        var policy = ListingPolicy.defaults
        let hits: [(day: Double, kind: HitKind, weakTrap: String?)]
        var confirmed: Double?
        var rejected: Double?
        let checks: [(day: Double, state: State)]
        var testDescription: String { name }
    }

    static let evidenceCases: [EvidenceCase] = [
        .init(name: "a weak hit alone is held back for the expiry", hits: [(0, .dsn, "a")],
              checks: [(0, .heldBack), (27.9, .heldBack), (28, .not)]),
        .init(name: "two weak hits at one trap stay held back", hits: [(0, .dsn, "a"), (1, .dsn, "a")],
              checks: [(1, .heldBack), (28.9, .heldBack), (29, .not)]),
        .init(name: "two weak hits from two traps within the window list", hits: [(0, .dsn, "a"), (6.9, .autoreply, "b")],
              checks: [(0, .heldBack), (6.9, .listed(6)), (34.8, .listed(6)), (34.9, .not)]),
        .init(name: "two traps a window apart do not corroborate", hits: [(0, .dsn, "a"), (7, .dsn, "b")],
              checks: [(7, .heldBack), (34.9, .heldBack), (35, .not)]),
        .init(name: "a strong hit lists, and the held weak kinds join it", hits: [(0, .autoreply, "a"), (1, .dsn, nil)],
              checks: [(0.5, .heldBack), (1, .listed(6)), (28.9, .listed(6)), (29, .not)]),
        .init(name: "a strong hit in the window corroborates the weak hit after it", hits: [(0, .dsn, nil), (5, .virus, "a")],
              checks: [(5, .listed(18)), (32.9, .listed(18)), (33, .not)]),
        .init(name: "an uncorroborated weak hit does not extend a strong listing", hits: [(0, .dsn, nil), (10, .virus, "a")],
              checks: [(10, .listed(2)), (27.9, .listed(2)), (28, .heldBack), (37.9, .heldBack), (38, .not)]),
        .init(name: "weak hits weigh less: three are needed at weight 0.5", policy: ListingPolicy(weakWeight: 0.5),
              hits: [(0, .dsn, "a"), (0.1, .dsn, "b"), (0.2, .dsn, "c")],
              checks: [(0.1, .not), (0.2, .listed(2)), (28.1, .listed(2)), (28.2, .not)]),
        .init(name: "three traps needed", policy: ListingPolicy(corroboration: .init(weakHits: 3, traps: 3)),
              hits: [(0, .dsn, "a"), (1, .dsn, "b"), (2, .dsn, "b"), (3, .dsn, "c")],
              checks: [(2, .heldBack), (3, .listed(2))]),
        .init(name: "a confirmation lists the held evidence from its hits", hits: [(0, .dsn, "a"), (3, .challenge, "a")],
              confirmed: 5, checks: [(5, .listed(10)), (30.9, .listed(10)), (31, .not)]),
        .init(name: "weak hits after a confirmation are judged again", hits: [(0, .dsn, "a"), (20, .dsn, "a")],
              confirmed: 1, checks: [(20, .listed(2)), (27.9, .listed(2)), (28, .heldBack), (48, .not)]),
        .init(name: "a rejection drops the weak evidence and what it listed", hits: [(0, .dsn, "a"), (1, .dsn, "b")],
              rejected: 2, checks: [(2, .not), (10, .not)]),
        .init(name: "weak hits after a rejection are evidence again", hits: [(0, .dsn, "a"), (3, .dsn, "b")],
              rejected: 1, checks: [(3, .heldBack), (30.9, .heldBack), (31, .not)]),
        .init(name: "a rejection leaves strong hits standing", hits: [(0, .dsn, nil), (1, .virus, "a"), (2, .virus, "b")],
              rejected: 3, checks: [(3, .listed(2)), (27.9, .listed(2)), (28, .not)]),
    ]

    @Test(arguments: evidenceCases)
    func evidence(_ c: EvidenceCase) {
        for check in c.checks {
            let seen = c.hits.filter { $0.day <= check.day }.map { hit in
                SourceScore.Evidence(time: Self.at(hit.day), kind: hit.kind, strength: hit.weakTrap == nil ? .strong : .weak,
                                     trap: Array((hit.weakTrap ?? "strong").utf8))
            }
            let confirmed = c.confirmed.flatMap { $0 <= check.day ? Self.at($0) : nil }
            let rejected = c.rejected.flatMap { $0 <= check.day ? Self.at($0) : nil }
            let state = SourceScore.replay(seen, policy: c.policy, confirmed: confirmed, rejected: rejected)
            let now = Self.at(check.day)
            let got: EvidenceCase.State = state.map { $0.isListed(at: now) ? .listed(c.policy.codes.code(kinds: $0.kinds)) : $0.isHeldBack(at: now) ? .heldBack : .not } ?? .not
            #expect(got == check.state, "day \(check.day): \(got), score \(state?.score ?? 0), until \(state?.until ?? 0), held \(state?.heldUntil ?? 0)")
        }
    }

    @Test func scoreHalvesEveryHalfLife() {
        let policy = ListingPolicy.defaults
        let state = SourceScore(firstHit: .dsn, at: Self.t0, policy: policy)
        #expect(state.score(at: Self.t0, policy: policy) == 1)
        #expect(abs(state.score(at: Self.t0 + 7 * Self.day, policy: policy) - 0.5) < 1e-9)
        #expect(abs(state.score(at: Self.t0 + 14 * Self.day, policy: policy) - 0.25) < 1e-9)
        let again = state.adding(kind: .dsn, at: Self.t0 + 7 * Self.day, policy: policy)
        #expect(abs(again.score - 1.5) < 1e-9)
        #expect(again.hitCount == 2 && again.firstSeen == Self.t0 && again.lastSeen == Self.t0 + 7 * Self.day)
    }

    @Test func replayOrderDoesNotMatter() {
        var generator = SplitMix64(seed: 7)
        let policy = ListingPolicy(threshold: 1.7)
        for _ in 0..<200 {
            let hits = (0..<Int(generator.next() % 8 + 1)).map { _ in
                (time: Self.t0 + Int64(generator.next() % UInt64(60 * Self.day)), kind: HitKind.allCases[Int(generator.next() % 5)])
            }
            let inOrder = SourceScore.replay(hits, policy: policy)
            let shuffled = SourceScore.replay(hits.shuffled(using: &generator), policy: policy)
            #expect(inOrder?.until == shuffled?.until && inOrder?.kinds == shuffled?.kinds && inOrder?.hitCount == shuffled?.hitCount)
        }
    }

    @Test func returnCodes() {
        let codes = ReturnCodes.defaults
        #expect(codes.code(kinds: [HitKind]()) == 2)
        #expect(codes.code(kinds: [.autoreply, .challenge, .virus], manual: true) == 62)
        #expect(codes.kinds(in: 22) == [.autoreply, .virus])
    }

    /// The bulk snapshot's per-mask table against the per-kind sum, for every mask and for
    /// schemes with overlapping, zero and base-sharing bits.
    @Test(arguments: [ReturnCodes.defaults, ReturnCodes(base: 2, bits: [:], manual: 0),
                      ReturnCodes(base: 10, bits: [.dsn: 1, .unknownBounce: 1, .autoreply: 2, .virus: 128], manual: 64),
                      ReturnCodes(base: 2, bits: [.challenge: 2, .virus: 4], manual: 8)])
    func codeOfAMaskIsTheCodeOfItsKinds(codes: ReturnCodes) {
        for mask in Int64(0)..<32 {
            let kinds = HitKind.kinds(inMask: mask)
            let expected = kinds.reduce(codes.base) { $0 | (codes.bits[$1] ?? 0) }
            #expect(codes.code(kindsMask: mask) == expected, "mask \(mask)")
            #expect(codes.code(kinds: kinds) == expected, "mask \(mask)")
        }
        // A kind is read back from a code only by a bit of its own.
        #expect(codes.kinds(in: codes.code(kinds: [.virus])).contains(.virus) == ((codes.bits[.virus] ?? 0) & ~codes.base != 0))
    }

    /// A policy stored before it had codes reads back with the default scheme; one with a
    /// scheme round-trips.
    @Test func returnCodesInAStoredPolicy() throws {
        var policy = ListingPolicy.defaults
        policy.codes = ReturnCodes(base: 3, bits: [.virus: 4], manual: 0)
        let again = try JSONDecoder().decode(ListingPolicy.self, from: JSONEncoder().encode(policy))
        #expect(again == policy && again.codes.code(kinds: [.virus, .autoreply]) == 7)
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(ListingPolicy.defaults)) as? [String: Any])
        object["codes"] = nil
        let old = try JSONDecoder().decode(ListingPolicy.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.codes == .defaults)
    }

    @Test(arguments: ["10.1.2.3", "127.0.0.2", "192.168.1.1", "172.16.5.4", "100.64.0.1", "169.254.1.1", "192.0.2.5",
                      "224.0.0.1", "255.255.255.255", "0.1.2.3", "::1", "fe80::1", "fd00::1", "2001:db8::1", "::ffff:8.8.8.8", "ff02::1"])
    func specialPurposeNeverListed(_ address: String) {
        #expect(ListingPolicy.defaults.isNeverListed(IPPrefix(address)!))
    }

    @Test(arguments: ["8.8.8.8", "198.51.99.1", "172.32.0.1", "100.128.0.1", "2a00:1450::1", "2001:4860::8888"])
    func publicAddressesListable(_ address: String) {
        #expect(!ListingPolicy.defaults.isNeverListed(IPPrefix(address)!))
    }
}
