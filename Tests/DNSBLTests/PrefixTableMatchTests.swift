// PrefixTableMatchTests.swift -- PrefixTable.match: the entry that answers, exclusions included, named case by case.

import Testing
@testable import DNSBL

@Suite struct PrefixTableMatchTests {
    static let listedA = TableValue(listing: 1)
    static let listedB = TableValue(listing: 2, expires: 1_800_000_000)
    static let listedC = TableValue(listing: 3)

    /// 10/8 listed with an excluded 10.1/16 in it, a listed 10.1.2/24 inside that, a listed
    /// host and an excluded host in 10/8, an excluded 20.0.0/24 alone; the same shapes in IPv6.
    static let table: PrefixTable = {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0x0A00_0000, prefixLength: 8, value: listedA)
        builder.insert(v4: 0x0A01_0000, prefixLength: 16, value: .excluded)
        builder.insert(v4: 0x0A01_0200, prefixLength: 24, value: listedB)
        builder.insert(v4: 0x0A02_0202, prefixLength: 32, value: listedC)
        builder.insert(v4: 0x0A03_0303, prefixLength: 32, value: .excluded)
        builder.insert(v4: 0x1400_0000, prefixLength: 24, value: .excluded)
        builder.insert(v6: 0x2001_0db8 << 96, prefixLength: 32, value: listedA)
        builder.insert(v6: 0x2001_0db8_0001 << 80, prefixLength: 48, value: .excluded)
        builder.insert(v6: 0x2001_0db8_0002 << 80 | 1, prefixLength: 128, value: listedC)
        return builder.freeze()
    }()

    @Test(arguments: [
        ("inside a listed network", 0x0A09_0909, TableMatch.network(listedA)),
        ("inside an exclusion in the network", 0x0A01_0909, .excluded),
        ("inside a listing inside the exclusion", 0x0A01_0209, .network(listedB)),
        ("a listed host", 0x0A02_0202, .host(listedC)),
        ("an excluded host", 0x0A03_0303, .excluded),
        ("inside an exclusion alone", 0x1400_0005, .excluded),
        ("next to the exclusion", 0x1400_0105, nil),
        ("nothing", 0x1E00_0001, nil),
    ] as [(String, UInt32, TableMatch?)])
    func v4(_ name: String, address: UInt32, expected: TableMatch?) {
        #expect(Self.table.match(v4: address) == expected, "\(name)")
        // Serving reads the same entry, with an exclusion as nothing.
        let served: TableValue? = switch expected {
        case .host(let value), .network(let value): value
        case .excluded, nil: nil
        }
        #expect(Self.table.lookup(v4: address) == served, "\(name)")
    }

    @Test(arguments: [
        ("inside a listed network", 0x2001_0db8_0003 << 80 | 7, TableMatch.network(listedA)),
        ("inside an exclusion", 0x2001_0db8_0001 << 80 | 7, .excluded),
        ("a listed host", 0x2001_0db8_0002 << 80 | 1, .host(listedC)),
        ("nothing", 0x2001_0db9 << 96, nil),
    ] as [(String, UInt128, TableMatch?)])
    func v6(_ name: String, address: UInt128, expected: TableMatch?) {
        #expect(Self.table.match(v6: address) == expected, "\(name)")
    }
}
