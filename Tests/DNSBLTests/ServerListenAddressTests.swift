// ServerListenAddressTests.swift -- parsing of --listen values.

import DNSBL
import Testing

@Suite("ListenAddress")
struct ServerListenAddressTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        let text: String
        let host: String
        let port: UInt16
        let family: ListenAddress.Family
        var testDescription: String { text }
    }

    static let valid: [Valid] = [
        Valid(text: "127.0.0.1:5300", host: "127.0.0.1", port: 5300, family: .ipv4),
        Valid(text: "0.0.0.0:53", host: "0.0.0.0", port: 53, family: .ipv4),
        Valid(text: "[::1]:5300", host: "::1", port: 5300, family: .ipv6),
        Valid(text: "[::]:0", host: "::", port: 0, family: .ipv6),
        Valid(text: "[2001:DB8:0:0::1]:65535", host: "2001:db8::1", port: 65535, family: .ipv6),
    ]

    @Test(arguments: valid)
    func parses(_ example: Valid) throws {
        let address = try ListenAddress(parsing: example.text)
        #expect(address.host == example.host)
        #expect(address.port == example.port)
        #expect(address.family == example.family)
        #expect(try ListenAddress(parsing: address.description) == address, "description round-trips")
    }

    static let invalid = [
        "", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:53x",
        "localhost:53", "::1:53", "[::1]53", "[::1", "[127.0.0.1]:53", "1.2.3.256:53", "[fe80::1%eth0]:53",
    ]

    @Test(arguments: invalid)
    func rejectsWithTheInputNamed(_ text: String) {
        do {
            let address = try ListenAddress(parsing: text)
            Issue.record("'\(text)' parsed as \(address)")
        } catch {
            #expect(error.code == .invalidAddress)
            #expect(error.reason.contains("'\(text)'"))
        }
    }

    @Test func wildcards() throws {
        #expect(try ListenAddress(parsing: "0.0.0.0:53").isWildcard)
        #expect(try ListenAddress(parsing: "[::]:53").isWildcard)
        #expect(try !ListenAddress(parsing: "127.0.0.1:53").isWildcard)
    }
}
