// ListingPrecedenceTests.swift -- the listing precedence as a pure function, case by case.

import Testing
@testable import Store

struct ListingPrecedenceTests {
    static let now: Int64 = 1_750_000_000
    static let host = IPPrefix("81.2.69.1")!
    static let network = IPPrefix("81.2.69.0/24")!
    static let v6Network = IPPrefix("2a00:1450:4001:2::/64")!
    static let running = ScoredSource(until: now + 100, lastCounted: now - 10, code: 6)
    static let ended = ScoredSource(until: now, lastCounted: now - 28 * 86400, code: 6)
    static let manual = ManualEntry(code: 40, text: "manual $", expires: nil)

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var prefix = ListingPrecedenceTests.host
        let facts: ListingFacts
        let expected: ListingDecision
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        .init(name: "nothing known", facts: ListingFacts(), expected: .notListed),
        .init(name: "a running score lists", facts: ListingFacts(source: running),
              expected: .scored(Listing(prefix: host, code: 6, expires: now + 100))),
        .init(name: "an ended score does not", facts: ListingFacts(source: ended), expected: .notListed),
        .init(name: "a source never listed", facts: ListingFacts(source: ScoredSource(until: nil, lastCounted: now, code: 2)),
              expected: .notListed),
        .init(name: "a delisting after the last hit holds it down",
              facts: ListingFacts(delistedAt: now - 10, source: running), expected: .delisted(since: now - 10)),
        .init(name: "a hit after the delisting lists again",
              facts: ListingFacts(delistedAt: now - 11, source: running), expected: .scored(Listing(prefix: host, code: 6, expires: now + 100))),
        .init(name: "manual wins over score and delisting",
              facts: ListingFacts(manual: manual, delistedAt: now, source: running),
              expected: .manual(Listing(prefix: host, code: 40, text: "manual $"))),
        .init(name: "manual without a code takes the zone's",
              facts: ListingFacts(manual: ManualEntry(code: nil, text: nil, expires: now + 5)),
              expected: .manual(Listing(prefix: host, code: 2, expires: now + 5))),
        .init(name: "an expired manual entry gives way to the score",
              facts: ListingFacts(manual: ManualEntry(code: 40, text: nil, expires: now), source: running),
              expected: .scored(Listing(prefix: host, code: 6, expires: now + 100))),
        .init(name: "an exclusion wins over everything",
              facts: ListingFacts(excluded: true, manual: manual, source: running),
              expected: .excluded(Listing(prefix: host, excluded: true, code: 0))),
        .init(name: "inside a wider exclusion: no entry at all",
              facts: ListingFacts(insideExclusion: true, manual: manual, source: running), expected: .insideExclusion),
        .init(name: "scoring never lists special-purpose ranges", prefix: IPPrefix("10.1.2.3")!,
              facts: ListingFacts(source: running), expected: .neverListed),
        .init(name: "but a manual entry there does", prefix: IPPrefix("10.1.2.3")!, facts: ListingFacts(manual: manual),
              expected: .manual(Listing(prefix: IPPrefix("10.1.2.3")!, code: 40, text: "manual $"))),
        .init(name: "uncorroborated weak evidence is held back",
              facts: ListingFacts(source: ScoredSource(until: nil, lastCounted: .min, code: 2, heldUntil: now + 50)),
              expected: .heldBack(until: now + 50)),
        .init(name: "held back after a strong listing ended",
              facts: ListingFacts(source: ScoredSource(until: now, lastCounted: now - 28 * 86400, code: 2, heldUntil: now + 50)),
              expected: .heldBack(until: now + 50)),
        .init(name: "held evidence that ran out is nothing",
              facts: ListingFacts(source: ScoredSource(until: nil, lastCounted: .min, code: 2, heldUntil: now)), expected: .notListed),
        .init(name: "a running listing is not held back",
              facts: ListingFacts(source: ScoredSource(until: now + 100, lastCounted: now - 10, code: 6, heldUntil: now + 200)),
              expected: .scored(Listing(prefix: host, code: 6, expires: now + 100))),
        .init(name: "a delisting holds the listing down, not the held evidence",
              facts: ListingFacts(delistedAt: now - 5, source: ScoredSource(until: now + 100, lastCounted: now - 10, code: 6,
                                                                             heldUntil: now + 200)),
              expected: .delisted(since: now - 5)),
        .init(name: "an exclusion wins over held evidence",
              facts: ListingFacts(excluded: true, source: ScoredSource(until: nil, lastCounted: .min, code: 2, heldUntil: now + 50)),
              expected: .excluded(Listing(prefix: host, excluded: true, code: 0))),
        .init(name: "an IPv4 network has no score", prefix: network, facts: ListingFacts(source: running), expected: .notListed),
        .init(name: "an IPv6 network scored as one source lists", prefix: v6Network, facts: ListingFacts(source: running),
              expected: .scored(Listing(prefix: v6Network, code: 6, expires: now + 100))),
        .init(name: "a manual entry of the IPv6 network wins over its score", prefix: v6Network,
              facts: ListingFacts(manual: manual, source: running),
              expected: .manual(Listing(prefix: v6Network, code: 40, text: "manual $"))),
        .init(name: "a delisting of the IPv6 network holds its score down", prefix: v6Network,
              facts: ListingFacts(delistedAt: now - 5, source: running), expected: .delisted(since: now - 5)),
        .init(name: "a manual network lists", prefix: network, facts: ListingFacts(manual: manual),
              expected: .manual(Listing(prefix: network, code: 40, text: "manual $"))),
    ]

    @Test(arguments: cases)
    func decides(_ c: Case) {
        let decision = ListingPrecedence.decide(c.prefix, facts: c.facts, policy: .defaults, defaultCode: 2, now: Self.now)
        #expect(decision == c.expected)
        #expect(decision.listing == c.expected.listing)
    }
}
