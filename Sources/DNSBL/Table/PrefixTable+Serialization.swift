// PrefixTable+Serialization.swift -- the versioned little-endian binary form of a table.

/// The serialized layout, version 2. All integers are little-endian; arrays are packed
/// back to back with no padding. Only the source arrays are stored: the host shards (with
/// their bucket offsets) and the flattened intervals are rebuilt on load in O(n). The host
/// values are stored in the form of all hosts as one, not per shard.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 magic "RBLDPFXT" (8 bytes)                    |
/// +---------------------------------------------------------------+
/// |                          version = 2                          |
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
/// |   commonListing (u16)         |     reserved = 0 (u16)        |
/// |                   commonExpires (u32)                         |
/// |                   exceptionCount (u32)                        |
/// +---------------------------------------------------------------+
/// | hostKeys           hostCount × key, strictly increasing       |
/// | hostListings       hostCount × u16, only with flag bit 0      |
/// | hostExpiries       hostCount × u32, only with flag bit 1      |
/// | exceptionIndexes   exceptionCount × u32, strictly increasing  |
/// | exceptionListings  exceptionCount × u16                       |
/// | exceptionExpiries  exceptionCount × u32                       |
/// | prefixStarts    prefixCount × key, by (start, length), masked |
/// | prefixLengths   prefixCount × u8, below the key width         |
/// | prefixListings  prefixCount × u16                             |
/// | prefixExpiries  prefixCount × u32                             |
/// +---------------------------------------------------------------+
/// ```
///
/// The host values are in the one form ``HostValues`` gives them (a blob in another is
/// corrupt): the common value alone, the common value and the exceptions, or per-host
/// columns with the common value's listing or expiry standing for a column left out.
/// A blob of another version is refused as ``TableError/unsupportedVersion``, and a
/// snapshot cache holding one is rebuilt.
enum TableFormat {
    /// "RBLDPFXT": identifies an rbld prefix table.
    static let magic: [UInt8] = Array("RBLDPFXT".utf8)
    static let version: UInt32 = 2
    static let perHostListingsFlag: UInt32 = 1 << 0
    static let perHostExpiriesFlag: UInt32 = 1 << 1
}

extension PrefixTable {
    /// The table in its compact binary form (see `TableFormat`), for snapshot files.
    ///
    /// Deterministic: equal tables serialize to equal bytes.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(serializedSize)
        serialize { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The number of bytes ``serialize(to:)`` passes on.
    public var serializedSize: Int {
        TableFormat.magic.count + 8 + v4.serializedSize + v6.serializedSize
    }

    /// Passes the bytes of ``serialized()`` to `sink` piece by piece, in order: each array
    /// straight from the table's memory, so a large table is written without a copy.
    public func serialize<E: Error>(to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        try LittleEndian.write(TableFormat.magic, to: sink)
        try LittleEndian.write(TableFormat.version, to: sink)
        try LittleEndian.write(UInt32(0), to: sink)
        try v4.write(to: sink)
        try v6.write(to: sink)
    }

    /// Loads a table from the bytes of ``serialized()``.
    ///
    /// Validates everything a lookup depends on (counts against the length, order,
    /// masking, prefix lengths, flags, no trailing bytes), so a corrupt blob is an error
    /// and never a trap. Costs a copy of each array plus O(n) checks and rebuilding.
    ///
    /// - Throws: ``TableError``.
    public convenience init(serialized bytes: UnsafeRawBufferPointer) throws(TableError) {
        try self.init(count: bytes.count) { offset, destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + destination.count)]))
        }
    }

    /// Loads a table of `count` serialized bytes that `read` copies out piece by piece:
    /// `read(offset, destination)` fills `destination` with the bytes from `offset` on.
    /// Each array is read straight into its own memory, so loading needs no buffer of the
    /// whole (a blob read in pieces from the store, say). Validates as ``init(serialized:)``.
    ///
    /// - Throws: ``TableError``, or what `read` throws, mapped to ``TableError/truncated``.
    public convenience init(count: Int,
                            read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) throws(TableError) {
        var reader = LittleEndianReader(count: count, read: read)
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
    /// The bytes of this family's section.
    var serializedSize: Int {
        let hostValues = hosts.globalValues()
        return 24 + hosts.count * MemoryLayout<Key>.size + hostValues.listings.count * 2 + hostValues.expiries.count * 4
            + hostValues.exceptionIndexes.count * (4 + 2 + 4)
            + prefixStarts.count * (MemoryLayout<Key>.size + 1 + 2 + 4)
    }

    func write<E: Error>(to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        // The stored form is that of all hosts' values as one; it holds only the values
        // that differ from the common one, unless most differ.
        let hostValues = hosts.globalValues()
        // Both counts fit: freezing and loading check them against UInt32.max.
        try LittleEndian.write(UInt32(hosts.count), to: sink)
        try LittleEndian.write(UInt32(prefixStarts.count), to: sink)
        var flags: UInt32 = 0
        if !hostValues.listings.isEmpty { flags |= TableFormat.perHostListingsFlag }
        if !hostValues.expiries.isEmpty { flags |= TableFormat.perHostExpiriesFlag }
        try LittleEndian.write(flags, to: sink)
        try LittleEndian.write(hostValues.common.listing, to: sink)
        try LittleEndian.write(UInt16(0), to: sink)
        try LittleEndian.write(hostValues.common.expires, to: sink)
        // Fits: no more exceptions than hosts.
        try LittleEndian.write(UInt32(hostValues.exceptionIndexes.count), to: sink)
        // Whole keys, whichever layout holds them in memory.
        try hosts.forEachChunk { chunk throws(E) in try LittleEndian.write(chunk, to: sink) }
        try LittleEndian.write(hostValues.listings, to: sink)
        try LittleEndian.write(hostValues.expiries, to: sink)
        try LittleEndian.write(hostValues.exceptionIndexes, to: sink)
        try LittleEndian.write(hostValues.exceptionValues.map(\.listing), to: sink)
        try LittleEndian.write(hostValues.exceptionValues.map(\.expires), to: sink)
        try LittleEndian.write(prefixStarts, to: sink)
        try LittleEndian.write(prefixLengths, to: sink)
        try LittleEndian.write(prefixValues.map(\.listing), to: sink)
        try LittleEndian.write(prefixValues.map(\.expires), to: sink)
    }

    static func read(from reader: inout LittleEndianReader) throws(TableError) -> Self {
        let hostCount = Int(try reader.read(UInt32.self))
        let prefixCount = Int(try reader.read(UInt32.self))
        let flags = try reader.read(UInt32.self)
        let commonListing = try reader.read(UInt16.self)
        guard try reader.read(UInt16.self) == 0,
              flags & ~(TableFormat.perHostListingsFlag | TableFormat.perHostExpiriesFlag) == 0
        else { throw .corrupt }
        let commonExpires = try reader.read(UInt32.self)
        let exceptionCount = Int(try reader.read(UInt32.self))
        let perHostListings = flags & TableFormat.perHostListingsFlag != 0
        let perHostExpiries = flags & TableFormat.perHostExpiriesFlag != 0
        // No more exceptions than hosts, no per-host arrays without hosts; the rest of the
        // form is checked with the arrays.
        guard exceptionCount <= hostCount, hostCount > 0 || !(perHostListings || perHostExpiries)
        else { throw .corrupt }

        // The keys come first, then the values; a shard needs both. So the values are read
        // first (past the keys), then the keys in chunks straight into the shards: never
        // a second copy of every key beside the shards being built.
        let keySize = MemoryLayout<Key>.size
        // Division, not multiplication: a huge count cannot overflow the check.
        guard hostCount <= reader.remaining / keySize else { throw .truncated }
        let keysOffset = reader.offset
        try reader.seek(to: keysOffset + hostCount * keySize)
        let hostListings = try reader.readArray(count: perHostListings ? hostCount : 0, of: UInt16.self)
        let hostExpiries = try reader.readArray(count: perHostExpiries ? hostCount : 0, of: UInt32.self)
        let exceptionIndexes = try reader.readArray(count: exceptionCount, of: UInt32.self)
        let exceptionListings = try reader.readArray(count: exceptionCount, of: UInt16.self)
        let exceptionExpiries = try reader.readArray(count: exceptionCount, of: UInt32.self)
        let hostValues = HostValues(
            count: hostCount, common: TableValue(listing: commonListing, expires: commonExpires),
            listings: hostListings, expiries: hostExpiries, exceptionIndexes: exceptionIndexes,
            exceptionValues: (0..<exceptionCount).map {
                TableValue(listing: exceptionListings[$0], expires: exceptionExpiries[$0])
            })
        let prefixStarts = try reader.readArray(count: prefixCount, of: Key.self)
        let prefixLengths = try reader.readArray(count: prefixCount, of: UInt8.self)
        let prefixListings = try reader.readArray(count: prefixCount, of: UInt16.self)
        let prefixExpiries = try reader.readArray(count: prefixCount, of: UInt32.self)
        let prefixValues = (0..<prefixCount).map {
            TableValue(listing: prefixListings[$0], expires: prefixExpiries[$0])
        }
        guard sourceArraysAreValid(
            hostCount: hostCount, hostValues: hostValues,
            prefixStarts: prefixStarts, prefixLengths: prefixLengths, prefixValues: prefixValues)
        else { throw .corrupt }
        let end = reader.offset
        try reader.seek(to: keysOffset)
        let hosts = try readHosts(count: hostCount, values: hostValues, from: &reader)
        try reader.seek(to: end)
        return Self(hosts: hosts, prefixStarts: prefixStarts, prefixLengths: prefixLengths, prefixValues: prefixValues)
    }

    /// Reads `count` host keys, which must be strictly increasing, and lays them out in
    /// shards with `values` (of the same count). The keys are read in chunks and checked
    /// on the way; the last key, which the layout needs first, is read ahead.
    static func readHosts(count: Int, values: HostValues,
                          from reader: inout LittleEndianReader) throws(TableError) -> HostTable<Key> {
        guard count > 0 else { return .empty }
        let start = reader.offset
        let first = try reader.read(Key.self)
        try reader.seek(to: start + (count - 1) * MemoryLayout<Key>.size)
        let last = try reader.read(Key.self)
        try reader.seek(to: start)
        guard first <= last else { throw .corrupt }
        var chunk = [Key](repeating: 0, count: Swift.min(4096, count))
        var failure: TableError?
        let hosts = HostTable(first: first, last: last, count: count) { visit in
            var done = 0
            var position = 0
            var previous = first
            while done < count {
                let length = Swift.min(chunk.count, count - done)
                do throws(TableError) { try reader.read(length, into: &chunk) } catch {
                    failure = error
                    return
                }
                for index in 0..<length {
                    let key = chunk[index]
                    // Strictly increasing, so every key lies between the first and the last,
                    // inside the layout's shared prefix.
                    guard done + index == 0 || previous < key, key <= last else {
                        failure = .corrupt
                        return
                    }
                    previous = key
                    visit(key, values.value(at: done + index, following: &position))
                }
                done += length
            }
        }
        if let failure { throw failure }
        return hosts
    }
}

/// Passes integers and integer arrays on to a sink in little-endian order.
public enum LittleEndian {
    public static func write<T: FixedWidthInteger, E: Error>(_ value: T, to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        try withUnsafeBytes(of: value.littleEndian) { bytes throws(E) in try sink(bytes) }
    }

    /// One call for the whole array on little-endian hosts.
    public static func write<T: FixedWidthInteger, E: Error>(_ values: [T], to sink: (UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        if isLittleEndianHost {
            // `withUnsafeBytes` rethrows untyped: the sink's own error is carried out.
            var failure: E?
            values.withUnsafeBytes { bytes in
                do throws(E) { try sink(bytes) } catch { failure = error }
            }
            if let failure { throw failure }
        } else {
            for value in values { try write(value, to: sink) }
        }
    }
}

/// Reads integers and integer arrays in little-endian order from `count` bytes that a
/// closure copies out, never past the end.
struct LittleEndianReader {
    let count: Int
    private let source: (Int, UnsafeMutableRawBufferPointer) throws -> Void
    private(set) var offset = 0

    init(count: Int, read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) {
        self.count = count
        source = read
    }

    var isAtEnd: Bool { offset == count }

    /// Moves to `offset`, which must lie within the bytes.
    mutating func seek(to offset: Int) throws(TableError) {
        guard (0...count).contains(offset) else { throw .truncated }
        self.offset = offset
    }

    /// The bytes not read yet.
    var remaining: Int { count - offset }

    private mutating func fill(_ destination: UnsafeMutableRawBufferPointer) throws(TableError) {
        guard !destination.isEmpty else { return }
        do {
            try source(offset, destination)
        } catch {
            throw .truncated
        }
        offset += destination.count
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(TableError) -> T {
        guard count - offset >= MemoryLayout<T>.size else { throw .truncated }
        var value = T.zero
        try withUnsafeMutableBytes(of: &value) { bytes throws(TableError) in try fill(bytes) }
        return T(littleEndian: value)
    }

    /// Reads `count` values into the start of `buffer`, which holds at least that many:
    /// a long array read piece by piece through one buffer.
    mutating func read<T: FixedWidthInteger>(_ count: Int, into buffer: inout [T]) throws(TableError) {
        precondition(count <= buffer.count)
        guard count <= (self.count - offset) / MemoryLayout<T>.size else { throw .truncated }
        var failure: TableError?
        buffer.withUnsafeMutableBytes { bytes in
            do throws(TableError) {
                try fill(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<(count * MemoryLayout<T>.size)]))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        if !isLittleEndianHost {
            for index in 0..<count { buffer[index] = T(littleEndian: buffer[index]) }
        }
    }

    /// Reads `count` values straight into the array's memory.
    mutating func readArray<T: FixedWidthInteger>(count: Int, of _: T.Type) throws(TableError) -> [T] {
        let size = MemoryLayout<T>.size
        // Division, not multiplication: a huge count cannot overflow the check.
        guard count <= (self.count - offset) / size else { throw .truncated }
        var failure: TableError?
        var values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try fill(UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failure = error as? TableError ?? .truncated
                initialized = 0
            }
        }
        if let failure { throw failure }
        if !isLittleEndianHost {
            for index in values.indices { values[index] = T(littleEndian: values[index]) }
        }
        return values
    }
}

/// Whether this machine stores integers little-endian (true on x86-64 and arm64).
private let isLittleEndianHost = 1.littleEndian == 1
