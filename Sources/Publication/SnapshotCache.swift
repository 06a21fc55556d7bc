// SnapshotCache.swift -- a zone's frozen table and listing classes as one blob in the store.

import DNSBL
import Store

/// The snapshot cache lets `rbld serve` start in milliseconds: `rbld import` (and the
/// publisher after a full build) store the frozen table with the store's change serial; a
/// server whose store is still at that serial maps the blob back instead of rebuilding.
///
/// ```
/// "RBLDSNP1"                      8 bytes, magic and version
/// class count                     UInt32 LE
/// per class: code, text length    UInt8, UInt32 LE, then the UTF-8 text
/// table                           PrefixTable.serialized(), to the end
/// ```
enum SnapshotCache {
    private static let magic = Array("RBLDSNP1".utf8)

    static func encode(factory: SnapshotFactory, table: PrefixTable) -> [UInt8] {
        var bytes = magic
        append(UInt32(factory.classes.count), to: &bytes)
        for listingClass in factory.classes {
            let text = Array(listingClass.text.utf8)
            bytes.append(listingClass.code)
            append(UInt32(text.count), to: &bytes)
            bytes += text
        }
        bytes += table.serialized()
        return bytes
    }

    /// The cached table and classes, or nil when the blob is foreign, corrupt, or was made
    /// for other zone settings (then the caller rebuilds from the store).
    static func decode(_ bytes: [UInt8], settings: ZoneSettings) -> (factory: SnapshotFactory, table: PrefixTable)? {
        var offset = magic.count
        guard bytes.count >= offset, Array(bytes[0..<offset]) == magic,
              let classCount = readUInt32(bytes, &offset), classCount >= 1, classCount <= UInt32(UInt16.max)
        else { return nil }
        var classes: [ListingClass] = []
        for _ in 0..<classCount {
            guard offset < bytes.count else { return nil }
            let code = bytes[offset]
            offset += 1
            guard let length = readUInt32(bytes, &offset), Int(length) <= bytes.count - offset else { return nil }
            classes.append(ListingClass(code: code, text: String(decoding: bytes[offset..<offset + Int(length)], as: UTF8.self)))
            offset += Int(length)
        }
        guard let factory = SnapshotFactory(settings: settings, classes: classes) else { return nil }
        let table: PrefixTable
        do {
            table = try bytes[offset...].withUnsafeBytes { buffer throws(TableError) in try PrefixTable(serialized: buffer) }
        } catch {
            return nil
        }
        return (factory, table)
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func readUInt32(_ bytes: [UInt8], _ offset: inout Int) -> UInt32? {
        guard bytes.count - offset >= 4 else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << UInt32(8 * index) }
        offset += 4
        return value
    }
}
