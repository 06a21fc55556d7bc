// PrefixTableSerializationTests.swift -- the binary form: round trips, truncation, corruption.

import Testing
@testable import DNSBL

@Suite("PrefixTable serialization")
struct PrefixTableSerializationTests {
    /// A small table that uses every part of the format: per-host listings and expiries,
    /// prefixes with exclusions, both families.
    static func sampleTable() -> PrefixTable {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0x7F00_0002, prefixLength: 32, value: TableValue(listing: 1))
        builder.insert(v4: 0xC000_0201, prefixLength: 32, value: TableValue(listing: 2, expires: 99))
        builder.insert(v4: 0x0A01_0203, prefixLength: 32, value: .excluded)
        builder.insert(v4: 0x0A00_0000, prefixLength: 8, value: TableValue(listing: 1))
        builder.insert(v4: 0x0A01_0000, prefixLength: 16, value: .excluded)
        builder.insert(v6: 0x2001_0DB8 << 96, prefixLength: 32, value: TableValue(listing: 3, expires: 5))
        builder.insert(v6: 0xFFFF_7F00_0002, prefixLength: 128, value: TableValue(listing: 1))
        return builder.freeze()
    }

    /// Addresses around every entry of the sample, to poke a loaded table with.
    static let probes4: [UInt32] = [0, 1, 0x0A00_0000, 0x0A01_0203, 0x0A01_FFFF, 0x7F00_0002, 0xC000_0201, .max]
    static let probes6: [UInt128] = [0, 0xFFFF_7F00_0002, 0x2001_0DB8 << 96, (0x2001_0DB9 << 96) - 1, .max]

    static func load(_ bytes: [UInt8]) throws(TableError) -> PrefixTable {
        // withUnsafeBytes rethrows untyped errors, so carry the typed one out in a Result.
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(TableError) in try PrefixTable(serialized: buffer) }
        }.get()
    }

    @Test func roundTripKeepsLookupsAndBytes() throws {
        let table = Self.sampleTable()
        let bytes = table.serialized()
        let loaded = try Self.load(bytes)
        #expect(loaded.serialized() == bytes)
        #expect(loaded.invariantViolations() == [])
        #expect(PrefixTableTesting.entries(of: loaded) == PrefixTableTesting.entries(of: table))
        for probe in Self.probes4 { #expect(loaded.lookup(v4: probe) == table.lookup(v4: probe)) }
        for probe in Self.probes6 { #expect(loaded.lookup(v6: probe) == table.lookup(v6: probe)) }
        #expect(try Self.load(PrefixTable.empty.serialized()).serialized() == PrefixTable.empty.serialized())
    }

    @Test func headerLayoutIsStable() {
        // The first bytes are a file-format promise: magic, then version 2 little-endian.
        let bytes = PrefixTable.empty.serialized()
        #expect(Array(bytes.prefix(12)) == Array("RBLDPFXT".utf8) + [2, 0, 0, 0])
        #expect(bytes.count == 16 + 2 * 24)
    }

    @Test func everyTruncationFailsCleanly() {
        let bytes = Self.sampleTable().serialized()
        for end in 0..<bytes.count {
            #expect(throws: TableError.self, "a \(end)-byte prefix loaded") { try Self.load(Array(bytes[..<end])) }
        }
    }

    @Test func trailingBytesAreCorrupt() {
        #expect(throws: TableError.corrupt) { try Self.load(Self.sampleTable().serialized() + [0]) }
    }

    @Test func badMagicAndVersion() {
        var bytes = Self.sampleTable().serialized()
        bytes[0] ^= 0x20
        #expect(throws: TableError.badMagic) { try Self.load(bytes) }
        bytes = Self.sampleTable().serialized()
        bytes[8] = 1
        #expect(throws: TableError.unsupportedVersion, "the format before host exceptions") { try Self.load(bytes) }
        bytes[8] = 3
        #expect(throws: TableError.unsupportedVersion) { try Self.load(bytes) }
    }

    /// Hand-made blobs that are complete but break one invariant each.
    @Test func brokenInvariantsAreCorrupt() {
        func blob(v4Hosts: [UInt32], v4Prefixes: [(UInt32, UInt8)], flags: UInt32 = 0, uniform: UInt16 = 1,
                  exceptions: [(UInt32, UInt16)] = []) -> [UInt8] {
            var bytes = Array("RBLDPFXT".utf8)
            func append<T: FixedWidthInteger>(_ value: T) { LittleEndian.write(value) { bytes += $0 } }
            func append<T: FixedWidthInteger>(_ values: [T]) { LittleEndian.write(values) { bytes += $0 } }
            append(UInt32(2)); append(UInt32(0))
            append(UInt32(v4Hosts.count)); append(UInt32(v4Prefixes.count))
            append(flags); append(v4Hosts.isEmpty ? UInt16(0) : uniform); append(UInt16(0))
            append(UInt32(0)); append(UInt32(exceptions.count))
            append(v4Hosts)
            append(exceptions.map(\.0)); append(exceptions.map(\.1)); append(exceptions.map { _ in UInt32(0) })
            append(v4Prefixes.map(\.0)); append(v4Prefixes.map(\.1))
            append(v4Prefixes.map { _ in UInt16(1) }); append(v4Prefixes.map { _ in UInt32(0) })
            for _ in 0..<6 { append(UInt32(0)) }
            return bytes
        }
        // The well-formed baseline loads, so each failure below is due to its one change.
        #expect(throws: Never.self) { try Self.load(blob(v4Hosts: [1, 2], v4Prefixes: [(0x0A00_0000, 8), (0x0A00_0000, 16)])) }
        #expect(throws: Never.self) { try Self.load(blob(v4Hosts: Array(1...9), v4Prefixes: [], exceptions: [(4, 2)])) }
        let broken: [(String, [UInt8])] = [
            ("hosts out of order", blob(v4Hosts: [2, 1], v4Prefixes: [])),
            ("duplicate host", blob(v4Hosts: [1, 1], v4Prefixes: [])),
            ("prefixes out of order", blob(v4Hosts: [], v4Prefixes: [(0x0A00_0000, 16), (0x0A00_0000, 8)])),
            ("duplicate prefix", blob(v4Hosts: [], v4Prefixes: [(0x0A00_0000, 8), (0x0A00_0000, 8)])),
            ("host bits set", blob(v4Hosts: [], v4Prefixes: [(0x0A00_0001, 8)])),
            ("host-length prefix", blob(v4Hosts: [], v4Prefixes: [(0x0A00_0001, 32)])),
            ("prefix longer than a host", blob(v4Hosts: [], v4Prefixes: [(0x0A00_0000, 33)])),
            ("unknown flag", blob(v4Hosts: [1], v4Prefixes: [], flags: 4)),
            ("exception out of range", blob(v4Hosts: [1, 2, 3], v4Prefixes: [], exceptions: [(3, 2)])),
            ("exceptions out of order", blob(v4Hosts: Array(1...9), v4Prefixes: [], exceptions: [(2, 2), (1, 2)])),
            ("exception with the common value", blob(v4Hosts: Array(1...9), v4Prefixes: [], exceptions: [(1, 1)])),
            ("exceptions larger than columns", blob(v4Hosts: [1, 2, 3], v4Prefixes: [], exceptions: [(1, 2)])),
            ("uniform listing without hosts", blob(v4Hosts: [], v4Prefixes: []).enumerated().map { $0.offset == 28 ? 1 : $0.element }),
        ]
        for (name, bytes) in broken {
            #expect(throws: TableError.corrupt, "\(name)") { try Self.load(bytes) }
        }
    }

    /// A flipped bit is refused as corrupt, or the blob loads as a table that keeps its
    /// invariants and answers every probe exactly as a table built afresh from its own
    /// entries does.
    @Test(arguments: [7, 0xB17F11B5] as [UInt64])
    func bitFlipsAreRefusedOrLoadConsistently(seed: UInt64) {
        let table = Self.sampleTable()
        let bytes = table.serialized()
        var rng = PrefixTableTesting.RNG(seed: seed)
        var loadedCount = 0
        for offset in bytes.indices {
            do {
                var flipped = bytes
                flipped[offset] ^= 1 << UInt8(rng.below(8))
                guard let loaded = try? Self.load(flipped) else { continue }
                // Whatever loads must be internally consistent and answer without trapping.
                loadedCount += 1
                #expect(loaded.invariantViolations() == [], "seed \(seed), byte \(offset)")
                var builder = PrefixTableBuilder()
                for entry in PrefixTableTesting.entries(of: loaded) {
                    switch entry.address {
                    case .v4(let address): builder.insert(v4: address, prefixLength: entry.prefixLength, value: entry.value)
                    case .v6(let address): builder.insert(v6: address, prefixLength: entry.prefixLength, value: entry.value)
                    }
                }
                let rebuilt = builder.freeze()
                for probe in Self.probes4 {
                    #expect(loaded.lookup(v4: probe) == rebuilt.lookup(v4: probe), "seed \(seed), byte \(offset), \(probe)")
                }
                for probe in Self.probes6 {
                    #expect(loaded.lookup(v6: probe) == rebuilt.lookup(v6: probe), "seed \(seed), byte \(offset), \(probe)")
                }
            }
        }
        // Flips in listings and expiries are valid data, so some blobs must load.
        #expect(loadedCount > 0, "seed \(seed)")
    }
}
