// ServerStatsTests.swift -- query statistics: per-session counters summed across threads and connections.

@testable import DNSBL
import DNSTestSupport
import Testing

@Suite("Query statistics")
struct ServerStatsTests {
    /// The queries each client sends, with the series each must land in.
    static let cases: [(name: String, query: [UInt8], key: QueryKey)] = [
        ("listed A", makeQuery("7.100.51.198.bl.example.org", type: 1),
         QueryKey(transport: .udp, zone: "bl.example.org", type: .a, outcome: .listed)),
        ("unlisted A", makeQuery("1.2.0.192.bl.example.org", type: 1),
         QueryKey(transport: .udp, zone: "bl.example.org", type: .a, outcome: .nxDomain)),
        ("listed AAAA is NODATA", makeQuery("7.100.51.198.bl.example.org", type: 28),
         QueryKey(transport: .udp, zone: "bl.example.org", type: .aaaa, outcome: .noError)),
        ("apex SOA", makeQuery("bl.example.org", type: 6),
         QueryKey(transport: .udp, zone: "bl.example.org", type: .soa, outcome: .noError)),
        ("truncated listed TXT", makeQuery("9.100.51.198.bl.example.org", type: 16),  // 600-byte TXT > 512
         QueryKey(transport: .udp, zone: "bl.example.org", type: .txt, outcome: .listed)),
        ("outside every zone", makeQuery("example.com", type: 1),
         QueryKey(transport: .udp, zone: nil, type: .a, outcome: .refused)),
        ("opcode STATUS", makeQuery("bl.example.org", type: 6, flags: 0x1100),
         QueryKey(transport: .udp, zone: nil, type: .other, outcome: .notImp)),
    ]

    @Test func udpCountersSumAcrossThreads() async throws {
        let (responder, _) = TestZone.makeStore()
        var udp = UDPServerConfiguration()
        udp.socketsPerAddress = 4      // four threads, each with its own session and counter block
        let server = DNSServer(responder: responder, addresses: [loopback4], udp: udp)
        try await server.start()
        let address = server.boundAddresses[0]

        // Eight clients (eight source ports): SO_REUSEPORT spreads their flows over the threads.
        let clients = (0..<8).map { _ in UDPTestClient(for: address) }
        let rounds = 5
        for round in 0..<rounds {
            for (index, client) in clients.enumerated() {
                for (caseIndex, item) in Self.cases.enumerated() {
                    var query = item.query
                    let id = UInt16(round * 1000 + index * 100 + caseIndex)
                    (query[0], query[1]) = (UInt8(id >> 8), UInt8(id & 0xFF))
                    client.send(query, to: address)
                }
            }
            for client in clients {
                for _ in Self.cases { _ = try #require(client.receive(), "a reply for every query") }
            }
        }
        clients[0].send(makeQuery("bl.example.org", flags: 0x8000), to: address)  // a response: dropped

        let perCase = UInt64(rounds * clients.count)
        var expected: [QueryKey: UInt64] = [:]
        for item in Self.cases { expected[item.key, default: 0] += perCase }
        #expect(await eventually { responder.statistics.totals().queries == expected })
        #expect(responder.statistics.totals().truncated == [.udp: perCase])
        #expect(await eventually { server.counters().udp.dropped == 1 })
        #expect(server.counters().udp.received == perCase * UInt64(Self.cases.count) + 1)
        await server.stop()
    }

    @Test func tcpConnectionsCountUnderTCPAndReuseBlocks() async throws {
        let (responder, _) = TestZone.makeStore()
        let server = DNSServer(responder: responder, addresses: [loopback4])
        try await server.start()
        let address = server.boundAddresses[0]

        // Connections one after another: each session hands its block back when it ends,
        // and the counts in it carry on into the next connection's.
        for id in UInt16(1)...6 {
            let client = try #require(TCPTestClient(connectingTo: address))
            client.write(TCPTestClient.framed(makeQuery("9.100.51.198.bl.example.org", type: 16, id: id)))
            let reply = try #require(client.readFrame())
            #expect(DecodedResponse(reply)?.tc == false, "TCP fits the 600-byte TXT")
            client.disconnect()
        }
        let key = QueryKey(transport: .tcp, zone: "bl.example.org", type: .txt, outcome: .listed)
        #expect(await eventually { responder.statistics.totals().queries == [key: 6] })
        #expect(responder.statistics.totals().truncated.isEmpty)
        await server.stop()
    }

    @Test func zonesKeepTheirCountersWhenPublicationReordersThem() throws {
        let (responder, store) = TestZone.makeStore()
        func zone(_ name: String) throws -> ZoneSnapshot {
            var config = TestZone.config
            config.name = name
            return try ZoneSnapshot(config: config, table: PrefixTableBuilder().freeze())
        }
        // Two zones of three labels: `replacing` appends the new one, so their order flips.
        store.publish(ServedZones([try zone("bl.example.org"), try zone("dnsbl.example.net")]))
        #expect(respond(makeQuery("bl.example.org", type: 6), responder: responder) != nil)
        store.publish(zone: try zone("bl.example.org"))
        #expect(respond(makeQuery("bl.example.org", type: 6), responder: responder) != nil)
        #expect(respond(makeQuery("dnsbl.example.net", type: 2), responder: responder) != nil)

        #expect(responder.statistics.totals().queries == [
            QueryKey(transport: .udp, zone: "bl.example.org", type: .soa, outcome: .noError): 2,
            QueryKey(transport: .udp, zone: "dnsbl.example.net", type: .ns, outcome: .noError): 1,
        ])
    }
}
