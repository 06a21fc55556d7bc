// PrefixTableTests.swift -- named longest-match cases, builder semantics and round trips.

import Testing
@testable import DNSBL

/// A named table-driven case: rbldnsd-style entries (`!` = exclusion, `=N` = listing N)
/// and the listing each address must get (nil = not listed).
struct PrefixTableCase: CustomTestStringConvertible, Sendable {
    var name: String
    var entries: [String]
    var expectations: [(String, UInt16?)]
    var testDescription: String { name }

    /// Parses `a.b.c.d`, or an IPv6 address written as `0x…` hex (tests need no v6 text parser).
    static func address(_ text: String) -> TableEntry.Address? {
        if text.hasPrefix("0x") { return UInt128(text.dropFirst(2), radix: 16).map { .v6($0) } }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        return .v4(parts.reduce(0) { $0 << 8 | UInt32($1) })
    }

    func makeTable() -> PrefixTable {
        var builder = PrefixTableBuilder()
        for line in entries {
            var text = Substring(line)
            let excluded = text.first == "!"
            if excluded { text = text.dropFirst() }
            var listing: UInt16 = 1
            if let equals = text.firstIndex(of: "=") {
                listing = UInt16(text[text.index(after: equals)...]) ?? 1
                text = text[..<equals]
            }
            let value = excluded ? TableValue.excluded : TableValue(listing: listing)
            let pieces = text.split(separator: "/")
            switch Self.address(String(pieces[0])) {
            case .v4(let address):
                builder.insert(v4: address, prefixLength: pieces.count > 1 ? Int(pieces[1]) ?? 32 : 32, value: value)
            case .v6(let address):
                builder.insert(v6: address, prefixLength: pieces.count > 1 ? Int(pieces[1]) ?? 128 : 128, value: value)
            case nil:
                Issue.record("\(name): bad entry \(line)")
            }
        }
        return builder.freeze()
    }

    static let all: [PrefixTableCase] = [
        PrefixTableCase(name: "RFC 5782 test points", entries: ["127.0.0.2"], expectations: [
            ("127.0.0.2", 1), ("127.0.0.1", nil), ("127.0.0.3", nil), ("0.0.0.0", nil), ("255.255.255.255", nil),
        ]),
        PrefixTableCase(name: "RFC 5782 test points, v4-mapped v6", entries: ["0xffff7f000002"], expectations: [
            ("0xffff7f000002", 1), ("0xffff7f000001", nil), ("127.0.0.2", nil),
        ]),
        PrefixTableCase(name: "listed /8, excluded /16, host listed again",
                        entries: ["10.0.0.0/8=1", "!10.1.0.0/16", "10.1.2.3=2"], expectations: [
            ("9.255.255.255", nil), ("10.0.0.0", 1), ("10.0.255.255", 1), ("10.1.0.0", nil), ("10.1.2.2", nil),
            ("10.1.2.3", 2), ("10.1.2.4", nil), ("10.1.255.255", nil), ("10.2.0.0", 1), ("10.255.255.255", 1),
            ("11.0.0.0", nil),
        ]),
        PrefixTableCase(name: "excluded host inside a listed /24",
                        entries: ["192.0.2.0/24", "!192.0.2.1"], expectations: [
            ("192.0.2.0", 1), ("192.0.2.1", nil), ("192.0.2.2", 1), ("192.0.2.255", 1), ("192.0.3.0", nil),
        ]),
        PrefixTableCase(name: "whole space listed, loopback excluded", entries: ["0.0.0.0/0=3", "!127.0.0.0/8"], expectations: [
            ("0.0.0.0", 3), ("126.255.255.255", 3), ("127.0.0.0", nil), ("127.255.255.255", nil),
            ("128.0.0.0", 3), ("255.255.255.255", 3),
        ]),
        PrefixTableCase(name: "nested prefixes sharing a start",
                        entries: ["10.0.0.0/8=1", "10.0.0.0/16=2", "!10.0.0.0/24", "10.0.0.0/32=4"], expectations: [
            ("10.0.0.0", 4), ("10.0.0.1", nil), ("10.0.0.255", nil), ("10.0.1.0", 2), ("10.0.255.255", 2),
            ("10.1.0.0", 1),
        ]),
        PrefixTableCase(name: "excluded wide, listed narrow", entries: ["!10.0.0.0/8", "10.1.0.0/16"], expectations: [
            ("10.0.255.255", nil), ("10.1.0.0", 1), ("10.1.255.255", 1), ("10.2.0.0", nil),
        ]),
        PrefixTableCase(name: "top of the address space",
                        entries: ["255.255.255.0/24=1", "255.255.255.255=2", "0.0.0.0=3"], expectations: [
            ("255.255.254.255", nil), ("255.255.255.0", 1), ("255.255.255.254", 1), ("255.255.255.255", 2),
            ("0.0.0.0", 3), ("0.0.0.1", nil),
        ]),
        PrefixTableCase(name: "adjacent halves with one listing", entries: ["10.0.0.0/9", "10.128.0.0/9"], expectations: [
            ("9.255.255.255", nil), ("10.0.0.0", 1), ("10.127.255.255", 1), ("10.128.0.0", 1), ("11.0.0.0", nil),
        ]),
        PrefixTableCase(name: "host bits are masked off", entries: ["10.1.2.3/8=5"], expectations: [
            ("10.0.0.0", 5), ("10.255.255.255", 5), ("11.0.0.0", nil),
        ]),
        PrefixTableCase(name: "last insert wins", entries: ["192.0.2.1=1", "192.0.2.1=3", "192.0.2.0/24=1", "192.0.2.0/24=2"],
                        expectations: [("192.0.2.1", 3), ("192.0.2.2", 2)]),
        PrefixTableCase(name: "an exclusion alone lists nothing", entries: ["!192.0.2.0/24", "!192.0.2.7"], expectations: [
            ("192.0.2.0", nil), ("192.0.2.7", nil),
        ]),
        PrefixTableCase(name: "v6 /32 with excluded /48 and a relisted host",
                        entries: ["0x20010db8000000000000000000000000/32=1", "!0x20010db8000100000000000000000000/48",
                                  "0x20010db8000100000000000000000005=2"], expectations: [
            ("0x20010db7ffffffffffffffffffffffff", nil), ("0x20010db8000000000000000000000000", 1),
            ("0x20010db8000100000000000000000004", nil), ("0x20010db8000100000000000000000005", 2),
            ("0x20010db80001ffffffffffffffffffff", nil), ("0x20010db80002ffffffffffffffffffff", 1),
            ("0x20010db9000000000000000000000000", nil),
        ]),
        PrefixTableCase(name: "v6 whole space listed, last address excluded",
                        entries: ["0x0/0=7", "!0xffffffffffffffffffffffffffffffff"], expectations: [
            ("0x0", 7), ("0xfffffffffffffffffffffffffffffffe", 7), ("0xffffffffffffffffffffffffffffffff", nil),
        ]),
    ]
}

@Suite("PrefixTable")
struct PrefixTableTests {
    @Test(arguments: PrefixTableCase.all)
    func namedCase(_ testCase: PrefixTableCase) {
        let table = testCase.makeTable()
        #expect(table.invariantViolations() == [])
        for (text, expected) in testCase.expectations {
            let actual: TableValue?
            switch PrefixTableCase.address(text) {
            case .v4(let address): actual = table.lookup(v4: address)
            case .v6(let address): actual = table.lookup(v6: address)
            case nil: Issue.record("bad address \(text)"); continue
            }
            #expect(actual?.listing == expected, "\(testCase.name): \(text)")
        }
    }

    @Test func emptyTableListsNothing() {
        for table in [PrefixTable.empty, PrefixTableBuilder().freeze()] {
            #expect(table.lookup(v4: 0x7F00_0002) == nil)
            #expect(table.lookup(v4: 0) == nil && table.lookup(v4: .max) == nil)
            #expect(table.lookup(v6: 0) == nil && table.lookup(v6: .max) == nil)
            #expect(table.v4Count == 0 && table.v6Count == 0 && table.memoryBytes == 0)
            #expect(PrefixTableTesting.entries(of: table).isEmpty)
        }
    }

    @Test func expiriesAndListingsComeBack() {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0xC000_0201, prefixLength: 32, value: TableValue(listing: 2, expires: 1_700_000_000))
        builder.insert(v4: 0xC000_0202, prefixLength: 32, value: TableValue(listing: 3))
        builder.insert(v4: 0xC633_6400, prefixLength: 24, value: TableValue(listing: 4, expires: 42))
        builder.insert(v6: 1, prefixLength: 128, value: TableValue(listing: 5, expires: 7))
        let table = builder.freeze()
        #expect(table.lookup(v4: 0xC000_0201) == TableValue(listing: 2, expires: 1_700_000_000))
        #expect(table.lookup(v4: 0xC000_0202) == TableValue(listing: 3))
        #expect(table.lookup(v4: 0xC633_64FF) == TableValue(listing: 4, expires: 42))
        #expect(table.lookup(v6: 1) == TableValue(listing: 5, expires: 7))
    }

    @Test func removeTakesExactlyThatPrefix() {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0x0A00_0000, prefixLength: 8, value: TableValue(listing: 1))
        builder.insert(v4: 0x0A01_0000, prefixLength: 16, value: TableValue(listing: 2))
        builder.insert(v4: 0x0A01_0200, prefixLength: 24, value: TableValue(listing: 3))
        builder.insert(v4: 0x0A01_0203, prefixLength: 32, value: TableValue(listing: 4))
        #expect(builder.count == 4)
        builder.remove(v4: 0x0A01_FFFF, prefixLength: 16)   // host bits are masked here too
        builder.remove(v4: 0x0A01_0203, prefixLength: 31)   // not present: no effect
        #expect(builder.count == 3)
        let table = builder.freeze()
        #expect(table.lookup(v4: 0x0A01_0000)?.listing == 1)
        #expect(table.lookup(v4: 0x0A01_0201)?.listing == 3)
        #expect(table.lookup(v4: 0x0A01_0203)?.listing == 4)
        builder.remove(v4: 0x0A01_0203, prefixLength: 32)
        #expect(builder.freeze().lookup(v4: 0x0A01_0203)?.listing == 3)
    }

    @Test func enumerationIsSortedAndComplete() {
        var builder = PrefixTableBuilder()
        let v4: [(UInt32, Int, UInt16)] = [(0x0A00_0000, 32, 1), (0x0A00_0000, 8, 2), (0x0A00_0000, 16, 0),
                                           (0x0900_0000, 32, 3), (0, 0, 1), (0xFFFF_FFFF, 32, 2)]
        for (address, length, listing) in v4 {
            builder.insert(v4: address, prefixLength: length, value: TableValue(listing: listing))
        }
        builder.insert(v6: 5, prefixLength: 128, value: TableValue(listing: 1))
        builder.insert(v6: 0, prefixLength: 64, value: .excluded)
        let entries = PrefixTableTesting.entries(of: builder.freeze())
        #expect(entries == [
            TableEntry(address: .v4(0), prefixLength: 0, value: TableValue(listing: 1)),
            TableEntry(address: .v4(0x0900_0000), prefixLength: 32, value: TableValue(listing: 3)),
            TableEntry(address: .v4(0x0A00_0000), prefixLength: 8, value: TableValue(listing: 2)),
            TableEntry(address: .v4(0x0A00_0000), prefixLength: 16, value: .excluded),
            TableEntry(address: .v4(0x0A00_0000), prefixLength: 32, value: TableValue(listing: 1)),
            TableEntry(address: .v4(0xFFFF_FFFF), prefixLength: 32, value: TableValue(listing: 2)),
            TableEntry(address: .v6(0), prefixLength: 64, value: .excluded),
            TableEntry(address: .v6(5), prefixLength: 128, value: TableValue(listing: 1)),
        ])
    }

    @Test func hostsCostTheirKeyWhenUniform() {
        // 1,000 hosts in 10/8, one shard (hosts at both ends of the address space make the
        // buckets the /16s and the shards the /8s), so their values take one form.
        var builder = PrefixTableBuilder()
        for key in [0, 0xFFFF_FFFF] as [UInt32] { builder.insert(v4: key, prefixLength: 32, value: TableValue(listing: 1)) }
        func host(_ index: UInt32) -> UInt32 { 0x0A00_0000 | (index &* 2_654_435_761) & 0x00FF_FFFF }
        for index in 0..<1000 as Range<UInt32> {
            builder.insert(v4: host(index), prefixLength: 32, value: TableValue(listing: 1))
        }
        let shards = HostTable<UInt32>.shardCount
        let fixedBytes = shards * (HostLayout<UInt32>.denseBucketsPerShard + 1) * 4 + (shards + 1) * MemoryLayout<Int>.stride
        #expect(builder.freeze().memoryBytes == 1002 * 2 + fixedBytes)
        // Hosts that differ cost their index and value (12 bytes) while they are few...
        builder.insert(v4: 0x0A00_0007, prefixLength: 32, value: TableValue(listing: 2))
        #expect(builder.freeze().memoryBytes == 1003 * 2 + 12 + fixedBytes)
        builder.insert(v4: 0x0A00_0008, prefixLength: 32, value: TableValue(listing: 2, expires: 9))
        #expect(builder.freeze().memoryBytes == 1004 * 2 + 2 * 12 + fixedBytes)
        // ...and a listing per host once storing them is smaller (in the shard of 10/8 only).
        for index in 0..<500 as Range<UInt32> {
            builder.insert(v4: host(index), prefixLength: 32, value: TableValue(listing: 3))
        }
        #expect(builder.freeze().memoryBytes == 1004 * 2 + 1002 * (2 + 4) + fixedBytes)
        for index in 0..<500 as Range<UInt32> {
            builder.insert(v4: host(index), prefixLength: 32, value: TableValue(listing: 1))
        }
        builder.insert(v4: 0x0A00_0008, prefixLength: 32, value: TableValue(listing: 2))
        for index in 0..<500 as Range<UInt32> {
            builder.insert(v4: host(index), prefixLength: 32, value: TableValue(listing: 3))
        }
        #expect(builder.freeze().memoryBytes == 1004 * 2 + 1002 * 2 + fixedBytes)
    }

    @Test func adjacentEqualStretchesMerge() {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0x0A00_0000, prefixLength: 9, value: TableValue(listing: 1))
        builder.insert(v4: 0x0A80_0000, prefixLength: 9, value: TableValue(listing: 1))
        builder.insert(v4: 0x0A80_0000, prefixLength: 16, value: TableValue(listing: 1))
        let table = builder.freeze()
        #expect(table.v4.rangeStarts == [0x0A00_0000] && table.v4.rangeEnds == [0x0AFF_FFFF])
    }

    @Test func clusteredHostsGetSmallBuckets() {
        // 4,096 v6 hosts inside one /32: a directory on the top 16 bits would put them all
        // in one bucket; below the shared prefix they spread out.
        var rng = PrefixTableTesting.RNG(seed: 77)
        let cluster: UInt128 = 0x2001_0DB8 << 96
        var builder = PrefixTableBuilder()
        var hosts: [UInt128] = []
        for _ in 0..<4096 {
            let host = cluster | UInt128(rng.next()) << 32 | UInt128(rng.next() & 0xFFFF_FFFE)   // even: odd neighbours stay free
            hosts.append(host)
            builder.insert(v6: host, prefixLength: 128, value: TableValue(listing: 1))
        }
        let table = builder.freeze()
        #expect(table.invariantViolations() == [])
        let largestBucket = table.v6.hosts.shards.flatMap { shard in
            zip(shard.offsets, shard.offsets.dropFirst()).map { $1 - $0 }
        }.max() ?? 0
        #expect(largestBucket < 16, "largest bucket holds \(largestBucket) hosts")
        for host in hosts {
            #expect(table.lookup(v6: host)?.listing == 1)
            #expect(table.lookup(v6: host | 1) == nil)
            #expect(table.lookup(v6: host ^ (1 << 100)) == nil)   // outside the shared /32
        }
        #expect(table.lookup(v6: 0) == nil && table.lookup(v6: .max) == nil)
    }
}
