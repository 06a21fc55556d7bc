// ClientPolicyTests.swift -- refused networks, fixed codes for open resolvers, daily quotas.

@testable import DNSBL
import DNSTestSupport
import Testing

struct ClientPolicyTests {
    static let listedA = makeQuery(TestZone.reverse4("198.51.100.7"))
    static let unlistedA = makeQuery(TestZone.reverse4("192.0.2.55"))
    static let listedTXT = makeQuery(TestZone.reverse4("198.51.100.7"), type: 16)
    static let apexSOA = makeQuery("bl.example.org", type: 6)

    static func network(_ text: String, _ length: Int) -> ClientNetwork {
        ClientNetwork(isIPv6: false, address: UInt128(TestZone.ip4(text)), prefixLength: length)!
    }

    static func aRecord(_ reply: [UInt8]?) -> UInt32? {
        guard let reply, let decoded = DecodedResponse(reply), let answer = decoded.answers.first,
              answer.type == 1, answer.rdata.count == 4 else { return nil }
        return answer.rdata.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    static func txt(_ reply: [UInt8]?) -> String? {
        guard let reply, let decoded = DecodedResponse(reply), let answer = decoded.answers.first, answer.type == 16
        else { return nil }
        return DecodedResponse.strings(answer.rdata).joined()
    }

    @Test(arguments: [Transport.udp, .tcp])
    func refusedNetworksGetRefusedForEverything(transport: Transport) throws {
        var clients = ClientPolicyConfiguration()
        clients.refused = [Self.network("192.0.2.0", 24)]
        let statistics = QueryStatistics()
        let server = PolicySession(clients: clients, statistics: statistics)
        for query in [Self.listedA, Self.listedTXT, Self.apexSOA, makeQuery("example.com")] {
            let reply = try #require(server.ask(query, from: client4("192.0.2.99"), transport: transport))
            let decoded = try #require(DecodedResponse(reply))
            #expect(decoded.rcode == 5)                          // REFUSED
            #expect(!decoded.aa && decoded.answers.isEmpty)
            #expect(decoded.questionBytes == Array(query[12...]))
        }
        // A malformed query from there is refused too (it has a header to echo).
        var formErr = Self.listedA
        formErr[5] = 2                                           // QDCOUNT 2
        let formErrReply = try #require(server.ask(formErr, from: client4("192.0.2.1")))
        #expect(DecodedResponse(formErrReply)?.rcode == 5)
        // Others are answered.
        #expect(Self.aRecord(server.ask(Self.listedA, from: client4("192.0.3.1"), transport: transport)) == 0x7F00_0002)
        #expect(statistics.totals().policy[.refused] == 5)
    }

    @Test func fixedCodeNetworksGetTheFixedCodeForEveryAddress() throws {
        var clients = ClientPolicyConfiguration()
        clients.fixedCodeNetworks = [Self.network("8.8.8.0", 24)]
        clients.fixedText = "open resolver: $ not looked up"
        let statistics = QueryStatistics()
        let server = PolicySession(clients: clients, statistics: statistics)
        let resolver = client4("8.8.8.8")
        #expect(Self.aRecord(server.ask(Self.listedA, from: resolver)) == 0x7FFF_FFFE)
        #expect(Self.aRecord(server.ask(Self.unlistedA, from: resolver)) == 0x7FFF_FFFE)
        #expect(Self.txt(server.ask(Self.listedTXT, from: resolver)) == "open resolver: 198.51.100.7 not looked up")
        let v6 = makeQuery(TestZone.reverse6("20010db8000000000000000000000001"))
        #expect(Self.aRecord(server.ask(v6, from: resolver)) == 0x7FFF_FFFE)
        // Other types of an address: NODATA. The apex is answered as always.
        let aaaaReply = try #require(server.ask(makeQuery(TestZone.reverse4("198.51.100.7"), type: 28), from: resolver))
        let aaaa = try #require(DecodedResponse(aaaaReply))
        #expect(aaaa.rcode == 0 && aaaa.answers.isEmpty && aaaa.authority.count == 1)
        let soaReply = try #require(server.ask(Self.apexSOA, from: resolver))
        let soa = try #require(DecodedResponse(soaReply))
        #expect(soa.answers.first?.type == 6)
        // The code's TTL is the negative TTL (min(SOA TTL, minimum) = 60).
        let codeReply = try #require(server.ask(Self.listedA, from: resolver))
        #expect(DecodedResponse(codeReply)?.answers.first?.ttl == 60)
        // Everyone else gets the listing.
        #expect(Self.aRecord(server.ask(Self.listedA, from: client4("8.8.4.4"))) == 0x7F00_0002)
        #expect(statistics.totals().policy[.fixedCode] == 6)
    }

    @Test func overTheDailyQuotaAddressesAreAnsweredWithTheQuotaCode() throws {
        let clocks = ManualClocks()
        var clients = ClientPolicyConfiguration()
        clients.dailyQuota = 3
        clients.quotaText = "quota used up, $ not looked up"
        let statistics = QueryStatistics()
        let server = PolicySession(clients: clients, clocks: clocks, statistics: statistics)
        let heavy = client4("198.18.5.1")
        #expect(Self.aRecord(server.ask(Self.listedA, from: heavy)) == 0x7F00_0002)
        let unlistedReply = try #require(server.ask(Self.unlistedA, from: heavy))
        #expect(DecodedResponse(unlistedReply)?.rcode == 3)
        // Names that are no address do not count; the apex does not either.
        _ = server.ask(Self.apexSOA, from: heavy)
        _ = server.ask(makeQuery("www.bl.example.org"), from: heavy)
        #expect(Self.aRecord(server.ask(Self.listedA, from: heavy)) == 0x7F00_0002)
        // The fourth address query of the day, from anywhere in the /24, and TCP alike.
        #expect(Self.aRecord(server.ask(Self.unlistedA, from: client4("198.18.5.200"))) == 0x7FFF_FFFF)
        #expect(Self.aRecord(server.ask(Self.listedA, from: heavy, transport: .tcp)) == 0x7FFF_FFFF)
        #expect(Self.txt(server.ask(Self.listedTXT, from: heavy)) == "quota used up, 198.51.100.7 not looked up")
        // Another network has its own quota; the next UTC day starts again.
        #expect(Self.aRecord(server.ask(Self.listedA, from: client4("198.18.6.1"))) == 0x7F00_0002)
        clocks.advance(days: 1)
        #expect(Self.aRecord(server.ask(Self.listedA, from: heavy)) == 0x7F00_0002)
        #expect(statistics.totals().policy[.overQuota] == 3)
    }

    @Test func quotaCountsIPv6NetworksByTheirPrefix() {
        var clients = ClientPolicyConfiguration()
        clients.dailyQuota = 2
        let server = PolicySession(clients: clients)
        #expect(Self.aRecord(server.ask(Self.listedA, from: client6([0x2001, 0xdb8, 0, 0x12, 0, 0, 0, 1]))) == 0x7F00_0002)
        #expect(Self.aRecord(server.ask(Self.listedA, from: client6([0x2001, 0xdb8, 0, 0x34, 0, 0, 0, 2]))) == 0x7F00_0002)
        #expect(Self.aRecord(server.ask(Self.listedA, from: client6([0x2001, 0xdb8, 0, 0x56, 1, 2, 3, 4]))) == 0x7FFF_FFFF)
        #expect(Self.aRecord(server.ask(Self.listedA, from: client6([0x2001, 0xdb8, 0, 0x156, 0, 0, 0, 1]))) == 0x7F00_0002)
    }

    @Test func quotaExemptNetworksAreNotCounted() {
        var clients = ClientPolicyConfiguration()
        clients.dailyQuota = 1
        clients.quotaExempt = [Self.network("127.0.0.0", 8)]
        let server = PolicySession(clients: clients)
        for _ in 0..<20 {
            #expect(Self.aRecord(server.ask(Self.listedA, from: client4("127.0.0.1"))) == 0x7F00_0002)
        }
    }

    @Test func aFullQuotaTableForgetsTheLightestNetworkFirst() {
        var clients = ClientPolicyConfiguration()
        clients.dailyQuota = 5
        clients.quotaTableSize = 4                               // one group of four counters
        let server = PolicySession(clients: clients)
        let heavy = client4("203.0.113.1")
        for _ in 0..<5 { _ = server.ask(Self.listedA, from: heavy) }
        for index in 0..<50 { _ = server.ask(Self.listedA, from: client4("10.\(index).0.1")) }
        #expect(Self.aRecord(server.ask(Self.listedA, from: heavy)) == 0x7FFF_FFFF)
    }

    @Test func anEmptyPolicyIsNone() {
        #expect(ClientPolicy(ClientPolicyConfiguration()) == nil)
        #expect(ResponseRateLimiter(RateLimitConfiguration()) == nil)
    }
}
