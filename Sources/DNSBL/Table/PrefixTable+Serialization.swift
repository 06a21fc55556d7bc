// PrefixTable+Serialization.swift -- the versioned little-endian binary form of a table.

/// The serialized layout, version 1. All integers are little-endian; arrays are packed
/// back to back with no padding. Only the source arrays are stored: the directory and the
/// flattened intervals are rebuilt on load in O(n).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 magic "RBLDPFXT" (8 bytes)                    |
/// +---------------------------------------------------------------+
/// |                          version = 1                          |
/// +---------------------------------------------------------------+
/// |                          reserved = 0                         |
/// +---------------------------------------------------------------+
/// |        family section: IPv4 (keys are 4 bytes)                |
/// +---------------------------------------------------------------+
/// |        family section: IPv6 (keys are 16 bytes)               |
/// +---------------------------------------------------------------+
///
/// family section:
/// +---------------------------------------------------------------+
/// |                   hostCount (u32)                             |
/// |                   prefixCount (u32)                           |
/// |   flags (u32): bit 0 per-host listings, bit 1 per-host expiries|
/// |   uniformHostListing (u16)    |     reserved = 0 (u16)        |
/// +---------------------------------------------------------------+
/// | hostKeys        hostCount × key, strictly increasing          |
/// | hostListings    hostCount × u16, only with flag bit 0         |
/// | hostExpiries    hostCount × u32, only with flag bit 1         |
/// | prefixStarts    prefixCount × key, by (start, length), masked |
/// | prefixLengths   prefixCount × u8, below the key width         |
/// | prefixListings  prefixCount × u16                             |
/// | prefixExpiries  prefixCount × u32                             |
/// +---------------------------------------------------------------+
/// ```
enum TableFormat {
    /// "RBLDPFXT": identifies an rbld prefix table.
    static let magic: [UInt8] = Array("RBLDPFXT".utf8)
    static let version: UInt32 = 1
    static let perHostListingsFlag: UInt32 = 1 << 0
    static let perHostExpiriesFlag: UInt32 = 1 << 1
}

extension PrefixTable {
    /// The table in its compact binary form (see `TableFormat`), for snapshot files.
    ///
    /// Deterministic: equal tables serialize to equal bytes.
    public func serialized() -> [UInt8] {
        var writer = LittleEndianWriter()
        writer.bytes.append(contentsOf: TableFormat.magic)
        writer.append(TableFormat.version)
        writer.append(UInt32(0))
        v4.write(to: &writer)
        v6.write(to: &writer)
        return writer.bytes
    }

    /// Loads a table from the bytes of ``serialized()``.
    ///
    /// Validates everything a lookup depends on (counts against the length, order,
    /// masking, prefix lengths, flags, no trailing bytes), so a corrupt blob is an error
    /// and never a trap. Costs a copy of each array plus O(n) checks and rebuilding.
    ///
    /// - Throws: ``TableError``.
    public convenience init(serialized bytes: UnsafeRawBufferPointer) throws(TableError) {
        var reader = LittleEndianReader(bytes: bytes)
        let magic = try reader.readArray(count: TableFormat.magic.count, of: UInt8.self)
        guard magic == TableFormat.magic else { throw .badMagic }
        guard try reader.read(UInt32.self) == TableFormat.version else { throw .unsupportedVersion }
        guard try reader.read(UInt32.self) == 0 else { throw .corrupt }
        let v4 = try AddressFamilyTable<UInt32>.read(from: &reader)
        let v6 = try AddressFamilyTable<UInt128>.read(from: &reader)
        guard reader.isAtEnd else { throw .corrupt }
        self.init(v4: v4, v6: v6)
    }
}

extension AddressFamilyTable {
    func write(to writer: inout LittleEndianWriter) {
        // Both counts fit: freezing and loading check them against UInt32.max.
        writer.append(UInt32(hostKeys.count))
        writer.append(UInt32(prefixStarts.count))
        var flags: UInt32 = 0
        if !hostListings.isEmpty { flags |= TableFormat.perHostListingsFlag }
        if !hostExpiries.isEmpty { flags |= TableFormat.perHostExpiriesFlag }
        writer.append(flags)
        writer.append(hostListings.isEmpty ? uniformHostListing : 0)
        writer.append(UInt16(0))
        writer.append(hostKeys)
        writer.append(hostListings)
        writer.append(hostExpiries)
        writer.append(prefixStarts)
        writer.append(prefixLengths)
        writer.append(prefixValues.map(\.listing))
        writer.append(prefixValues.map(\.expires))
    }

    static func read(from reader: inout LittleEndianReader) throws(TableError) -> Self {
        let hostCount = Int(try reader.read(UInt32.self))
        let prefixCount = Int(try reader.read(UInt32.self))
        let flags = try reader.read(UInt32.self)
        let uniformListing = try reader.read(UInt16.self)
        guard try reader.read(UInt16.self) == 0,
              flags & ~(TableFormat.perHostListingsFlag | TableFormat.perHostExpiriesFlag) == 0
        else { throw .corrupt }
        let perHostListings = flags & TableFormat.perHostListingsFlag != 0
        let perHostExpiries = flags & TableFormat.perHostExpiriesFlag != 0
        // Canonical form only: per-host arrays are never stored empty, and the uniform
        // listing is only used when they are absent.
        guard !(perHostListings && (hostCount == 0 || uniformListing != 0)),
              !(perHostExpiries && hostCount == 0),
              hostCount != 0 || uniformListing == 0
        else { throw .corrupt }

        let hostKeys = try reader.readArray(count: hostCount, of: Key.self)
        let hostListings = try reader.readArray(count: perHostListings ? hostCount : 0, of: UInt16.self)
        let hostExpiries = try reader.readArray(count: perHostExpiries ? hostCount : 0, of: UInt32.self)
        let prefixStarts = try reader.readArray(count: prefixCount, of: Key.self)
        let prefixLengths = try reader.readArray(count: prefixCount, of: UInt8.self)
        let prefixListings = try reader.readArray(count: prefixCount, of: UInt16.self)
        let prefixExpiries = try reader.readArray(count: prefixCount, of: UInt32.self)
        let prefixValues = (0..<prefixCount).map {
            TableValue(listing: prefixListings[$0], expires: prefixExpiries[$0])
        }
        guard sourceArraysAreValid(
            hostKeys: hostKeys, hostListings: hostListings, hostExpiries: hostExpiries,
            prefixStarts: prefixStarts, prefixLengths: prefixLengths, prefixValues: prefixValues)
        else { throw .corrupt }
        return Self(hostKeys: hostKeys, hostListings: hostListings, uniformHostListing: uniformListing,
                    hostExpiries: hostExpiries,
                    prefixStarts: prefixStarts, prefixLengths: prefixLengths, prefixValues: prefixValues)
    }
}

/// Appends integers and integer arrays in little-endian order.
struct LittleEndianWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append<T: FixedWidthInteger>(_ values: [T]) {
        if isLittleEndianHost {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for value in values { append(value) }
        }
    }
}

/// Reads integers and integer arrays in little-endian order, never past the end.
struct LittleEndianReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(TableError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw .truncated }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Copies `count` values; one memcpy on little-endian hosts.
    mutating func readArray<T: FixedWidthInteger>(count: Int, of _: T.Type) throws(TableError) -> [T] {
        let size = MemoryLayout<T>.size
        // Division, not multiplication: a huge count cannot overflow the check.
        guard count <= (bytes.count - offset) / size else { throw .truncated }
        let byteCount = count * size   // no overflow: at most bytes.count - offset
        let source = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + byteCount)])
        var values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            initialized = count
        }
        if !isLittleEndianHost {
            for index in values.indices { values[index] = T(littleEndian: values[index]) }
        }
        offset += byteCount
        return values
    }
}

/// Whether this machine stores integers little-endian (true on x86-64 and arm64).
private let isLittleEndianHost = 1.littleEndian == 1
