// MIMEPart.swift -- one MIME entity found by the walk, as offsets into the message.

/// One MIME entity (RFC 2045 §2.4): its header, media type and body range.
///
/// The walk records containers (multipart, message/rfc822) as well as leaves, in document
/// order. The top-level message is the entity at index 0.
struct MIMEPart {
    var header: MessageHeader
    var mediaType: MediaType
    var transferEncoding: TransferEncoding
    var bodyStart: Int
    var bodyEnd: Int
    /// 0 for the message itself, +1 per multipart or message/rfc822 level.
    var depth: Int
    /// Whether the entity lies inside an embedded message (message/rfc822, message/global):
    /// a returned or forwarded original, not the text of the notice itself.
    var isInsideAttachedMessage: Bool
    /// Whether the entity is a direct child of a multipart/report (RFC 6522).
    var isInReport: Bool
    /// Content-Disposition is `attachment`.
    var isAttachment: Bool
}
