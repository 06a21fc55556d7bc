// TrapKeyTests.swift -- HMAC-SHA256 and the trap keys ingest stores instead of trap addresses.

import Foundation
@testable import Store
import Testing
@testable import Ingest

struct TrapKeyTests {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// RFC 4231 §4.3 and §4.7 (a key longer than the block is hashed first).
    @Test func hmacVectors() {
        #expect(hex(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(hex(SHA256.hmac(key: [UInt8](repeating: 0xAA, count: 131),
                                message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test func oneTrapOneKeyAndNoWayBackWithoutTheSecret() {
        let secret = [UInt8](repeating: 7, count: 32)
        let key = TrapAddress.key("Trap.One@Trap.Example.NET", secret: secret)
        #expect(key.count == 16)
        #expect(TrapAddress.key("<trap.one@trap.example.net>", secret: secret) == key, "case and brackets do not matter")
        #expect(TrapAddress.key("trap.two@trap.example.net", secret: secret) != key)
        #expect(TrapAddress.key("trap.one@trap.example.net", secret: [UInt8](repeating: 8, count: 32)) != key, "another store, another key")
        #expect(key == Array(SHA256.hmac(key: secret, message: Array("trap.one@trap.example.net".utf8)).prefix(16)))
    }

    /// What ingest stores for a weak hit: its strength, and the key of the trap it reached
    /// under the store's own secret; never the trap's local part.
    @Test func ingestStoresTheTrapKeyOfAWeakHit() throws {
        let sandbox = try FeedSandbox()
        let message = TrapMail.dsn(source: "81.2.69.40", id: "K1")
        let ingester = try sandbox.ingester()
        var prepared = Ingester.prepare(FeedMessage(bytes: Array(message.utf8), origin: "K1"), trustedNetworks: TrustedNetworks(), now: 0)
        #expect(prepared.hit?.strength == .strong, "a delivery-status report is strong evidence")
        prepared.hit?.strength = .weak
        _ = try ingester.commit([prepared])
        let store = try Store(path: sandbox.dbPath)
        let row = try store.db.statement("SELECT strength, trap_key, trap FROM hits")
        defer { row.reset() }
        #expect(try row.step())
        #expect(row.int64(0) == 1)
        let recipient = try #require(TrapAddress.fromHeader(Array(message.utf8)).first)
        #expect(row.blob(1) == TrapAddress.key(recipient, secret: try store.trapKeySecret()))
        #expect(row.text(2)?.hasPrefix("…@") == true)
    }
}
