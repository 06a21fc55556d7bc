// SnapshotCacheTests.swift -- the glue from store listings to served snapshots, and its cache.
import DNSBL
import Store
import Testing
@testable import Publication

private func listing(_ text: String, code: UInt8 = 2, txt: String? = nil, excluded: Bool = false, expires: Int64? = nil) -> Listing {
    Listing(prefix: IPPrefix(text)!, excluded: excluded, code: code, text: txt, expires: expires)
}

private let listings = [
    listing("198.51.100.7"),
    listing("203.0.113.0/24"),
    listing("203.0.113.9", excluded: true),
    listing("198.51.100.8", code: 6, txt: "auto $"),
    listing("198.51.100.9", expires: 2_000_000_000),
    listing("2001:db8::/32", code: 34),
]

private func build(_ settings: ZoneSettings) throws -> (SnapshotFactory, PrefixTable) {
    var factory = SnapshotFactory(settings: settings)
    var builder = PrefixTableBuilder()
    for entry in listings { try factory.insert(entry, into: &builder) }
    return (factory, builder.freeze())
}

@Test func classesAreInternedAfterTheDefault() throws {
    let settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    #expect(factory.classes.count == 3)
    #expect(factory.classes[0] == ListingClass(code: settings.defaultCode, text: settings.txtTemplate))
    #expect(table.lookup(v4: 0xC633_6408)?.listing == 2)             // 198.51.100.8: code 6
    #expect(table.lookup(v4: 0xCB00_7109) == nil)                      // excluded
    #expect(table.lookup(v4: 0xC633_6409)?.expires == 2_000_000_000)
    #expect(table.lookup(v6: UInt128(0x2001_0db8) << 96 | 5)?.listing == 3)
}

@Test func cacheRoundTripsTableAndClasses() throws {
    let settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    let bytes = SnapshotCache.encode(factory: factory, table: table)
    let restored = try #require(SnapshotCache.decode(bytes, settings: settings))
    #expect(restored.factory.classes == factory.classes)
    #expect(restored.table.serialized() == table.serialized())
}

@Test func cacheIsRefusedForOtherSettingsOrDamage() throws {
    var settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    let bytes = SnapshotCache.encode(factory: factory, table: table)
    for end in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
        #expect(SnapshotCache.decode(Array(bytes[0..<end]), settings: settings) == nil, "prefix of \(end) bytes accepted")
    }
    settings.txtTemplate = "changed $"
    #expect(SnapshotCache.decode(bytes, settings: settings) == nil)
}

/// A cache whose table is in another format version (one written before the current
/// layout, say) is refused even with a good checksum, so the zone is rebuilt from the store.
@Test func aTableOfAnotherFormatVersionIsRefused() throws {
    let settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    let bytes = SnapshotCache.encode(factory: factory, table: table)
    let tableStart = bytes.count - table.serializedSize
    #expect(Array(bytes[(tableStart + 8)..<(tableStart + 12)]) == [2, 0, 0, 0])
    var check = SnapshotCache.FNV1a()
    bytes[16...].withUnsafeBytes { check.add($0) }
    #expect((0..<8).allSatisfy { bytes[8 + $0] == UInt8(truncatingIfNeeded: check.value >> UInt64(8 * $0)) })
    for version in [1, 3] as [UInt8] {
        var old = bytes
        old[tableStart + 8] = version
        // A checksum that matches the changed bytes: only the version is wrong.
        var hash = SnapshotCache.FNV1a()
        old[16...].withUnsafeBytes { hash.add($0) }
        for index in 0..<8 { old[8 + index] = UInt8(truncatingIfNeeded: hash.value >> UInt64(8 * index)) }
        #expect(SnapshotCache.decode(old, settings: settings) == nil, "table format version \(version) accepted")
    }
}

/// Any flipped bit, in the classes or deep in the table, is caught by the checksum.
@Test func aFlippedBitAnywhereIsCaught() throws {
    let settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    let bytes = SnapshotCache.encode(factory: factory, table: table)
    for position in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
        var damaged = bytes
        damaged[position] ^= 0x01
        #expect(SnapshotCache.decode(damaged, settings: settings) == nil, "a flipped bit at byte \(position) was accepted")
    }
}

/// Written in pieces, the cache is the same bytes as encoded whole, and read back in
/// pieces of any size it gives the same table; the size is announced exactly.
@Test func theCacheStreamsInAndOutInPieces() throws {
    let settings = ZoneSettings.defaults(zone: "bl.example.org")
    let (factory, table) = try build(settings)
    let whole = SnapshotCache.encode(factory: factory, table: table)
    var pieces: [[UInt8]] = []
    SnapshotCache.write(factory: factory, table: table) { pieces.append(Array($0)) }
    #expect(pieces.count > 3 && Array(pieces.joined()) == whole)
    #expect(SnapshotCache.size(factory: factory, table: table) == whole.count)
    var reads = 0
    let restored = try #require(SnapshotCache.decode(count: whole.count, settings: settings) { offset, destination in
        reads += 1
        whole.withUnsafeBytes { source in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + destination.count)]))
        }
    })
    #expect(reads > 3)
    #expect(restored.table.serialized() == table.serialized() && restored.factory.classes == factory.classes)
}
