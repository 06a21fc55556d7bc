// MessageHeader.swift -- the header section of a message or MIME entity (RFC 5322 §2.2).

/// The header section of a message or MIME entity, as offsets into a shared byte buffer.
///
/// Parsing is lenient the way MTAs are: folded lines are joined, a line that is neither a
/// field nor a continuation is folded into the previous field (some bounce generators
/// forget the leading whitespace of a `boundary=` line), an mbox `From ` line at the very
/// start is skipped, and the section ends at the first empty line or at the end of input.
struct MessageHeader {
    private(set) var fields: [HeaderField] = []
    /// Offset of the first body byte (after the empty line), or the end of the range.
    private(set) var bodyStart: Int
    private(set) var defects: MessageDefects = []

    /// Parses the header section of `bytes[start..<end]` (LF line endings).
    init(bytes: [UInt8], start: Int, end: Int, allowMboxSeparator: Bool = false) {
        bodyStart = end
        var offset = start
        if allowMboxSeparator, ASCII.hasPrefix(bytes, at: offset, end: end, lowercasePrefix: Array("from ".utf8)),
           bytes[offset] == 0x46 {
            // An mbox separator ("From sender date"), not a header field: skip its line.
            offset = ASCII.lineEnd(in: bytes, from: offset, to: end) + 1
            defects.insert(.mboxSeparator)
        }
        let sectionLimit = end - offset > MessageLimits.maxHeaderByteCount
            ? offset + MessageLimits.maxHeaderByteCount : end
        var ended = false
        while offset < sectionLimit {
            let lineEnd = ASCII.lineEnd(in: bytes, from: offset, to: end)
            if lineEnd == offset {
                bodyStart = min(offset + 1, end)
                ended = true
                break
            }
            let first = bytes[offset]
            if first == ASCII.space || first == ASCII.tab {
                // Continuation line (RFC 5322 §2.2.3 folding).
                if !fields.isEmpty { fields[fields.count - 1].valueEnd = lineEnd }
            } else if let colon = Self.fieldNameEnd(bytes, offset, lineEnd) {
                if fields.count < MessageLimits.maxHeaderFieldCount {
                    var nameEnd = colon
                    while nameEnd > offset, bytes[nameEnd - 1] == ASCII.space || bytes[nameEnd - 1] == ASCII.tab {
                        nameEnd -= 1
                    }
                    var valueStart = colon + 1
                    while valueStart < lineEnd, bytes[valueStart] == ASCII.space || bytes[valueStart] == ASCII.tab {
                        valueStart += 1
                    }
                    fields.append(HeaderField(nameStart: offset, nameEnd: nameEnd, valueStart: valueStart, valueEnd: lineEnd))
                } else {
                    defects.insert(.tooManyHeaderFields)
                }
            } else if !fields.isEmpty {
                // Neither a field nor a continuation: fold it into the previous field.
                fields[fields.count - 1].valueEnd = lineEnd
                defects.insert(.malformedHeaderLine)
            } else {
                defects.insert(.malformedHeaderLine)
            }
            offset = lineEnd + 1
        }
        if !ended {
            if offset < end {
                defects.insert(.headerTruncated)
            } else {
                defects.insert(.missingHeaderEnd)
            }
            bodyStart = end
        }
        if fields.isEmpty { defects.insert(.noHeader) }
    }

    /// The colon ending a field name on the line `bytes[start..<end]`, or `nil` when the line
    /// is not a field. Field names are printable ASCII except colon (RFC 5322 §2.2); whitespace
    /// before the colon is tolerated (RFC 822 allowed it).
    private static func fieldNameEnd(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int? {
        var index = start
        var sawSpace = false
        // Real field names are short; 200 bytes bounds the scan of a 1 MB line.
        let limit = min(end, start + 200)
        while index < limit {
            let byte = bytes[index]
            if byte == ASCII.colon { return index > start ? index : nil }
            if byte == ASCII.space || byte == ASCII.tab {
                sawSpace = true
            } else if byte < 33 || byte > 126 || sawSpace {
                return nil
            }
            index += 1
        }
        return nil
    }

    var isEmpty: Bool { fields.isEmpty }

    /// Whether `field`'s name equals `lowercaseName` (ASCII case-insensitive).
    @inline(__always)
    static func name(of field: HeaderField, in bytes: [UInt8], is lowercaseName: [UInt8]) -> Bool {
        guard field.nameEnd - field.nameStart == lowercaseName.count else { return false }
        var index = 0
        while index < lowercaseName.count {
            if ASCII.lowercased(bytes[field.nameStart + index]) != lowercaseName[index] { return false }
            index += 1
        }
        return true
    }

    /// The first field named `lowercaseName`.
    func first(_ lowercaseName: [UInt8], in bytes: [UInt8]) -> HeaderField? {
        for field in fields where Self.name(of: field, in: bytes, is: lowercaseName) { return field }
        return nil
    }

    /// Every field named `lowercaseName`, in order.
    func all(_ lowercaseName: [UInt8], in bytes: [UInt8]) -> [HeaderField] {
        fields.filter { Self.name(of: $0, in: bytes, is: lowercaseName) }
    }

    /// The unfolded value of `field`: line breaks removed, each fold's whitespace kept
    /// (RFC 5322 §2.2.3), trailing whitespace trimmed, capped at `limit` bytes.
    static func unfoldedValue(_ field: HeaderField, in bytes: [UInt8], limit: Int = 64 << 10) -> [UInt8] {
        var output = [UInt8]()
        let end = min(field.valueEnd, field.valueStart + limit)
        output.reserveCapacity(end - field.valueStart)
        var index = field.valueStart
        while index < end {
            let byte = bytes[index]
            if byte == ASCII.lf || byte == ASCII.cr {
                index += 1
                continue
            }
            output.append(byte == 0 ? ASCII.space : byte)
            index += 1
        }
        while let last = output.last, ASCII.isWhitespace(last) { output.removeLast() }
        return output
    }

    /// The unfolded value of the first field named `lowercaseName`.
    func value(_ lowercaseName: [UInt8], in bytes: [UInt8]) -> [UInt8]? {
        first(lowercaseName, in: bytes).map { Self.unfoldedValue($0, in: bytes) }
    }
}
