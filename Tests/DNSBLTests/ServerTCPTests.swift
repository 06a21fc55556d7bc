// ServerTCPTests.swift -- live TCPServer tests (RFC 7766) on 127.0.0.1 and ::1 (port 0).

import DNSBL
import Glibc
import NIOCore
import NIOPosix
import Testing

@Suite("TCPServer")
struct ServerTCPTests {
    private func withServer(
        _ addresses: [ListenAddress] = [loopback4],
        configure: (inout TCPServerConfiguration) -> Void = { _ in },
        _ body: (TCPServer<EchoResponder>, ListenAddress) async throws -> Void
    ) async throws {
        var configuration = TCPServerConfiguration()
        configure(&configuration)
        // An event loop of its own: tests elsewhere that hold the shared loops busy must not
        // delay this server's closes and timers into the checks below.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = TCPServer(responder: EchoResponder(), addresses: addresses, configuration: configuration, group: group)
        try await server.start()
        do {
            try await body(server, server.boundAddresses[0])
        } catch {
            await server.stop()
            try await group.shutdownGracefully()
            throw error
        }
        await server.stop()
        try await group.shutdownGracefully()
    }

    @Test(arguments: [loopback4, loopback6])
    func pipelinedQueriesAreAnsweredInOrder(listen: ListenAddress) async throws {
        try await withServer([listen]) { server, address in
            let client = try #require(TCPTestClient(connectingTo: address))
            // Two queries in one write (RFC 7766 §6.2.1.1).
            client.write(TCPTestClient.framed(testQuery(id: 1, extra: 5)) + TCPTestClient.framed(testQuery(id: 2)))
            let first = try #require(client.readFrame())
            let second = try #require(client.readFrame())
            #expect(queryID(first) == 1 && first.count == 17)
            #expect(queryID(second) == 2 && second.count == 12)
            #expect(first[2] & 0x80 != 0)
            #expect(server.counters().answered == 2)
        }
    }

    @Test func queryDripFedByteByByteIsAnswered() async throws {
        try await withServer { _, address in
            let client = try #require(TCPTestClient(connectingTo: address))
            // The pauses block this thread rather than wait for the cooperative pool: with
            // other tests blocking its two threads, a `Task.sleep` could resume seconds late
            // and the drip would run into the server's idle timeout.
            for byte in TCPTestClient.framed(testQuery(id: 42, extra: 3)) {
                client.write([byte])
                usleep(2000)
            }
            let reply = try #require(client.readFrame())
            #expect(queryID(reply) == 42 && reply.count == 15)
        }
    }

    @Test func droppedQueryLeavesTheConnectionOpen() async throws {
        try await withServer { server, address in
            let client = try #require(TCPTestClient(connectingTo: address))
            client.write(TCPTestClient.framed([0xFF] + testQuery(id: 1)) + TCPTestClient.framed(testQuery(id: 2)))
            let reply = try #require(client.readFrame())
            #expect(queryID(reply) == 2)
            #expect(server.counters().dropped == 1)
        }
    }

    @Test func zeroLengthPrefixClosesTheConnection() async throws {
        try await withServer { server, address in
            let client = try #require(TCPTestClient(connectingTo: address))
            client.write([0, 0])
            #expect(client.waitForClose())
            #expect(await eventually { server.counters().framingErrors == 1 })
            // The server still serves others.
            let other = try #require(TCPTestClient(connectingTo: address))
            other.write(TCPTestClient.framed(testQuery(id: 5)))
            #expect(other.readFrame().map(queryID) == 5)
        }
    }

    @Test func largestAndUnfinishedMessagesAreHandled() async throws {
        try await withServer { _, address in
            // A full 65,535-byte message round-trips through the 65,535-byte output buffer.
            let big = try #require(TCPTestClient(connectingTo: address))
            big.write(TCPTestClient.framed(testQuery(id: 9, extra: 65_535 - 12)))
            let reply = try #require(big.readFrame())
            #expect(reply.count == 65_535 && queryID(reply) == 9)

            // A prefix announcing 65,535 bytes followed by only a few, then EOF: no answer.
            let short = try #require(TCPTestClient(connectingTo: address))
            short.write([0xFF, 0xFF] + testQuery(id: 10))
            shutdown(short.fd, Int32(SHUT_WR))
            #expect(short.waitForClose())

            let after = try #require(TCPTestClient(connectingTo: address))
            after.write(TCPTestClient.framed(testQuery(id: 11)))
            #expect(after.readFrame().map(queryID) == 11)
        }
    }

    @Test func halfClosedClientStillGetsItsAnswers() async throws {
        try await withServer { _, address in
            let client = try #require(TCPTestClient(connectingTo: address))
            client.write(TCPTestClient.framed(testQuery(id: 1)) + TCPTestClient.framed(testQuery(id: 2)))
            shutdown(client.fd, Int32(SHUT_WR))
            #expect(client.readFrame().map(queryID) == 1)
            #expect(client.readFrame().map(queryID) == 2)
            #expect(client.waitForClose())
        }
    }

    @Test func idleConnectionIsClosed() async throws {
        try await withServer(configure: { $0.idleTimeout = .milliseconds(200) }) { server, address in
            let client = try #require(TCPTestClient(connectingTo: address, timeoutSeconds: 10))
            client.write(TCPTestClient.framed(testQuery(id: 1)))
            #expect(client.readFrame().map(queryID) == 1)
            #expect(client.waitForClose(), "closed within a generous bound")
            #expect(server.counters().idleClosed == 1)
        }
    }

    @Test func connectionCapIsHonoured() async throws {
        // No idle close during the test: only the client's own close may free a slot.
        try await withServer(configure: { $0.maxConnections = 2; $0.idleTimeout = .seconds(300) }) { server, address in
            let first = try #require(TCPTestClient(connectingTo: address))
            let second = try #require(TCPTestClient(connectingTo: address))
            for (index, client) in [first, second].enumerated() {
                client.write(TCPTestClient.framed(testQuery(id: UInt16(index))))
                #expect(client.readFrame().map(queryID) == UInt16(index))
            }
            let third = try #require(TCPTestClient(connectingTo: address))
            #expect(third.waitForClose(), "a connection beyond the cap is closed at once")
            #expect(server.counters().connectionsRejected == 1)
            #expect(server.openConnections == 2)

            // Once one closes, a new connection is admitted.
            first.disconnect()
            #expect(await eventually { server.openConnections == 1 })
            let fourth = try #require(TCPTestClient(connectingTo: address))
            fourth.write(TCPTestClient.framed(testQuery(id: 4)))
            #expect(fourth.readFrame().map(queryID) == 4)
        }
    }

    @Test func perNetworkCapIsHonoured() async throws {
        try await withServer(configure: { $0.maxConnections = 10; $0.maxConnectionsPerNetwork = 2; $0.idleTimeout = .seconds(300) }) {
            server, address in
            let first = try #require(TCPTestClient(connectingTo: address))
            let second = try #require(TCPTestClient(connectingTo: address))
            #expect(await eventually { server.openConnections == 2 })
            let third = try #require(TCPTestClient(connectingTo: address))
            #expect(third.waitForClose(), "a third connection from 127.0.0.0/24 is closed at once")
            #expect(server.counters().connectionsRejected == 1)
            second.write(TCPTestClient.framed(testQuery(id: 2)))
            #expect(second.readFrame().map(queryID) == 2)
            first.disconnect()
            #expect(await eventually { server.openConnections == 1 })
            let fourth = try #require(TCPTestClient(connectingTo: address))
            fourth.write(TCPTestClient.framed(testQuery(id: 4)))
            #expect(fourth.readFrame().map(queryID) == 4, "the network's slot is free again")
        }
    }

    @Test func stopClosesListenersAndConnections() async throws {
        let server = TCPServer(responder: EchoResponder(), addresses: [loopback4, loopback6])
        try await server.start()
        let bound = server.boundAddresses
        #expect(bound.count == 2 && bound.allSatisfy { $0.port != 0 })
        let client = try #require(TCPTestClient(connectingTo: bound[1]))
        client.write(TCPTestClient.framed(testQuery(id: 1)))
        #expect(client.readFrame().map(queryID) == 1)
        await server.stop()
        #expect(client.waitForClose())
        // Not checked by reconnecting: parallel tests may already have bound the freed port.
        #expect(server.openConnections == 0)
        await server.stop()                 // idempotent
    }

    @Test func bindFailureNamesTheAddress() async throws {
        let first = TCPServer(responder: EchoResponder(), addresses: [loopback4])
        try await first.start()
        let taken = first.boundAddresses[0]
        let second = TCPServer(responder: EchoResponder(), addresses: [loopback6, taken])
        do {
            try await second.start()
            Issue.record("start() succeeded on a port in use")
        } catch {
            #expect(error.code == .bindFailed)
            #expect(error.reason.contains(taken.description))
        }
        #expect(second.boundAddresses.isEmpty)
        await first.stop()
    }
}
