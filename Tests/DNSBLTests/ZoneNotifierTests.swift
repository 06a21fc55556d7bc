// ZoneNotifierTests.swift -- NOTIFY (RFC 1996) to a fake secondary on loopback.

@testable import DNSBL
import DNSTestSupport
import Glibc
import Testing

/// A UDP socket on 127.0.0.1 that plays a secondary: receives NOTIFY, answers if told to.
final class FakeSecondary {
    let fd: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        fd = descriptor
        port = UInt16(bigEndian: address.sin_port)
        try #require(bound == 0)
    }

    deinit { close(fd) }

    /// The next datagram within `seconds`, answered (QR set, NOERROR) when `answer`.
    func receive(within seconds: Int, answer: Bool) -> [UInt8]? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        guard count > 0 else { return nil }
        let message = Array(buffer[..<count])
        if answer {
            var reply = Array(message[0..<12])
            reply[2] |= 0x80       // QR
            reply[3] &= 0xF0       // NOERROR
            reply[6] = 0; reply[7] = 0; reply[10] = 0; reply[11] = 0
            let questionEnd = 12 + (message[12...].firstIndex(of: 0)! - 12) + 1 + 4
            reply += message[12..<questionEnd]
            _ = reply.withUnsafeBytes { bytes in
                withUnsafePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length) }
                }
            }
        }
        return message
    }
}

@Suite(.serialized) struct ZoneNotifierTests {
    let store = TestZone.makeStore().1

    func notifier(to port: UInt16, key: TSIGKey? = nil) throws -> ZoneNotifier {
        let rule = ZoneTransferRule(allow: [try TransferNetwork(parsing: "127.0.0.0/8")], key: key?.name,
                                    notify: [try ListenAddress(parsing: "127.0.0.1:\(port)")])
        let policy = try TransferPolicy(zones: ["bl.example.org": rule], keys: key.map { [$0] } ?? [])
        return ZoneNotifier(policy: policy, snapshots: store, clock: { Int64(time(nil)) })
    }

    @Test func aNotifyCarriesTheZoneAndItsSOAAndIsSignedWithTheZonesKey() async throws {
        let secondary = try FakeSecondary()
        let key = try TSIGKey(name: "transfer-key", secret: TSIGTests.secretBytes)
        let notifier = try notifier(to: secondary.port, key: key)
        try await notifier.start()
        notifier.zoneChanged("bl.example.org")
        let message = try #require(secondary.receive(within: 5, answer: true))
        await notifier.stop()
        let parsed = try LDNSMessage.parse(message).get()
        #expect(parsed.opcode == 4 && parsed.aa && !parsed.qr)
        #expect(parsed.question == ["bl.example.org. IN SOA"])
        #expect(parsed.answer.count == 1 && parsed.answer[0].contains(" SOA ") && parsed.answer[0].contains(" 42 "))
        #expect(LDNSTSIG.verifyRequest(message, keyName: "transfer-key.", secretBase64: TSIGTests.secret))
    }

    @Test func changesInOneSecondAreCoalescedAndAnAnswerEndsTheRetries() async throws {
        let secondary = try FakeSecondary()
        let notifier = try notifier(to: secondary.port)
        try await notifier.start()
        for _ in 0..<50 { notifier.zoneChanged("bl.example.org") }
        #expect(secondary.receive(within: 5, answer: true) != nil)
        // The 49 other changes made at most one more round; it comes within the second.
        let second = secondary.receive(within: 3, answer: true)
        let third = secondary.receive(within: 3, answer: true)
        let statistics = await notifier.statistics()
        await notifier.stop()
        #expect(third == nil, "more than two rounds for 50 changes")
        #expect(statistics.rounds == (second == nil ? 1 : 2))
        #expect(statistics.answered == statistics.rounds)
    }

    @Test func aSecondaryThatDoesNotAnswerIsAskedAgain() async throws {
        let secondary = try FakeSecondary()
        let notifier = try notifier(to: secondary.port)
        try await notifier.start()
        notifier.zoneChanged("bl.example.org")
        let first = try #require(secondary.receive(within: 5, answer: false))
        let retry = try #require(secondary.receive(within: 10, answer: true))
        let statistics = await notifier.statistics()
        await notifier.stop()
        #expect(Array(first[0..<2]) == Array(retry[0..<2]), "a retry keeps its ID")
        #expect(statistics.rounds == 1)
    }
}
