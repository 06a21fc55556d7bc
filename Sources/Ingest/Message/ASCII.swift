// ASCII.swift -- byte-level helpers shared by the message parsers.

import Glibc

/// Byte constants and small scanning helpers over `[UInt8]`.
///
/// Parsers in `Message/` and `Extraction/` keep offsets into one byte buffer and never build
/// intermediate strings on the hot path; these helpers are the shared vocabulary.
enum ASCII {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let openParen: UInt8 = 0x28
    static let closeParen: UInt8 = 0x29
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let lessThan: UInt8 = 0x3C
    static let greaterThan: UInt8 = 0x3E
    static let at: UInt8 = 0x40
    static let dash: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let questionMark: UInt8 = 0x3F
    static let underscore: UInt8 = 0x5F

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab || byte == lf || byte == cr || byte == 0x0B || byte == 0x0C
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inline(__always)
    static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20) &- 0x61 < 6
    }

    @inline(__always)
    static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        if isDigit(byte) { return byte &- 0x30 }
        let lower = byte | 0x20
        if lower &- 0x61 < 6 { return lower &- 0x61 &+ 10 }
        return nil
    }

    /// The offset of the first `byte` in `bytes[start..<end]`, or `nil`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard start < end else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            // memchr over [start, end): both are within buffer.count (callers pass valid ranges).
            guard let base = buffer.baseAddress,
                  let hit = memchr(base + start, Int32(byte), end - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// The end of the line starting at `start` (offset of its LF, or `end`).
    @inline(__always)
    static func lineEnd(in bytes: [UInt8], from start: Int, to end: Int) -> Int {
        firstIndex(of: lf, in: bytes, from: start, to: end) ?? end
    }

    /// Whether `bytes[offset...]` starts with `prefix`, comparing ASCII letters case-insensitively.
    /// `prefix` must be lowercase.
    @inline(__always)
    static func hasPrefix(_ bytes: [UInt8], at offset: Int, end: Int, lowercasePrefix prefix: [UInt8]) -> Bool {
        guard offset >= 0, end - offset >= prefix.count else { return false }
        var index = 0
        while index < prefix.count {
            if lowercased(bytes[offset + index]) != prefix[index] { return false }
            index += 1
        }
        return true
    }

    /// Whether two byte sequences are equal, ASCII case-insensitively; `lowercaseOther` must be lowercase.
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercaseOther: [UInt8]) -> Bool {
        guard bytes.count == lowercaseOther.count else { return false }
        var index = bytes.startIndex
        var other = 0
        while index < bytes.endIndex {
            if lowercased(bytes[index]) != lowercaseOther[other] { return false }
            index += 1
            other += 1
        }
        return true
    }

    /// `bytes[start..<end]` with leading and trailing whitespace removed, as offsets.
    @inline(__always)
    static func trimmed(_ bytes: [UInt8], _ start: Int, _ end: Int) -> (start: Int, end: Int) {
        var lower = start
        var upper = end
        while lower < upper, isWhitespace(bytes[lower]) { lower += 1 }
        while upper > lower, isWhitespace(bytes[upper - 1]) { upper -= 1 }
        return (lower, upper)
    }

    /// Offset of the first occurrence of `needle` in `bytes[start..<end]`, exact bytes.
    static func firstRange(of needle: [UInt8], in bytes: [UInt8], from start: Int, to end: Int) -> Int? {
        guard let first = needle.first, end - start >= needle.count else { return nil }
        var offset = start
        let lastStart = end - needle.count
        while offset <= lastStart {
            guard let candidate = firstIndex(of: first, in: bytes, from: offset, to: lastStart + 1) else { return nil }
            var index = 1
            while index < needle.count, bytes[candidate + index] == needle[index] { index += 1 }
            if index == needle.count { return candidate }
            offset = candidate + 1
        }
        return nil
    }

    /// Lowercases ASCII letters in place.
    static func lowercaseInPlace(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = lowercased(bytes[index]) }
    }

    /// A `String` from bytes, invalid UTF-8 replaced (never fails).
    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
