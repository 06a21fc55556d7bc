// ServerUDPTests.swift -- live UDPServer tests on 127.0.0.1 and ::1 (port 0).

import CTestSupport
import DNSBL
import Glibc
import NIOCore
import Synchronization
import Testing

@Suite("UDPServer")
struct ServerUDPTests {
    private func makeServer(
        _ addresses: [ListenAddress] = [loopback4, loopback6],
        sockets: Int = 2,
        configure: (inout UDPServerConfiguration) -> Void = { _ in }
    ) throws -> (UDPServer<EchoResponder>, EchoResponder) {
        let responder = EchoResponder()
        var configuration = UDPServerConfiguration()
        configuration.socketsPerAddress = sockets
        configure(&configuration)
        let server = UDPServer(responder: responder, addresses: addresses, configuration: configuration)
        try server.start()
        return (server, responder)
    }

    @Test func roundTripOverIPv4AndIPv6() async throws {
        let (server, _) = try makeServer()
        defer { server.stop() }
        let bound = server.boundAddresses
        try #require(bound.count == 2)
        #expect(bound.allSatisfy { $0.port != 0 })
        for address in bound {
            let client = UDPTestClient(for: address)
            for id in UInt16(1)...5 { client.send(testQuery(id: id, extra: 20), to: address) }
            var seen: Set<UInt16> = []
            for _ in 1...5 {
                let reply = try #require(client.receive(), "no reply from \(address)")
                #expect(reply.bytes.count == 32)
                #expect(reply.bytes[2] & 0x80 != 0, "QR set by the responder")
                #expect(reply.from == address.host)
                seen.insert(queryID(reply.bytes))
            }
            #expect(seen == Set(1...5))
        }
        // Counters are published after each batch's sendmmsg, so poll.
        #expect(await eventually { server.counters().answered == 10 })
    }

    /// A serving thread that receives nothing looks at the snapshot store at each receive
    /// timeout, so a replaced table is freed on an idle server too, not kept until the next
    /// query arrives.
    @Test func anIdleThreadLetsGoOfAReplacedTable() async throws {
        let (responder, store) = TestZone.makeStore()
        var configuration = UDPServerConfiguration()
        configuration.socketsPerAddress = 2
        let server = UDPServer(responder: responder, addresses: [loopback4], configuration: configuration)
        try server.start()
        defer { server.stop() }
        let address = try #require(server.boundAddresses.first)
        let client = UDPTestClient(for: address)
        client.send(testQuery(id: 1), to: address)
        #expect(client.receive() != nil, "a thread has answered from the first snapshot")

        weak let replaced = store.load().zones.first?.table
        #expect(replaced != nil)
        store.publish(ServedZones([try ZoneSnapshot(config: TestZone.config, table: PrefixTableBuilder().freeze())]))
        // Bounded wait: the receive timeout is 200 ms; no query is sent meanwhile.
        for _ in 0..<100 where replaced != nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(replaced == nil, "the replaced table is freed without another query")
    }

    /// Steered by CPU, whatever one CPU sends reaches one socket, from however many
    /// flows: sixteen clients (ports) of a thread pinned to one CPU are all answered by one
    /// serving thread. By flow hash they are spread over both (all on one socket by chance
    /// once in 32,768), which shows that the test tells the two apart.
    @Test(.enabled(if: System.coreCount >= 2, "steering by CPU needs a CPU for each of the two sockets"),
          arguments: [UDPSteering.cpu, .hash])
    func steeringDecidesWhichThreadAnswers(steering: UDPSteering) throws {
        let (server, responder) = try makeServer([loopback4], sockets: 2) { $0.steering = steering }
        defer { server.stop() }
        let address = server.boundAddresses[0]
        try Self.onOneCPU {
            for client in (0..<16).map({ _ in UDPTestClient(for: address) }) {
                client.send(testQuery(id: 1, extra: 20), to: address)
                _ = try #require(client.receive(), "no reply from \(address)")
            }
        }
        let threads = responder.answeringThreads.withLock { $0.count }
        #expect(steering == .cpu ? threads == 1 : threads == 2, "\(steering): \(threads) threads answered")
    }

    /// Runs `body` with the calling thread held on the CPU it is on, then lets it go.
    static func onOneCPU(_ body: () throws -> Void) throws {
        try #require(test_hold_thread_on_its_cpu() >= 0, "cannot hold the thread on its CPU: errno \(errno)")
        defer { _ = test_release_thread() }
        try body()
    }

    @Test func droppedDatagramGetsNoReply() async throws {
        let (server, _) = try makeServer([loopback4], sockets: 1)
        defer { server.stop() }
        let address = server.boundAddresses[0]
        let client = UDPTestClient(for: address)
        client.send([0xFF] + testQuery(id: 7), to: address)      // the responder drops it
        client.send(testQuery(id: 8), to: address)
        let reply = try #require(client.receive())
        #expect(queryID(reply.bytes) == 8)
        #expect(await eventually { server.counters().dropped == 1 && server.counters().received == 2 })
    }

    @Test func slotsAreReusedAcrossBatchesOfDifferentSizes() throws {
        let (server, _) = try makeServer([loopback6], sockets: 1)
        defer { server.stop() }
        let address = server.boundAddresses[0]
        let client = UDPTestClient(for: address)
        // Each query waits for its reply, so each is a batch of one in slot 0.
        for (id, extra) in [(1, 0), (2, 300), (3, 5), (4, 1000), (5, 0)] {
            client.send(testQuery(id: UInt16(id), extra: extra), to: address)
            let reply = try #require(client.receive())
            #expect(queryID(reply.bytes) == UInt16(id))
            #expect(reply.bytes.count == 12 + extra)
        }
    }

    @Test func burstOfDatagramsIsAllAnswered() async throws {
        let (server, responder) = try makeServer([loopback4], sockets: 2)
        defer { server.stop() }
        let address = server.boundAddresses[0]
        let client = UDPTestClient(for: address)
        let total = 200
        for id in 0..<UInt16(total) { client.send(testQuery(id: id, extra: 30), to: address) }
        var seen: Set<UInt16> = []
        while seen.count < total, let reply = client.receive() {
            seen.insert(queryID(reply.bytes))
        }
        #expect(seen.count == total)
        #expect(await eventually { server.counters().answered == UInt64(total) })
        // One beginBatch per recvmmsg batch, never more than one per datagram.
        #expect(responder.batches.load(ordering: .relaxed) <= total)
    }

    @Test func truncatedDatagramIsCountedAndDropped() async throws {
        let (server, _) = try makeServer([loopback4], sockets: 1) { $0.queryCapacity = 512 }
        defer { server.stop() }
        let address = server.boundAddresses[0]
        let client = UDPTestClient(for: address)
        client.send(testQuery(id: 1, extra: 600), to: address)   // 612 bytes > 512
        client.send(testQuery(id: 2, extra: 500), to: address)   // 512 bytes: fits exactly
        let reply = try #require(client.receive())
        #expect(queryID(reply.bytes) == 2)
        #expect(reply.bytes.count == 512)
        #expect(await eventually { server.counters().truncated == 1 && server.counters().answered == 1 })
    }

    @Test(arguments: [("0.0.0.0", "127.0.0.2"), ("::", "::1")])
    func wildcardRepliesFromTheQueriedAddress(wildcard: String, target: String) throws {
        let (server, _) = try makeServer([try ListenAddress(host: wildcard, port: 0)], sockets: 1)
        defer { server.stop() }
        let destination = try ListenAddress(host: target, port: server.boundAddresses[0].port)
        let client = UDPTestClient(for: destination)
        client.send(testQuery(id: 3), to: destination)
        let reply = try #require(client.receive())
        #expect(queryID(reply.bytes) == 3)
        #expect(reply.from == target, "pktinfo: the reply leaves from the address the query arrived on")
    }

    @Test func bindFailureNamesTheAddress() throws {
        // A plain socket (no SO_REUSEPORT) holds the port.
        let holder = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(holder) }
        let any = try ListenAddress(host: "127.0.0.1", port: 0)
        _ = withSocketAddress(any) { bind(holder, $0, $1) }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) }
        }
        let taken = any.with(port: UInt16(bigEndian: bound.sin_port))

        let server = UDPServer(responder: EchoResponder(), addresses: [taken])
        do {
            try server.start()
            Issue.record("start() succeeded on a port in use")
        } catch {
            #expect(error.code == .bindFailed)
            #expect(error.reason.contains(taken.description))
        }
        #expect(server.boundAddresses.isEmpty)
    }

    @Test func stopEndsAllThreadsAndReleasesThePort() throws {
        let (server, responder) = try makeServer([loopback4, loopback6], sockets: 3)
        let bound = server.boundAddresses
        #expect(responder.sessions.load(ordering: .relaxed) <= 6)
        let started = ContinuousClock.now
        server.stop()                          // returns after joining all six threads
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(server.boundAddresses.isEmpty)
        server.stop()                          // idempotent
        // Every socket is closed: a socket without SO_REUSEPORT can bind the port again.
        for address in bound {
            let fd = socket(address.family == .ipv4 ? AF_INET : AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
            defer { close(fd) }
            #expect(withSocketAddress(address) { bind(fd, $0, $1) } == 0, "\(address) still bound")
        }
    }

    @Test func secondStartIsRefused() throws {
        let (server, _) = try makeServer([loopback4], sockets: 1)
        defer { server.stop() }
        #expect(throws: ServerError(.alreadyStarted, "")) { try server.start() }
    }
}
