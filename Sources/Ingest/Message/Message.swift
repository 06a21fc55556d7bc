// Message.swift -- a parsed RFC 5322 message: header, MIME entities, defects.

/// A message parsed from raw bytes, with every entity as offsets into one LF-normalized buffer.
///
/// Parsing never fails: whatever the input, the result has a (possibly empty) header, at
/// least one entity, and `defects` saying what was odd. Memory is the normalized copy plus
/// a few offsets per header field and entity; time is a few linear passes (see `MessageLimits`).
struct Message {
    /// The input with LF line endings, at most `MessageLimits.maxMessageByteCount` bytes.
    let bytes: [UInt8]
    let header: MessageHeader
    /// Every MIME entity in document order; `parts[0]` is the message itself.
    let parts: [MIMEPart]
    private(set) var defects: MessageDefects

    init(raw: [UInt8]) {
        var defects: MessageDefects = []
        var input = raw
        if input.count > MessageLimits.maxMessageByteCount {
            input = Array(input[..<MessageLimits.maxMessageByteCount])
            defects.insert(.messageTruncated)
        }
        if ASCII.firstIndex(of: 0, in: input, from: 0, to: input.count) != nil { defects.insert(.nulBytes) }
        bytes = LineEndings.normalized(input)
        header = MessageHeader(bytes: bytes, start: 0, end: bytes.count, allowMboxSeparator: true)
        defects.formUnion(header.defects)
        if bytes.isEmpty { defects.insert(.noHeader) }
        parts = MIMEWalker.walk(bytes: bytes, top: header, end: bytes.count, defects: &defects)
        self.defects = defects
    }

    /// The decoded body of `part` (transfer encoding undone), at most `limit` bytes.
    func decodedBody(of part: MIMEPart, limit: Int) -> [UInt8] {
        guard part.bodyStart < part.bodyEnd else { return [] }
        // Base64 expands 4:3, quoted-printable at most 3:1: read enough input for `limit`.
        let inputLimit = part.transferEncoding == .identity ? limit : limit * 3 + 4
        let end = min(part.bodyEnd, part.bodyStart + inputLimit)
        return part.transferEncoding.decode(bytes[part.bodyStart..<end], limit: limit)
    }

    /// The text of `part` as UTF-8 (charset parameter honoured), at most `limit` bytes of input.
    func text(of part: MIMEPart, limit: Int) -> (text: [UInt8], isClean: Bool) {
        let body = decodedBody(of: part, limit: limit)
        var output = [UInt8]()
        output.reserveCapacity(body.count)
        let charset = part.mediaType.parameter("charset") ?? []
        let clean = Charset.appendDecoded(body[...], charset: charset, to: &output)
        return (output, clean)
    }

    /// The delivery-status parts (RFC 3464, RFC 6533 global) of the notice itself, parsed;
    /// parts inside an attached original are not the notice's and are skipped.
    func deliveryStatuses() -> [DeliveryStatus] {
        var result: [DeliveryStatus] = []
        for part in parts where !part.isInsideAttachedMessage && part.mediaType.isType("message") {
            let subtype = part.mediaType.subtype
            guard subtype.elementsEqual("delivery-status".utf8) || subtype.elementsEqual("global-delivery-status".utf8)
            else { continue }
            result.append(DeliveryStatus(body: decodedBody(of: part, limit: MessageLimits.maxDeliveryStatusByteCount)))
        }
        return result
    }
}
