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

    static func encode(factory: SnapshotFactory, table: PrefixTable) -> [UInt8] {
        var bytes = magic + [UInt8](repeating: 0, count: checksumSize)
        append(UInt32(factory.classes.count), to: &bytes)
        for listingClass in factory.classes {
            let text = Array(listingClass.text.utf8)
            bytes.append(listingClass.code)
            append(UInt32(text.count), to: &bytes)
            bytes += text
        }
        bytes += table.serialized()
        let sum = checksum(bytes[(magic.count + checksumSize)...])
        for index in 0..<checksumSize { bytes[magic.count + index] = UInt8(truncatingIfNeeded: sum >> UInt64(8 * index)) }
        return bytes
    }

    /// FNV-1a, 64 bits: no cryptography needed against the disk, and fast enough that a
    /// 10M-entry table costs tens of milliseconds at start-up.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.withUnsafeBufferPointer { buffer in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in buffer {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            return hash
        }
    }

    /// The cached table and classes, or nil when the blob is foreign, corrupt, or was made
    /// for other zone settings (then the caller rebuilds from the store).
    static func decode(_ bytes: [UInt8], settings: ZoneSettings) -> (factory: SnapshotFactory, table: PrefixTable)? {
        var offset = magic.count
        guard bytes.count >= offset + checksumSize, Array(bytes[0..<offset]) == magic else { return nil }
        var stored: UInt64 = 0
        for index in 0..<checksumSize { stored |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        offset += checksumSize
        guard stored == checksum(bytes[offset...]),
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
