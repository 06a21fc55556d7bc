// MessageLimits.swift -- the caps that bound memory and time per message.

/// Caps applied while parsing one message.
///
/// Every loop in `Message/` is bounded by one of these, so a hostile input (a 2 MB folded
/// header, 8,000 `Received` lines, MIME nested 20,000 deep, 30,000 parts) costs at most a
/// few linear passes over at most `maxMessageByteCount` bytes.
public enum MessageLimits {
    /// Bytes of a message that are read at all; the rest is ignored (and noted as a defect).
    /// 16 MiB: 4x the largest attachment-bearing bounce seen in practice, well under memory budgets.
    public static let maxMessageByteCount = 16 << 20

    /// Bytes of one header section that are parsed. The 2 MB folded header of the test corpus
    /// fits twice over; a larger header ends the parse of that section (defect `headerTruncated`).
    public static let maxHeaderByteCount = 4 << 20

    /// Header fields recorded per section: 8,000 forged `Received` lines plus the real ones fit.
    public static let maxHeaderFieldCount = 20_000

    /// MIME nesting levels that are walked. RFC 2046 sets no limit; real bounces nest at
    /// most 4 (report → rfc822 → alternative → text). Deeper entities are treated as opaque.
    public static let maxMIMEDepth = 16

    /// MIME entities visited per message (leaves and containers together).
    public static let maxMIMEPartCount = 512

    /// Bytes of decoded text kept per part, and in total, for wording cues.
    public static let maxTextBytesPerPart = 48 << 10
    public static let maxTextByteCount = 96 << 10

    /// Bytes of a `message/delivery-status` body that are decoded and parsed (RFC 3464).
    public static let maxDeliveryStatusByteCount = 64 << 10

    /// Per-recipient groups kept from one delivery-status part.
    public static let maxDeliveryStatusRecipientCount = 64

    /// Parameters kept from one Content-Type header.
    public static let maxMediaTypeParameterCount = 32

    /// Encoded words decoded in one header value (RFC 2047 §2 sets 75 chars per word, no count).
    public static let maxEncodedWordCount = 256
}
