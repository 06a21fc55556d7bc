// SnapshotCache.swift -- a zone's frozen table and listing classes as one blob in the store.

import DNSBL
import Store

/// The snapshot cache lets `rbld serve` start in milliseconds: `rbld import`, and the
/// publisher after start-up, about once a minute while the zone changes, and at shutdown,
/// store the frozen table with the store's change serial; a starting server maps the blob
/// back and follows the change log from that serial instead of rebuilding the zone.
///
/// ```
/// "RBLDSNP2"                      8 bytes, magic and version
/// checksum                        UInt64 LE, FNV-1a of every byte after it
/// class count                     UInt32 LE
/// per class: code, text length    UInt8, UInt32 LE, then the UTF-8 text
/// table                           PrefixTable.serialized(), to the end
/// ```
///
/// The blob is written in one SQLite transaction, so it is whole or absent after a crash;
/// the checksum catches damage to the file under it, and a damaged cache is rebuilt.
enum SnapshotCache {
    private static let magic = Array("RBLDSNP2".utf8)
    private static let checksumSize = 8

    /// The cache's bytes, whole (small tables and tests; the store is written with ``write(factory:table:to:)``).
    static func encode(factory: SnapshotFactory, table: PrefixTable) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size(factory: factory, table: table))
        write(factory: factory, table: table) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The number of bytes ``write(factory:table:to:)`` passes on.
    static func size(factory: SnapshotFactory, table: PrefixTable) -> Int {
        magic.count + checksumSize + classes(factory).count + table.serializedSize
    }

    /// Passes the cache's bytes to `sink` piece by piece, the table's arrays straight from
    /// its memory. Two passes over the table: one for the checksum, which comes first, and
    /// one to write; neither holds a copy of it.
    static func write<E: Error>(factory: SnapshotFactory, table: PrefixTable,
                                to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        let classes = classes(factory)
        var hash = FNV1a()
        classes.withUnsafeBytes { hash.add($0) }
        table.serialize { hash.add($0) }
        try LittleEndian.write(magic, to: sink)
        try LittleEndian.write(hash.value, to: sink)
        try LittleEndian.write(classes, to: sink)
        try table.serialize(to: sink)
    }

    /// The listing classes as stored: a count, then each class's code and text.
    private static func classes(_ factory: SnapshotFactory) -> [UInt8] {
        var bytes: [UInt8] = []
        append(UInt32(factory.classes.count), to: &bytes)
        for listingClass in factory.classes {
            let text = Array(listingClass.text.utf8)
            bytes.append(listingClass.code)
            append(UInt32(text.count), to: &bytes)
            bytes += text
        }
        return bytes
    }

    /// FNV-1a, 64 bits, over every byte after the checksum: no cryptography needed against
    /// the disk, and fast enough that a 10M-entry table costs tens of milliseconds.
    struct FNV1a {
        private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            var hash = value
            for byte in bytes {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            value = hash
        }
    }

    /// The cached table and classes, or nil when the blob is foreign, corrupt, or was made
    /// for other zone settings (then the caller rebuilds from the store).
    static func decode(_ bytes: [UInt8], settings: ZoneSettings) -> (factory: SnapshotFactory, table: PrefixTable)? {
        bytes.withUnsafeBytes { buffer in
            decode(count: buffer.count, settings: settings) { offset, destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + destination.count)]))
            }
        }
    }

    /// As ``decode(_:settings:)`` from `count` bytes that `read(offset, destination)`
    /// copies out piece by piece: the checksum is taken over them in order, then the
    /// table's arrays are read straight into their own memory, so no copy of the whole is
    /// held.
    static func decode(count: Int, settings: ZoneSettings,
                       read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void)
        -> (factory: SnapshotFactory, table: PrefixTable)? {
        var offset = magic.count + checksumSize
        guard count >= offset else { return nil }
        var head = [UInt8](repeating: 0, count: offset)
        do { try head.withUnsafeMutableBytes { try read(0, $0) } } catch { return nil }
        guard Array(head[0..<magic.count]) == magic else { return nil }
        var stored: UInt64 = 0
        for index in 0..<checksumSize { stored |= UInt64(head[magic.count + index]) << UInt64(8 * index) }

        // Everything after the checksum is hashed as it is read.
        var hash = FNV1a()
        func next(_ length: Int) -> [UInt8]? {
            guard length <= count - offset else { return nil }
            var bytes = [UInt8](repeating: 0, count: length)
            do { try bytes.withUnsafeMutableBytes { try read(offset, $0) } } catch { return nil }
            bytes.withUnsafeBytes { hash.add($0) }
            offset += length
            return bytes
        }
        func number() -> UInt32? {
            next(4).map { bytes in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[$1]) << UInt32(8 * $1) } }
        }
        guard let classCount = number(), classCount >= 1, classCount <= UInt32(UInt16.max) else { return nil }
        var classes: [ListingClass] = []
        for _ in 0..<classCount {
            guard let code = next(1)?[0], let length = number(), let text = next(Int(length)) else { return nil }
            classes.append(ListingClass(code: code, text: String(decoding: text, as: UTF8.self)))
        }
        guard let factory = SnapshotFactory(settings: settings, classes: classes) else { return nil }
        let tableStart = offset
        // The checksum first, over the table's bytes in order and a piece at a time; the
        // table reads its parts in the order it needs them (its values before its keys).
        var piece = [UInt8](repeating: 0, count: 1 << 16)
        while offset < count {
            let length = min(piece.count, count - offset)
            do {
                try piece.withUnsafeMutableBytes { try read(offset, UnsafeMutableRawBufferPointer(rebasing: $0[0..<length])) }
            } catch {
                return nil
            }
            piece.withUnsafeBytes { hash.add(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            offset += length
        }
        guard hash.value == stored else { return nil }
        guard let table = try? PrefixTable(count: count - tableStart, read: { position, destination in
            try read(tableStart + position, destination)
        }) else { return nil }
        return (factory, table)
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}
