// DeliveryStatus.swift -- the machine-readable part of a DSN (RFC 3464 §2.2, §2.3).

/// The fields of a `message/delivery-status` part (RFC 3464), as text.
public struct DeliveryStatus: Hashable, Sendable {
    /// One per-recipient group (RFC 3464 §2.3).
    public struct Recipient: Hashable, Sendable {
        /// `Final-Recipient`, e.g. `rfc822; user@example.org`.
        public var finalRecipient: String?
        /// `Original-Recipient`.
        public var originalRecipient: String?
        /// `Action`: failed, delayed, delivered, relayed or expanded (lowercased).
        public var action: String?
        /// `Status`: the enhanced status code (RFC 3463), e.g. `5.1.1`.
        public var status: String?
        /// `Remote-MTA`, e.g. `dns; mx.example.org`.
        public var remoteMTA: String?
        /// `Diagnostic-Code`, e.g. `smtp; 550 5.1.1 user unknown`.
        public var diagnosticCode: String?
    }

    /// `Reporting-MTA` of the per-message group, e.g. `dns; mx.example.org`.
    public var reportingMTA: String?
    /// `Arrival-Date` of the per-message group.
    public var arrivalDate: String?
    public var recipients: [Recipient] = []

    /// Whether any field that RFC 3464 requires (Reporting-MTA, Final-Recipient, Action,
    /// Status) was found: a `message/delivery-status` part with none is not a DSN.
    public var hasRequiredFields: Bool {
        reportingMTA != nil || recipients.contains { $0.finalRecipient != nil || $0.action != nil || $0.status != nil }
    }

    private static let maxFieldByteCount = 1024

    /// Parses the (transfer-decoded) body of a delivery-status part.
    init(body: [UInt8]) {
        var offset = 0
        while offset < body.count, recipients.count < MessageLimits.maxDeliveryStatusRecipientCount {
            // Skip blank (or whitespace-only) lines between groups.
            while offset < body.count {
                let lineEnd = ASCII.lineEnd(in: body, from: offset, to: body.count)
                let (trimmedStart, trimmedEnd) = ASCII.trimmed(body, offset, lineEnd)
                if trimmedStart < trimmedEnd { break }
                offset = lineEnd + 1
            }
            guard offset < body.count else { break }
            let group = MessageHeader(bytes: body, start: offset, end: body.count)
            guard group.bodyStart > offset else { break }
            var recipient = Recipient()
            var isRecipientGroup = false
            for field in group.fields {
                let value = Self.text(field, body)
                if MessageHeader.name(of: field, in: body, is: Names.reportingMTA) {
                    if reportingMTA == nil { reportingMTA = value }
                } else if MessageHeader.name(of: field, in: body, is: Names.arrivalDate) {
                    if arrivalDate == nil { arrivalDate = value }
                } else if MessageHeader.name(of: field, in: body, is: Names.finalRecipient) {
                    recipient.finalRecipient = value
                    isRecipientGroup = true
                } else if MessageHeader.name(of: field, in: body, is: Names.originalRecipient) {
                    recipient.originalRecipient = value
                    isRecipientGroup = true
                } else if MessageHeader.name(of: field, in: body, is: Names.action) {
                    recipient.action = value.lowercased()
                    isRecipientGroup = true
                } else if MessageHeader.name(of: field, in: body, is: Names.status) {
                    recipient.status = value
                    isRecipientGroup = true
                } else if MessageHeader.name(of: field, in: body, is: Names.remoteMTA) {
                    recipient.remoteMTA = value
                } else if MessageHeader.name(of: field, in: body, is: Names.diagnosticCode) {
                    recipient.diagnosticCode = value
                    isRecipientGroup = true
                }
            }
            if isRecipientGroup { recipients.append(recipient) }
            offset = group.bodyStart
            if group.defects.contains(.missingHeaderEnd) { break }
        }
    }

    private static func text(_ field: HeaderField, _ body: [UInt8]) -> String {
        let value = MessageHeader.unfoldedValue(field, in: body, limit: maxFieldByteCount)
        var collapsed = [UInt8]()
        collapsed.reserveCapacity(value.count)
        var lastWasSpace = false
        for byte in value {
            let isSpace = ASCII.isWhitespace(byte)
            if isSpace && lastWasSpace { continue }
            collapsed.append(isSpace ? ASCII.space : byte)
            lastWasSpace = isSpace
        }
        return ASCII.string(collapsed[...])
    }

    private enum Names {
        static let reportingMTA = Array("reporting-mta".utf8)
        static let arrivalDate = Array("arrival-date".utf8)
        static let finalRecipient = Array("final-recipient".utf8)
        static let originalRecipient = Array("original-recipient".utf8)
        static let action = Array("action".utf8)
        static let status = Array("status".utf8)
        static let remoteMTA = Array("remote-mta".utf8)
        static let diagnosticCode = Array("diagnostic-code".utf8)
    }
}
