// HeaderScan.swift -- a cheap look at the top of a raw header without parsing the message.

/// Finds header fields by name in the raw bytes, without building a `Message`.
///
/// Used by feeds before classification (does the message carry a `Return-Path`?). Only
/// the header section is scanned, at most `scanByteCount` bytes; folded continuation
/// lines are skipped.
enum HeaderScan {
    static let scanByteCount = 64 << 10

    /// Whether the header section has a field named `name` (lowercase, without the colon).
    static func hasField(_ bytes: [UInt8], named name: String) -> Bool {
        let name = Array(name.utf8)
        let end = min(bytes.count, scanByteCount)
        var lineStart = 0
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == lineStart { return false }
            if isField(bytes, lineStart, contentEnd, name) { return true }
            lineStart = lineEnd + 1
        }
        return false
    }

    /// `name:` (or `name :`) at the start of a line, case-insensitively.
    static func isField(_ bytes: [UInt8], _ start: Int, _ end: Int, _ name: [UInt8]) -> Bool {
        guard end - start > name.count else { return false }
        for index in 0..<name.count where bytes[start + index] | 0x20 != name[index] | 0x20 {
            return false
        }
        var index = start + name.count
        while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        return index < end && bytes[index] == UInt8(ascii: ":")
    }
}
