// ImportListFileTests.swift -- the plain and rbldnsd list file parsers.

import Foundation
import Testing
import TestSupport
@testable import Store

struct ImportListFileTests {
    func parse(_ text: String, _ format: ListFileParser.Format = .rbldnsd) -> ListFileResult {
        ListFileParser.parse(Array(text.utf8), format: format, fileName: "ip4.zone")
    }

    @Test func rbldnsdHeaderBecomesZoneSettings() {
        let result = parse("""
            # comment
            $SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
            $NS 3600 ns1.example.org ns2.example.org
            $TTL 1h
            :127.0.0.2:Listed for backscatter, see https://example.org/lookup?ip=$
            127.0.0.2 ; RFC 5782 test point
            """)
        #expect(result.errors.isEmpty)
        let s = result.settings
        #expect(s.soaTTL == 3600 && s.mname == "ns1.example.org" && s.rname == "hostmaster.example.org")
        #expect(s.serial == nil, "serial 0 means: use the store's serial")
        #expect(s.refresh == 600 && s.retry == 300 && s.expire == 86400 && s.minimum == 60)
        #expect(s.nsTTL == 3600 && s.nameservers == ["ns1.example.org", "ns2.example.org"])
        #expect(s.ttl == 3600)
        #expect(s.defaultCode == 2)
        #expect(s.txtTemplate == "Listed for backscatter, see https://example.org/lookup?ip=$")
        #expect(result.entries == [ImportEntry(prefix: IPPrefix("127.0.0.2")!, line: 6)])
        let applied = s.applied(to: .defaults(zone: "bl.example.org"))
        #expect(applied.nameservers == ["ns1.example.org", "ns2.example.org"] && applied.name == "bl.example.org")
    }

    struct EntryCase: CustomTestStringConvertible, Sendable {
        let name: String
        let line: String
        let expected: [String]       // prefixes, "!" for exclusions
        var code: UInt8? = nil
        var text: String? = nil
        var testDescription: String { name }
    }

    static let entryCases: [EntryCase] = [
        .init(name: "host", line: "1.2.3.4", expected: ["1.2.3.4"]),
        .init(name: "cidr", line: "1.2.3.0/24", expected: ["1.2.3.0/24"]),
        .init(name: "abbreviated /24", line: "1.2.3", expected: ["1.2.3.0/24"]),
        .init(name: "abbreviated /16", line: "1.2", expected: ["1.2.0.0/16"]),
        .init(name: "abbreviated with length", line: "10/8", expected: ["10.0.0.0/8"]),
        .init(name: "range", line: "1.2.3.4-1.2.3.10", expected: ["1.2.3.4/30", "1.2.3.8/31", "1.2.3.10"]),
        .init(name: "short range", line: "1.2.3.0-255", expected: ["1.2.3.0/24"]),
        .init(name: "whole space range", line: "0.0.0.0-255.255.255.255", expected: ["0.0.0.0/0"]),
        .init(name: "exclusion", line: "!1.2.3.4", expected: ["!1.2.3.4"]),
        .init(name: "exclusion with space", line: "! 1.2.3.0/24", expected: ["!1.2.3.0/24"]),
        .init(name: "v6", line: "2001:db8::/32", expected: ["2001:db8::/32"]),
        .init(name: "v6 mapped", line: "::ffff:7f00:2 ; test point", expected: ["::ffff:7f00:2"]),
        .init(name: "value :A:TXT", line: "1.2.3.4 :127.0.0.3:Blocked $", expected: ["1.2.3.4"], code: 3, text: "Blocked $"),
        .init(name: "value :X:", line: "1.2.3.4 :4:", expected: ["1.2.3.4"], code: 4),
        .init(name: "value text only", line: "1.2.3.4\tsee http://x/#y", expected: ["1.2.3.4"], text: "see http://x/#y"),
        .init(name: "trailing hash comment", line: "1.2.3.4   # why", expected: ["1.2.3.4"]),
        .init(name: "CRLF", line: "1.2.3.4\r", expected: ["1.2.3.4"]),
    ]

    @Test(arguments: entryCases)
    func rbldnsdEntries(_ c: EntryCase) {
        let result = parse(c.line)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.entries.map { ($0.excluded ? "!" : "") + $0.prefix.description } == c.expected)
        #expect(result.entries.allSatisfy { $0.code == c.code && $0.text == c.text && $0.line == 1 })
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let name: String
        let line: String
        let reason: String
        var format: ListFileParser.Format = .rbldnsd
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        .init(name: "bad cidr", line: "1.2.3.4/33", reason: "bad CIDR '1.2.3.4/33'"),
        .init(name: "bad v6 cidr", line: "2001:db8::/129", reason: "bad CIDR '2001:db8::/129'"),
        .init(name: "garbage", line: "hello", reason: "bad address 'hello'"),
        .init(name: "octet", line: "1.2.3.999", reason: "bad address '1.2.3.999'"),
        .init(name: "reverse range", line: "1.2.3.10-1.2.3.4", reason: "bad range '1.2.3.10-1.2.3.4': end before start"),
        .init(name: "bad answer", line: "1.2.3.4 :10.0.0.1:x", reason: "bad answer '10.0.0.1': expected 127.0.0.X or X with X in 2...255"),
        .init(name: "answer 0", line: ":0:x", reason: "bad answer '0': expected 127.0.0.X or X with X in 2...255"),
        .init(name: "bad $SOA", line: "$SOA 3600 ns1", reason: "$SOA needs: ttl mname rname serial refresh retry expire minimum"),
        .init(name: "bad ttl", line: "$TTL forever", reason: "bad time 'forever' in $TTL"),
        .init(name: "exclusion with value", line: "!1.2.3.4 :3:", reason: "an exclusion takes no value: ':3:'"),
        .init(name: "plain with value", line: "1.2.3.4 :3:", reason: "unexpected text after the address: ':3:'", format: .plain),
        .init(name: "plain abbreviated", line: "1.2.3", reason: "bad address '1.2.3'", format: .plain),
        .init(name: "plain range", line: "1.2.3.4-1.2.3.5", reason: "bad range '1.2.3.4-1.2.3.5'", format: .plain),
        .init(name: "lone bang", line: "!", reason: "'!' without an address"),
        .init(name: "host bits set", line: "1.2.3.4/24", reason: "host bits set in '1.2.3.4/24' (the network is 1.2.3.0/24)"),
        .init(name: "v6 host bits set", line: "2001:db8::1/32", reason: "host bits set in '2001:db8::1/32' (the network is 2001:db8::/32)"),
    ]

    @Test(arguments: errorCases)
    func errorsNameFileAndLine(_ c: ErrorCase) {
        let result = parse("# first line\n" + c.line + "\n", c.format)
        #expect(result.entries.isEmpty)
        #expect(result.errors.map(\.description) == ["ip4.zone:2: \(c.reason)"])
    }

    @Test func plainFormat() {
        let result = parse("""
            # list
            192.0.2.1
            ; other comment
            198.51.100.0/24 # trailing
            !198.51.100.7

            2001:db8::/32
            $SOA 1 2 3
            """, .plain)
        #expect(result.entries.map { ($0.excluded ? "!" : "") + $0.prefix.description }
                == ["192.0.2.1", "198.51.100.0/24", "!198.51.100.7", "2001:db8::/32"])
        #expect(result.errors.map(\.description) == ["ip4.zone:8: bad address '$SOA'"])
        #expect(result.settings.isEmpty)
        #expect(result.lineCount == 8)
    }

    @Test func warningsForUnknownDirectives() {
        let result = parse("$MAXRANGE4 /8\n2001:db8::/32\n")
        #expect(result.errors.isEmpty)
        #expect(result.warnings.map(\.description) == ["ip4.zone:1: directive $MAXRANGE4 ignored"])
        #expect(result.entries.map(\.prefix.description) == ["2001:db8::/32"])
    }

    @Test func durations() {
        #expect(ListFileParser.parseDuration("3600") == 3600)
        #expect(ListFileParser.parseDuration("1h30m") == 5400)
        #expect(ListFileParser.parseDuration("2d") == 172_800)
        #expect(ListFileParser.parseDuration("1w") == 604_800)
        #expect(ListFileParser.parseDuration("") == nil)
        #expect(ListFileParser.parseDuration("h") == nil)
        #expect(ListFileParser.parseDuration("99999999999") == nil)
    }

    @Test func rangesSplitIntoFewestCIDRs() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let a = UInt32(truncatingIfNeeded: generator.next()), span = UInt32(truncatingIfNeeded: generator.next() % 100_000)
            let last = a &+ span < a ? UInt32.max : a + span
            let cidrs = ListFileParser.cidrs(first: a, last: last)
            // Contiguous, ordered, exactly covering [a, last].
            var next = UInt64(a)
            for cidr in cidrs {
                #expect(UInt64(cidr.address) == next)
                next = UInt64(cidr.lastAddress) + 1
            }
            #expect(next == UInt64(last) + 1)
            // Minimal: no two neighbours could merge into one aligned block.
            for (x, y) in zip(cidrs, cidrs.dropFirst()) where x.length == y.length && x.length > 0 {
                #expect(x.truncated(to: x.length - 1) != y.truncated(to: y.length - 1))
            }
        }
    }

    /// Zone files in the shape of the DNS benchmark's (its gen-data.py: rbldnsd `ip4set` and
    /// `ip6trie` with `$SOA`, `$NS`, a `:A:TXT` default, the RFC 5782 test points with
    /// trailing comments, networks and hosts, IPv6 in uncompressed hex groups) load unchanged:
    /// every line an entry, no error, no warning. The files are generated here, seeded.
    @Test(arguments: ["ip4.zone", "ip6.zone"])
    func benchmarkShapedFilesLoad(_ name: String) throws {
        let seed: UInt64 = 5782
        var generator = SplitMix64(seed: seed)
        let header = """
            # generated by the test, in the benchmark's format (seed \(seed))
            $SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
            $NS 3600 ns1.example.org
            :127.0.0.2:Listed for backscatter, see https://example.org/lookup?ip=$

            """
        var lines: [String] = []
        if name == "ip4.zone" {
            lines.append("127.0.0.2 ; RFC 5782 test point")
            for _ in 0..<200 {
                let block = UInt32(truncatingIfNeeded: generator.next()) & 0x7FFF_FF00 | 0x0100_0000
                lines.append(IPPrefix(family: .v4, address: UInt128(block), length: 24)!.description)
            }
            for _ in 0..<5000 { lines.append(IPPrefix.host(v4: UInt32(truncatingIfNeeded: generator.next()) | 0x0100_0000).description) }
        } else {
            lines.append("::ffff:7f00:2 ; RFC 5782 IPv6 test point")
            func groups(_ value: UInt128) -> String {
                stride(from: 112, through: 0, by: -16).map { String(UInt16(truncatingIfNeeded: value >> UInt128($0)), radix: 16) }
                    .joined(separator: ":")
            }
            for _ in 0..<20 { lines.append(groups((UInt128(1) << 125 | UInt128(generator.next()) << 64) & ~UInt128(UInt64.max)) + "/64") }
            for _ in 0..<2000 { lines.append(groups(UInt128(1) << 125 | UInt128(generator.next()) << 64 | UInt128(generator.next()))) }
        }
        let directory = TemporaryDirectory()
        let path = directory.file(name)
        try (header + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let data = try #require(FileManager.default.contents(atPath: path), "the generated \(name) cannot be read back")

        let result = ListFileParser.parse(data, format: .rbldnsd, fileName: name)
        #expect(result.errors.isEmpty, "\(result.errors.prefix(3))")
        #expect(result.warnings.isEmpty, "\(result.warnings.prefix(3))")
        #expect(result.settings.defaultCode == 2)
        #expect(result.settings.txtTemplate == "Listed for backscatter, see https://example.org/lookup?ip=$")
        #expect(result.settings.mname == "ns1.example.org" && result.settings.rname == "hostmaster.example.org")
        #expect(result.settings.nameservers == ["ns1.example.org"] && result.settings.minimum == 60)
        let expected = Set(lines.map { IPPrefix(String($0.split(separator: " ")[0]))! })
        #expect(result.entries.count == lines.count)
        #expect(Set(result.entries.map(\.prefix)) == expected)
        #expect(result.entries.allSatisfy { !$0.excluded && $0.code == nil && $0.text == nil })
        #expect(result.entries.contains { $0.prefix == IPPrefix(name == "ip4.zone" ? "127.0.0.2" : "::ffff:7f00:2") })
    }
}
