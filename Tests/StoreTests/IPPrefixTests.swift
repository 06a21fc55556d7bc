// IPPrefixTests.swift -- parsing, printing and containment of IPPrefix.

import Testing
import TestSupport
@testable import Store

struct IPPrefixTests {
    struct ParseCase: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let family: IPPrefix.Family
        let address: UInt128
        let length: Int
        let printed: String
        var testDescription: String { name }
    }

    static let good: [ParseCase] = [
        .init(name: "v4 host", text: "192.0.2.1", family: .v4, address: 0xC000_0201, length: 32, printed: "192.0.2.1"),
        .init(name: "v4 /24", text: "192.0.2.0/24", family: .v4, address: 0xC000_0200, length: 24, printed: "192.0.2.0/24"),
        .init(name: "v4 /0", text: "0.0.0.0/0", family: .v4, address: 0, length: 0, printed: "0.0.0.0/0"),
        .init(name: "v4 explicit /32", text: "10.1.2.3/32", family: .v4, address: 0x0A01_0203, length: 32, printed: "10.1.2.3"),
        .init(name: "v4 leading zeros are decimal", text: "010.001.002.003", family: .v4, address: 0x0A01_0203, length: 32, printed: "10.1.2.3"),
        .init(name: "v6 /32", text: "2001:db8::/32", family: .v6, address: 0x2001_0db8 << 96, length: 32, printed: "2001:db8::/32"),
        .init(name: "v6 loopback", text: "::1", family: .v6, address: 1, length: 128, printed: "::1"),
        .init(name: "v6 any", text: "::", family: .v6, address: 0, length: 128, printed: "::"),
        .init(name: "v6 mapped dotted stays v6", text: "::ffff:192.0.2.1", family: .v6, address: 0xFFFF_C000_0201, length: 128, printed: "::ffff:c000:201"),
        .init(name: "v6 RFC 5782 test point", text: "::FFFF:7F00:2", family: .v6, address: 0xFFFF_7F00_0002, length: 128, printed: "::ffff:7f00:2"),
        .init(name: "v6 full form", text: "3f40:2411:c5c3:2896:0:0:0:0/64", family: .v6, address: 0x3f40_2411_c5c3_2896 << 64, length: 64, printed: "3f40:2411:c5c3:2896::/64"),
        .init(name: "v6 trailing ::", text: "2001:db8:1::", family: .v6, address: 0x2001_0db8_0001 << 80, length: 128, printed: "2001:db8:1::"),
        .init(name: "v6 longest zero run compressed", text: "2001:0:0:1:0:0:0:1", family: .v6, address: (0x2001 << 112) | (1 << 64) | 1, length: 128, printed: "2001:0:0:1::1"),
        .init(name: "v6 single zero group not compressed", text: "2001:db8:0:1:1:1:1:1", family: .v6, address: 0x2001_0db8_0000_0001_0001_0001_0001_0001, length: 128, printed: "2001:db8:0:1:1:1:1:1"),
        .init(name: "v6 /0", text: "::/0", family: .v6, address: 0, length: 0, printed: "::/0"),
    ]

    @Test(arguments: good)
    func parsesAndPrints(_ c: ParseCase) throws {
        let prefix = try #require(IPPrefix(c.text))
        #expect(prefix.family == c.family)
        #expect(prefix.address == c.address)
        #expect(prefix.length == c.length)
        #expect(prefix.description == c.printed)
        #expect(IPPrefix(prefix.description) == prefix, "printing round-trips")
    }

    struct RejectCase: CustomTestStringConvertible, Sendable {
        let name: String
        let text: String
        let error: IPPrefixError?
        var testDescription: String { name }
    }

    static let bad: [RejectCase] = [
        .init(name: "empty", text: "", error: .badAddress),
        .init(name: "garbage", text: "example.org", error: .badAddress),
        .init(name: "three octets", text: "1.2.3", error: .badAddress),
        .init(name: "five octets", text: "1.2.3.4.5", error: .badAddress),
        .init(name: "octet > 255", text: "1.2.3.256", error: .badAddress),
        .init(name: "empty octet", text: "1..2.3", error: .badAddress),
        .init(name: "space", text: " 1.2.3.4", error: .badAddress),
        .init(name: "v4 length 33", text: "1.2.3.4/33", error: .badLength),
        .init(name: "empty length", text: "1.2.3.0/", error: .badLength),
        .init(name: "negative length", text: "1.2.3.0/-1", error: .badLength),
        .init(name: "v6 length 129", text: "::/129", error: .badLength),
        .init(name: "two ::", text: "1::2::3", error: .badAddress),
        .init(name: ":::", text: ":::", error: .badAddress),
        .init(name: "nine groups", text: "1:2:3:4:5:6:7:8:9", error: .badAddress),
        .init(name: "seven groups without ::", text: "1:2:3:4:5:6:7", error: .badAddress),
        .init(name: "group too long", text: "12345::", error: .badAddress),
        .init(name: "trailing colon", text: "1:2:3:4:5:6:7:", error: .badAddress),
        .init(name: "leading single colon", text: ":1::", error: .badAddress),
        .init(name: "non-hex", text: "2001:db8::g", error: .badAddress),
        .init(name: ":: with 8 groups", text: "1:2:3:4::5:6:7:8", error: .badAddress),
    ]

    @Test(arguments: bad)
    func rejects(_ c: RejectCase) {
        #expect(IPPrefix(c.text) == nil)
        if let error = c.error, case .failure(let got) = IPPrefix.parse(c.text) { #expect(got == error) }
    }

    @Test func hostBitsAreRejectedStrictlyButReportTheNetwork() {
        #expect(IPPrefix("192.0.2.1/24") == nil)
        #expect(IPPrefix.parse("192.0.2.1/24") == .failure(.hostBitsSet(masked: IPPrefix("192.0.2.0/24")!)))
        #expect(IPPrefix.parse("2001:db8::1/32") == .failure(.hostBitsSet(masked: IPPrefix("2001:db8::/32")!)))
        #expect(IPPrefix(family: .v4, address: 0xC000_0201, length: 24) == IPPrefix("192.0.2.0/24"))
        #expect(IPPrefix(family: .v4, address: 1 << 40, length: 24) == nil)
        #expect(IPPrefix(family: .v6, address: 0, length: 129) == nil)
    }

    @Test func containment() throws {
        let net = try #require(IPPrefix("10.0.0.0/8"))
        #expect(net.contains(IPPrefix("10.1.2.3")!))
        #expect(net.contains(net))
        #expect(!net.contains(IPPrefix("11.0.0.0")!))
        #expect(!net.contains(IPPrefix("0.0.0.0/0")!))
        #expect(IPPrefix("0.0.0.0/0")!.contains(net))
        #expect(!IPPrefix("0.0.0.0/0")!.contains(IPPrefix("::/0")!), "families never contain each other")
        #expect(IPPrefix("::/0")!.contains(IPPrefix("::ffff:10.0.0.1")!))
        #expect(net.isHost == false && IPPrefix("10.1.2.3")!.isHost)
        #expect(IPPrefix("10.1.2.3")!.truncated(to: 16) == IPPrefix("10.1.0.0/16"))
        #expect(IPPrefix("10.0.0.0/8")!.lastAddress == 0x0AFF_FFFF)
    }

    @Test func orderPutsNetworksBeforeWhatTheyContain() {
        let sorted = ["::1", "10.0.0.1", "10.0.0.0/8", "9.0.0.0/8", "2001:db8::/32"].map { IPPrefix($0)! }.sorted()
        #expect(sorted.map(\.description) == ["9.0.0.0/8", "10.0.0.0/8", "10.0.0.1", "::1", "2001:db8::/32"])
    }

    /// Random addresses print and parse back to themselves (seeded, both families).
    @Test func randomRoundTrip() {
        var generator = SplitMix64(seed: 5782)
        for _ in 0..<5000 {
            let v6 = UInt128(generator.next()) << 64 | UInt128(generator.next())
            // Sprinkle zero groups so `::` compression is exercised.
            let mask = UInt128(generator.next() & 0xFF)
            var address = v6
            for group in 0..<8 where mask & (1 << group) != 0 { address &= ~(UInt128(0xFFFF) << (16 * group)) }
            let length = Int(generator.next() % 129)
            let prefix = IPPrefix(family: .v6, address: address, length: length)!
            #expect(IPPrefix(prefix.description) == prefix)
            let v4 = IPPrefix(family: .v4, address: UInt128(UInt32(truncatingIfNeeded: generator.next())), length: Int(generator.next() % 33))!
            #expect(IPPrefix(v4.description) == v4)
        }
    }

    /// An address alone (no length) parses from bytes as its host prefix, and nothing else does.
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("::1", "::1"), ("2001:DB8::25", "2001:db8::25"), ("::ffff:198.51.100.7", "::ffff:c633:6407"),
    ])
    func addressFromBytes(_ text: String, _ printed: String) throws {
        let address = try #require(IPPrefix(address: Array(text.utf8)))
        #expect(address.isHost && address.description == printed)
        #expect(IPPrefix(address: Array(text.utf8)[...]) == address, "any collection of bytes")
    }

    @Test(arguments: ["192.0.2.0/24", "", " 192.0.2.1", "1.2.3", "2001:db8::/32", "host.example"])
    func addressFromBytesRejects(_ text: String) {
        #expect(IPPrefix(address: Array(text.utf8)) == nil)
    }

    /// IPv4-mapped IPv6 prefixes stand for IPv4 ones; everything else is left alone.
    @Test(arguments: [
        ("::ffff:192.0.2.1", "192.0.2.1"), ("::ffff:10.0.0.0/104", "10.0.0.0/8"), ("::ffff:0:0/96", "0.0.0.0/0"),
        ("::fffe:0:0/95", "::fffe:0:0/95"), ("2001:db8::1", "2001:db8::1"), ("::192.0.2.1", "::c000:201"), ("192.0.2.0/24", "192.0.2.0/24"),
    ])
    func unmapped(_ text: String, _ expected: String) throws {
        #expect(try #require(IPPrefix(text)).unmapped.description == expected)
    }
}
