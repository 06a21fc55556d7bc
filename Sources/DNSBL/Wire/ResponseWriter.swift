// ResponseWriter.swift -- bounded, allocation-free writes into a response buffer.

/// Appends bytes to a caller-owned buffer and refuses, rather than overruns, past `limit`.
///
/// Every `write` returns false once the limit would be passed and leaves the writer at the
/// failed position's start, so a caller can fall back to a truncated (TC=1) response.
public struct ResponseWriter {
    public let buffer: UnsafeMutableRawBufferPointer
    public private(set) var limit: Int
    public private(set) var offset: Int

    /// - Parameter limit: the maximum response size; clamped to the buffer's size.
    public init(_ buffer: UnsafeMutableRawBufferPointer, limit: Int) {
        self.buffer = buffer
        self.limit = min(limit, buffer.count)
        self.offset = 0
    }

    /// A writer that continues after `offset` bytes already in the buffer.
    public init(_ buffer: UnsafeMutableRawBufferPointer, limit: Int, continuingAt offset: Int) {
        self.buffer = buffer
        self.limit = min(limit, buffer.count)
        self.offset = max(0, min(offset, self.limit))
    }

    /// Bytes still available before `limit`.
    @inline(__always) public var remaining: Int { limit &- offset }  // offset ≤ limit is invariant

    @inline(__always)
    public mutating func write(_ byte: UInt8) -> Bool {
        guard offset < limit else { return false }
        buffer[offset] = byte
        offset &+= 1  // < limit ≤ Int.max
        return true
    }

    @inline(__always)
    public mutating func write(_ value: UInt16) -> Bool {
        guard remaining >= 2 else { return false }
        buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
        offset &+= 2  // remaining ≥ 2
        return true
    }

    @inline(__always)
    public mutating func write(_ value: UInt32) -> Bool {
        guard remaining >= 4 else { return false }
        buffer.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
        offset &+= 4  // remaining ≥ 4
        return true
    }

    @inline(__always)
    public mutating func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard remaining >= bytes.count else { return false }
        if let base = bytes.baseAddress, bytes.count > 0 {
            // In bounds: offset + bytes.count ≤ limit ≤ buffer.count.
            (buffer.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
        }
        offset &+= bytes.count  // remaining ≥ bytes.count
        return true
    }

    /// Moves the limit (e.g. to add a record space was reserved for), within the buffer.
    @inline(__always)
    public mutating func setLimit(_ newLimit: Int) {
        limit = max(offset, min(newLimit, buffer.count))
    }

    /// Writes `value` at an earlier position (a length or count field) without moving on.
    @inline(__always)
    public func patch(_ value: UInt16, at position: Int) {
        precondition(position >= 0 && position &+ 2 <= offset, "patch outside written bytes")
        buffer.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt16.self)
    }

    /// Writes one byte at an earlier position without moving on.
    @inline(__always)
    public func patch(_ value: UInt8, at position: Int) {
        precondition(position >= 0 && position < offset, "patch outside written bytes")
        buffer[position] = value
    }

    /// Moves back to an earlier position, dropping what was written after it.
    @inline(__always)
    public mutating func rewind(to position: Int) {
        precondition(position >= 0 && position <= offset, "rewind forward")
        offset = position
    }
}
