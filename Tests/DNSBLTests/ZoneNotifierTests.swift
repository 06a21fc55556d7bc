// ZoneNotifierTests.swift -- NOTIFY (RFC 1996) to a fake secondary on loopback.

@testable import DNSBL
import DNSTestSupport
import Glibc
import Testing

@Suite(.serialized) struct ZoneNotifierTests {
    let store = TestZone.makeStore().1

    func notifier(to port: UInt16, key: TSIGKey? = nil) throws -> ZoneNotifier {
        let rule = ZoneTransferRule(allow: [TransferTesting.network("127.0.0.0/8")], key: key?.name,
                                    notify: [try ListenAddress(parsing: "127.0.0.1:\(port)")])
        let policy = try TransferPolicy(zones: ["bl.example.org": rule], keys: key.map { [$0] } ?? [])
        return ZoneNotifier(policy: policy, snapshots: store, clock: { Int64(time(nil)) })
    }

    @Test func aNotifyCarriesTheZoneAndItsSOAAndIsSignedWithTheZonesKey() async throws {
        let secondary = try #require(FakeSecondary())
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
        let secondary = try #require(FakeSecondary())
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
        let secondary = try #require(FakeSecondary())
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
