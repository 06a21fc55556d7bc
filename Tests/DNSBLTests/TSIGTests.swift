// TSIGTests.swift -- signed transfers, checked against libldns's TSIG (RFC 8945).

@testable import DNSBL
import DNSTestSupport
import Glibc
import Testing

@Suite struct TSIGTests {
    static let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnk="  // 32 bytes, base64
    static let secretBytes: [UInt8] = Array("secret-secret-secret-secret-32by".utf8)
    let key = try! TSIGKey(name: "transfer-key", secret: TSIGTests.secretBytes)
    let store = TestZone.makeStore().1

    func transfers(requiring key: TSIGKey?) -> ZoneTransfers {
        ZoneTransfers(policy: TransferTesting.policy(key: key), snapshots: store, clock: { Int64(time(nil)) })
    }

    func signed(keyName: String = "transfer-key.", secret: String = TSIGTests.secret) throws -> LDNSTSIG.Signed {
        try #require(LDNSTSIG.sign(makeQuery("bl.example.org", type: 252, flags: 0), keyName: keyName, secretBase64: secret))
    }

    @Test func aSignedRequestGetsEveryMessageSigned() throws {
        let request = try signed()
        let messages = TransferTesting.messages(transfers(requiring: key), query: request.bytes)
        #expect(messages.count >= 1)
        guard case .success(let first) = LDNSMessage.parse(messages[0]) else { Issue.record("unreadable"); return }
        #expect(first.rcode == 0 && first.answer.first?.contains(" SOA ") == true)
        #expect(LDNSTSIG.verify(messages, request: request, keyName: "transfer-key.", secretBase64: Self.secret))
    }

    @Test func aLongTransferIsSignedMessageByMessage() throws {
        var builder = PrefixTableBuilder()
        for index in 0..<20_000 as Range<UInt32> {
            builder.insert(v4: 0x0A00_0000 | index << 3, prefixLength: 32, value: TableValue(listing: 1))
        }
        let snapshot = try ZoneSnapshot(config: TestZone.config, table: builder.freeze())
        let store = SnapshotStore(ServedZones([snapshot]))
        let transfers = ZoneTransfers(policy: TransferTesting.policy(key: key), snapshots: store, clock: { Int64(time(nil)) })
        let request = try signed()
        let messages = TransferTesting.messages(transfers, query: request.bytes)
        #expect(messages.count > 10)
        #expect(messages.allSatisfy { $0.count <= 65535 })
        #expect(LDNSTSIG.verify(messages, request: request, keyName: "transfer-key.", secretBase64: Self.secret))
        let records = messages.compactMap { try? LDNSMessage.parse($0).get() }.reduce(0) { $0 + $1.answer.count }
        #expect(records == 2 + 2 + 2 * 20_001 + 2)  // SOA, NS×2, A+TXT per host and 127.0.0.2, ::ffff:127.0.0.2, SOA
    }

    @Test func anUnsignedRequestIsRefusedWhenTheZoneNeedsAKey() {
        let messages = TransferTesting.messages(transfers(requiring: key), query: makeQuery("bl.example.org", type: 252))
        #expect(messages.count == 1)
        #expect((try? LDNSMessage.parse(messages[0]).get())?.rcode == 5)
    }

    @Test func anUnknownKeyIsBADKEY() throws {
        let request = try signed(keyName: "other-key.")
        let messages = TransferTesting.messages(transfers(requiring: key), query: request.bytes)
        #expect(messages.count == 1)
        #expect((try? LDNSMessage.parse(messages[0]).get())?.rcode == 9)
        #expect(LDNSTSIG.error(of: messages[0]) == 17)
    }

    @Test func aWrongSecretIsBADSIG() throws {
        let request = try signed(secret: "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc=")
        let messages = TransferTesting.messages(transfers(requiring: key), query: request.bytes)
        #expect((try? LDNSMessage.parse(messages[0]).get())?.rcode == 9)
        #expect(LDNSTSIG.error(of: messages[0]) == 16)
    }

    @Test func aSignatureFromTheWrongTimeIsBADTIMEAndSigned() throws {
        let request = try signed()
        let late = ZoneTransfers(policy: TransferTesting.policy(key: key), snapshots: store, clock: { Int64(time(nil)) + 3600 })
        let messages = TransferTesting.messages(late, query: request.bytes)
        #expect((try? LDNSMessage.parse(messages[0]).get())?.rcode == 9)
        #expect(LDNSTSIG.error(of: messages[0]) == 18)
    }

    @Test func aTamperedRequestIsBADSIG() throws {
        var request = try signed()
        request.bytes[13] ^= 0x20  // the case of a letter of the question name: still the zone, but not what was signed
        let messages = TransferTesting.messages(transfers(requiring: key), query: request.bytes)
        #expect(LDNSTSIG.error(of: messages[0]) == 16)
    }

    @Test func theKeyNeverShowsItsSecret() {
        #expect(!"\(key)".contains("secret") && "\(key)" == "transfer-key (hmac-sha256)")
    }
}
