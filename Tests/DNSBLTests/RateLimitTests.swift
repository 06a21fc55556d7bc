// RateLimitTests.swift -- response rate limiting: buckets per network and class, slip, TCP, exemptions.

@testable import DNSBL
import DNSTestSupport
import Synchronization
import Testing

/// What a run of queries got: full answers, slips (TC=1), and no reply.
struct Tally: Equatable, Sendable, CustomStringConvertible {
    var full: Int
    var slipped: Int
    var dropped: Int

    init(_ full: Int, _ slipped: Int, _ dropped: Int) { (self.full, self.slipped, self.dropped) = (full, slipped, dropped) }

    var description: String { "\(full) answered, \(slipped) slipped, \(dropped) dropped" }
}

struct RateLimitTests {
    static let listed = makeQuery(TestZone.reverse4("198.51.100.7"))           // A, listed
    static let unlisted = makeQuery(TestZone.reverse4("192.0.2.55"))           // NXDOMAIN
    static let listedEDNS = makeQuery(TestZone.reverse4("198.51.100.7"), type: 16, edns: (1232, 0, false))

    static func limit(rate: Int, slip: Int = 2, exempt: [ClientNetwork] = []) -> RateLimitConfiguration {
        var configuration = RateLimitConfiguration()
        configuration.rate = rate
        configuration.slip = slip
        configuration.exempt = exempt
        return configuration
    }

    /// What `count` queries from `client` got: full answers, slips (TC=1), and nothing.
    static func tally(_ server: PolicySession, _ query: [UInt8], from client: ClientAddress, count: Int,
                      transport: Transport = .udp) -> Tally {
        var result = Tally(0, 0, 0)
        for _ in 0..<count {
            guard let reply = server.ask(query, from: client, transport: transport), let decoded = DecodedResponse(reply)
            else { result.dropped += 1; continue }
            if decoded.tc { result.slipped += 1 } else { result.full += 1 }
        }
        return result
    }

    @Test func underTheRateEveryResponsePasses() {
        let server = PolicySession(rateLimit: Self.limit(rate: 10))
        let result = Self.tally(server, Self.listed, from: client4("127.0.1.5"), count: 10)
        #expect(result == Tally(10, 0, 0))
    }

    @Test func overTheRateEverySecondLimitedResponseSlips() {
        let server = PolicySession(rateLimit: Self.limit(rate: 10, slip: 2))
        let result = Self.tally(server, Self.listed, from: client4("127.0.1.5"), count: 30)
        #expect(result == Tally(10, 10, 10))
    }

    @Test(arguments: [(0, Tally(5, 0, 15)), (1, Tally(5, 15, 0)), (3, Tally(5, 5, 10))])
    func slipSetsHowManyLimitedResponsesAreTruncated(slip: Int, expected: Tally) {
        let server = PolicySession(rateLimit: Self.limit(rate: 5, slip: slip))
        let result = Self.tally(server, Self.unlisted, from: client4("198.18.0.1"), count: 20)
        #expect(result == expected)
    }

    @Test func aSlipIsHeaderAndQuestionWithTCAndNoBiggerThanTheQuery() throws {
        let server = PolicySession(rateLimit: Self.limit(rate: 1, slip: 1))
        for query in [Self.listed, Self.listedEDNS, Self.unlisted] {
            let session = PolicySession(sharing: server)
            _ = session.ask(query, from: client4("127.0.3.1"))      // uses the one token
            let reply = try #require(server.ask(query, from: client4("127.0.3.1")))
            let decoded = try #require(DecodedResponse(reply))
            #expect(decoded.tc)
            #expect(decoded.id == 0xBEEF)
            #expect(decoded.answers.isEmpty && decoded.authority.isEmpty)
            #expect(decoded.questionBytes == Array(query[12..<(12 + decoded.questionBytes.count)]))
            #expect((decoded.opt != nil) == (query == Self.listedEDNS))
            #expect(reply.count <= query.count, "amplification of a slip: \(reply.count) bytes for \(query.count)")
        }
    }

    @Test func tokensComeBackWithTime() {
        let clocks = ManualClocks()
        let server = PolicySession(rateLimit: Self.limit(rate: 10, slip: 0), clocks: clocks)
        let client = client4("203.0.113.77")
        #expect(Self.tally(server, Self.listed, from: client, count: 12) == Tally(10, 0, 2))
        clocks.advance(microseconds: 100_000)                   // a tenth of a second: one token
        #expect(Self.tally(server, Self.listed, from: client, count: 3) == Tally(1, 0, 2))
        clocks.advance(microseconds: 5_000_000)                 // the bucket holds one second's worth
        #expect(Self.tally(server, Self.listed, from: client, count: 15) == Tally(10, 0, 5))
    }

    @Test func aSteadyFloodIsHeldToTheRate() {
        let clocks = ManualClocks()
        let server = PolicySession(rateLimit: Self.limit(rate: 50, slip: 0), clocks: clocks)
        var full = 0
        for _ in 0..<10_000 {                                   // 1,000 queries per second for 10 s
            clocks.advance(microseconds: 1_000)
            if let reply = server.ask(Self.unlisted, from: client4("127.0.9.9")), DecodedResponse(reply)?.tc == false {
                full += 1
            }
        }
        #expect(full >= 50 * 10 && full <= 50 * 11, "allowed \(full) in 10 s at 50/s (plus the first second's burst)")
    }

    @Test func aNetworkIsItsPrefix() {
        let server = PolicySession(rateLimit: Self.limit(rate: 4, slip: 0))
        #expect(Self.tally(server, Self.listed, from: client4("127.0.1.5"), count: 4) == Tally(4, 0, 0))
        // Same /24: the bucket is used up.
        #expect(Self.tally(server, Self.listed, from: client4("127.0.1.200"), count: 1) == Tally(0, 0, 1))
        // Another /24 has its own.
        #expect(Self.tally(server, Self.listed, from: client4("127.0.2.5"), count: 4) == Tally(4, 0, 0))
        // IPv6: one /56 is one network.
        #expect(Self.tally(server, Self.listed, from: client6([0x2001, 0xdb8, 0, 0x1, 0, 0, 0, 1]), count: 4) == Tally(4, 0, 0))
        #expect(Self.tally(server, Self.listed, from: client6([0x2001, 0xdb8, 0, 0xff, 9, 9, 9, 9]), count: 1) == Tally(0, 0, 1))
        #expect(Self.tally(server, Self.listed, from: client6([0x2001, 0xdb8, 0, 0x100, 0, 0, 0, 1]), count: 4) == Tally(4, 0, 0))
        // An IPv4-mapped source is its IPv4 address.
        #expect(Self.tally(server, Self.listed, from: client6([0, 0, 0, 0, 0, 0xffff, 0x7f00, 0x0101]), count: 1) == Tally(0, 0, 1))
    }

    @Test func answerClassesAreLimitedApart() {
        let server = PolicySession(rateLimit: Self.limit(rate: 3, slip: 0))
        let client = client4("198.51.100.200")
        #expect(Self.tally(server, Self.unlisted, from: client, count: 5) == Tally(3, 0, 2))
        #expect(Self.tally(server, Self.listed, from: client, count: 5) == Tally(3, 0, 2))
        let refused = makeQuery("example.com")
        #expect(Self.tally(server, refused, from: client, count: 5) == Tally(3, 0, 2))
    }

    @Test func tcpIsNeverLimited() {
        let server = PolicySession(rateLimit: Self.limit(rate: 1, slip: 0))
        #expect(Self.tally(server, Self.listed, from: client4("127.0.1.5"), count: 50, transport: .tcp) == Tally(50, 0, 0))
    }

    @Test func exemptNetworksAreNeverLimited() {
        let exempt = [ClientNetwork(isIPv6: false, address: UInt128(TestZone.ip4("127.0.4.0")), prefixLength: 24)!]
        let server = PolicySession(rateLimit: Self.limit(rate: 1, slip: 0, exempt: exempt))
        #expect(Self.tally(server, Self.listed, from: client4("127.0.4.9"), count: 50) == Tally(50, 0, 0))
        #expect(Self.tally(server, Self.listed, from: client4("127.0.5.9"), count: 50) == Tally(1, 0, 49))
    }

    @Test func unknownClientsAreNotLimited() {
        let server = PolicySession(rateLimit: Self.limit(rate: 1, slip: 0))
        var answered = 0
        for _ in 0..<20 {
            server.responder.beginBatch(&server.session)
            var output = [UInt8](repeating: 0, count: 4096)
            let count = Self.listed.withUnsafeBytes { q in
                output.withUnsafeMutableBytes { server.responder.respond(to: q, into: $0, transport: .udp, session: &server.session) }
            }
            if count > 0 { answered += 1 }
        }
        #expect(answered == 20)
    }

    @Test func limitedResponsesAreCountedAndNotAsAnswers() {
        let statistics = QueryStatistics()
        let server = PolicySession(rateLimit: Self.limit(rate: 10, slip: 2), statistics: statistics)
        _ = Self.tally(server, Self.listed, from: client4("127.0.1.5"), count: 30)
        let totals = statistics.totals()
        #expect(totals.policy[.rateLimitDropped] == 10)
        #expect(totals.policy[.rateLimitSlipped] == 10)
        let listed = QueryKey(transport: .udp, zone: "bl.example.org", type: .a, outcome: .listed)
        let slipped = QueryKey(transport: .udp, zone: "bl.example.org", type: .a, outcome: .noError)
        #expect(totals.queries[listed] == 10)
        #expect(totals.queries[slipped] == 10)
        #expect(totals.truncated[.udp] == 10)
    }

    /// Sessions on several threads share one table: together they get the rate, not a rate each.
    @Test func threadsShareTheLimit() async {
        let first = PolicySession(rateLimit: Self.limit(rate: 200, slip: 0))
        let (responder, clocks) = (first.responder, first.clocks)
        let total = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let server = PolicySession(responder: responder, clocks: clocks)
                    return Self.tally(server, Self.listed, from: client4("127.0.7.7"), count: 500).full
                }
            }
            return await group.reduce(0, +)
        }
        // Losing four compare-and-swap races in a row lets a response through (rather than
        // spin), so a few more than the rate may pass under contention.
        #expect(total >= 200 && total <= 210, "\(total) passed of 2,000 at a burst of 200")
    }

    /// Each thread reads the clock once per batch: a thread whose reading is older than the
    /// one that used the bucket up must still find it used up (not take it for wrapped).
    @Test func aThreadWithAnOlderClockReadingIsLimitedToo() {
        let clocks = ManualClocks()
        let late = PolicySession(rateLimit: Self.limit(rate: 10, slip: 0), clocks: clocks)
        let early = PolicySession(sharing: late)
        let client = client4("127.0.6.1")
        early.responder.beginBatch(&early.session)               // reads the clock now
        clocks.advance(microseconds: 300_000)
        #expect(Self.tally(late, Self.listed, from: client, count: 12) == Tally(10, 0, 2))
        var full = 0
        for _ in 0..<10 where early.ask(Self.listed, from: client, newBatch: false) != nil { full += 1 }
        #expect(full == 0, "\(full) passed on a bucket another thread had used up")
    }

    @Test func aFullTableKeepsTheBucketsThatAreLimiting() {
        var configuration = Self.limit(rate: 2, slip: 0)
        configuration.tableSize = 4                              // one group of four buckets
        let server = PolicySession(rateLimit: configuration)
        let flooder = client4("127.0.8.1")
        #expect(Self.tally(server, Self.listed, from: flooder, count: 5) == Tally(2, 0, 3))
        // Twenty other networks come and go; each takes a slot with room, never the flooder's.
        for index in 0..<20 {
            _ = Self.tally(server, Self.listed, from: client4("10.\(index).0.1"), count: 1)
        }
        #expect(Self.tally(server, Self.listed, from: flooder, count: 3) == Tally(0, 0, 3))
    }
}
