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

    /// The shared benchmark's zone files load unchanged.
    @Test(arguments: ["ip4.zone", "ip6.zone"])
    func benchmarkFilesLoad(_ name: String) throws {
        let path = "/tmp/gd/\(name)"
        guard let data = FileManager.default.contents(atPath: path) else { return }  // bench data not generated here
        let result = ListFileParser.parse(data, format: .rbldnsd, fileName: name)
        #expect(result.errors.isEmpty, "\(result.errors.prefix(3))")
        #expect(result.warnings.isEmpty)
        #expect(result.settings.defaultCode == 2)
        #expect(result.settings.mname == "ns1.example.org")
        let dataLines = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("$") && !($0.hasPrefix(":") && !$0.hasPrefix("::")) }
        #expect(result.entries.count == dataLines.count)
        #expect(result.entries.contains { $0.prefix == IPPrefix(name == "ip4.zone" ? "127.0.0.2" : "::ffff:7f00:2") })
    }
}
