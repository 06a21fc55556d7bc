// MIMEWalker.swift -- iterative, capped walk over MIME structure (RFC 2045, 2046).

/// Walks a message's MIME tree without recursion.
///
/// An explicit stack replaces recursion, so nesting 20,000 deep costs no stack; entities
/// deeper than `MessageLimits.maxMIMEDepth` are kept as opaque leaves, and the walk stops
/// after `maxMIMEPartCount` entities. Each multipart body is scanned once for its delimiter
/// lines (RFC 2046 §5.1.1), so the total work is at most `maxMIMEDepth` passes over the input.
enum MIMEWalker {
    private struct Pending {
        var header: MessageHeader
        var depth: Int
        var isInsideAttachedMessage: Bool
        var isInReport: Bool
        var defaultType: MediaType
    }

    private static let contentType: [UInt8] = Array("content-type".utf8)
    private static let contentTransferEncoding: [UInt8] = Array("content-transfer-encoding".utf8)
    private static let contentDisposition: [UInt8] = Array("content-disposition".utf8)
    private static let attachment: [UInt8] = Array("attachment".utf8)

    /// All entities of the message whose header is `top`, in document order.
    static func walk(bytes: [UInt8], top: MessageHeader, end: Int, defects: inout MessageDefects) -> [MIMEPart] {
        var parts: [MIMEPart] = []
        var stack: [Pending] = [Pending(header: top, depth: 0, isInsideAttachedMessage: false,
                                        isInReport: false, defaultType: .textPlain)]
        var entityEnds: [Int] = [end]   // parallel to `stack`: where each pending entity ends
        while let pending = stack.popLast(), let entityEnd = entityEnds.popLast() {
            if parts.count >= MessageLimits.maxMIMEPartCount {
                defects.insert(.tooManyMIMEParts)
                break
            }
            let header = pending.header
            let mediaType = header.value(contentType, in: bytes).flatMap(MediaType.init) ?? pending.defaultType
            let encoding = header.value(contentTransferEncoding, in: bytes).map(TransferEncoding.init) ?? .identity
            var isAttachment = false
            if let disposition = header.value(contentDisposition, in: bytes) {
                let (start, stop) = ASCII.trimmed(disposition, 0, disposition.count)
                isAttachment = ASCII.hasPrefix(disposition, at: start, end: stop, lowercasePrefix: attachment)
            }
            let part = MIMEPart(header: header, mediaType: mediaType, transferEncoding: encoding,
                                bodyStart: header.bodyStart, bodyEnd: entityEnd, depth: pending.depth,
                                isInsideAttachedMessage: pending.isInsideAttachedMessage,
                                isInReport: pending.isInReport, isAttachment: isAttachment)
            parts.append(part)

            let childDepth = pending.depth + 1
            if mediaType.isType("multipart") {
                guard childDepth <= MessageLimits.maxMIMEDepth else {
                    defects.insert(.mimeTooDeep)
                    continue
                }
                guard let boundary = mediaType.parameter("boundary"), !boundary.isEmpty, boundary.count <= 200 else {
                    defects.insert(.malformedMultipart)
                    continue
                }
                let budget = MessageLimits.maxMIMEPartCount - parts.count
                let (ranges, closed) = split(bytes, from: part.bodyStart, to: entityEnd, boundary: boundary, maxCount: budget)
                if !closed { defects.insert(.malformedMultipart) }
                if ranges.count >= budget { defects.insert(.tooManyMIMEParts) }
                let childDefault: MediaType = mediaType.subtype.elementsEqual("digest".utf8) ? .messageRFC822 : .textPlain
                let isReport = mediaType.subtype.elementsEqual("report".utf8)
                // Push in reverse so the stack pops them in document order.
                for range in ranges.reversed() {
                    let childHeader = MessageHeader(bytes: bytes, start: range.start, end: range.end)
                    stack.append(Pending(header: childHeader, depth: childDepth,
                                         isInsideAttachedMessage: pending.isInsideAttachedMessage,
                                         isInReport: isReport, defaultType: childDefault))
                    entityEnds.append(range.end)
                }
            } else if mediaType.isType("message"),
                      mediaType.subtype.elementsEqual("rfc822".utf8) || mediaType.subtype.elementsEqual("global".utf8)
                        || mediaType.subtype.elementsEqual("news".utf8) {
                guard childDepth <= MessageLimits.maxMIMEDepth else {
                    defects.insert(.mimeTooDeep)
                    continue
                }
                // Only identity-encoded (7bit, 8bit, binary) embedded messages are walked. A
                // base64 or quoted-printable one would first be decoded into a second buffer
                // (up to 12 MB), yet nothing reads what is inside an attached original:
                // evidence and delivery statuses skip those entities and attribution reads
                // the top header only. So it stays one opaque entity, which still marks
                // "original attached" (MIMEWalkTests.aBase64EmbeddedMessageIsNotWalked).
                guard encoding == .identity, part.bodyStart < entityEnd else { continue }
                let embedded = MessageHeader(bytes: bytes, start: part.bodyStart, end: entityEnd, allowMboxSeparator: true)
                stack.append(Pending(header: embedded, depth: childDepth, isInsideAttachedMessage: true,
                                     isInReport: false, defaultType: .textPlain))
                entityEnds.append(entityEnd)
            }
        }
        return parts
    }

    /// The body parts of a multipart entity in `bytes[start..<end]`: ranges between delimiter
    /// lines `--boundary` (RFC 2046 §5.1.1), and whether the close delimiter was found.
    /// The LF before each delimiter belongs to the delimiter.
    static func split(_ bytes: [UInt8], from start: Int, to end: Int, boundary: [UInt8], maxCount: Int)
        -> (ranges: [(start: Int, end: Int)], closed: Bool) {
        var ranges: [(start: Int, end: Int)] = []
        var partStart: Int? = nil
        var lineStart = start
        while lineStart < end {
            let lineEnd = ASCII.lineEnd(in: bytes, from: lineStart, to: end)
            if lineEnd - lineStart >= boundary.count + 2,
               bytes[lineStart] == ASCII.dash, bytes[lineStart + 1] == ASCII.dash,
               matches(bytes, at: lineStart + 2, boundary) {
                let after = lineStart + 2 + boundary.count
                let isClose = lineEnd - after >= 2 && bytes[after] == ASCII.dash && bytes[after + 1] == ASCII.dash
                // A delimiter may be followed only by whitespace (transport padding).
                let restStart = isClose ? after + 2 : after
                var isDelimiter = true
                var probe = restStart
                while probe < lineEnd {
                    if !ASCII.isWhitespace(bytes[probe]) { isDelimiter = false; break }
                    probe += 1
                }
                if isDelimiter {
                    if let open = partStart {
                        ranges.append((open, max(open, lineStart - 1)))
                        if ranges.count >= maxCount { return (ranges, true) }
                    }
                    if isClose { return (ranges, true) }
                    partStart = min(lineEnd + 1, end)
                }
            }
            lineStart = lineEnd + 1
        }
        if let open = partStart, open < end, ranges.count < maxCount { ranges.append((open, end)) }
        return (ranges, false)
    }

    @inline(__always)
    private static func matches(_ bytes: [UInt8], at offset: Int, _ boundary: [UInt8]) -> Bool {
        guard offset + boundary.count <= bytes.count else { return false }
        var index = 0
        while index < boundary.count {
            if bytes[offset + index] != boundary[index] { return false }
            index += 1
        }
        return true
    }
}
