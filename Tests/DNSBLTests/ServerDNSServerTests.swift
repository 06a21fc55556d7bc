// ServerDNSServerTests.swift -- UDP and TCP together on one port.

import DNSBL
import Testing

@Suite("DNSServer")
struct ServerDNSServerTests {
    @Test func servesUDPAndTCPOnTheSamePort() async throws {
        var udp = UDPServerConfiguration()
        udp.socketsPerAddress = 2
        let server = DNSServer(responder: EchoResponder(), addresses: [loopback4, loopback6], udp: udp)
        try await server.start()
        let bound = server.boundAddresses
        #expect(bound.count == 2)
        for address in bound {
            let udpClient = UDPTestClient(for: address)
            udpClient.send(testQuery(id: 1), to: address)
            #expect(udpClient.receive().map { queryID($0.bytes) } == 1)

            let tcpClient = try #require(TCPTestClient(connectingTo: address))
            tcpClient.write(TCPTestClient.framed(testQuery(id: 2)))
            #expect(tcpClient.readFrame().map(queryID) == 2)
        }
        await server.stop()
        let counters = server.counters()
        #expect(counters.udp.answered == 2)
        #expect(counters.tcp.answered == 2)
        #expect(server.boundAddresses.isEmpty)
    }
}
