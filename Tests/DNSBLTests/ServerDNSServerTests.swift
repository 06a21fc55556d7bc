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

    /// `update(addresses:)` binds the new addresses (UDP and TCP on one port) before it
    /// closes the removed ones; an address that stays keeps its sockets. An address that
    /// cannot be bound changes nothing.
    @Test func addressesChangeWhileServing() async throws {
        let server = DNSServer(responder: EchoResponder(), addresses: [loopback4])
        try await server.start()
        let first = try #require(server.boundAddresses.first)
        let (added, removed) = try await server.update(addresses: [loopback4, loopback6])
        #expect(added.count == 1 && removed.isEmpty)
        let second = try #require(added.first)
        #expect(server.boundAddresses == [first, second], "the first address keeps its socket and port")
        for (id, address) in [(UInt16(1), first), (UInt16(2), second)] {
            let udpClient = UDPTestClient(for: address)
            udpClient.send(testQuery(id: id), to: address)
            #expect(udpClient.receive().map { queryID($0.bytes) } == id, "\(address) over UDP")
            let tcpClient = try #require(TCPTestClient(connectingTo: address))
            tcpClient.write(TCPTestClient.framed(testQuery(id: id + 10)))
            #expect(tcpClient.readFrame().map(queryID) == id + 10, "\(address) over TCP")
        }

        let change = try await server.update(addresses: [loopback6])
        #expect(change.added.isEmpty && change.removed == [loopback4])
        #expect(server.boundAddresses == [second])
        // The port is free again (a test running beside this one may bind it): this server
        // accepts no connection there.
        let accepted = server.counters().tcp.connectionsAccepted
        if let stray = TCPTestClient(connectingTo: first, timeoutSeconds: 1) {
            stray.write(TCPTestClient.framed(testQuery(id: 9)))
            _ = stray.readFrame()
        }
        #expect(server.counters().tcp.connectionsAccepted == accepted, "the removed address accepts no connection")
        let client = UDPTestClient(for: second)
        client.send(testQuery(id: 3), to: second)
        #expect(client.receive().map { queryID($0.bytes) } == 3)

        let notLocal = try ListenAddress(parsing: "192.0.2.1:53")
        await #expect(throws: ServerError(.bindFailed, "")) { try await server.update(addresses: [loopback6, notLocal]) }
        #expect(server.boundAddresses == [second], "nothing changed")
        await server.stop()
        #expect(server.counters().udp.answered == 3 && server.counters().tcp.answered == 2, "the removed address's counts stay")
    }
}
