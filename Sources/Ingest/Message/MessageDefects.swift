// MessageDefects.swift -- what was odd about an input message; none stops the parse.

/// Problems found while parsing; none stops the parse.
public struct MessageDefects: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The input was longer than `MessageLimits.maxMessageByteCount`; the rest was ignored.
    public static let messageTruncated = MessageDefects(rawValue: 1 << 0)
    /// A header section exceeded `maxHeaderByteCount`; its end and the body were ignored.
    public static let headerTruncated = MessageDefects(rawValue: 1 << 1)
    /// More than `maxHeaderFieldCount` fields; later fields were not recorded.
    public static let tooManyHeaderFields = MessageDefects(rawValue: 1 << 2)
    /// A header line was neither a field nor a continuation; it was folded into the previous field.
    public static let malformedHeaderLine = MessageDefects(rawValue: 1 << 3)
    /// The input ended inside the header section (no empty line).
    public static let missingHeaderEnd = MessageDefects(rawValue: 1 << 4)
    /// NUL bytes occurred in the input.
    public static let nulBytes = MessageDefects(rawValue: 1 << 5)
    /// MIME nesting deeper than `maxMIMEDepth`; deeper entities were treated as opaque.
    public static let mimeTooDeep = MessageDefects(rawValue: 1 << 6)
    /// More than `maxMIMEPartCount` MIME entities; later ones were not visited.
    public static let tooManyMIMEParts = MessageDefects(rawValue: 1 << 7)
    /// A multipart entity without a usable boundary, or without its closing delimiter.
    public static let malformedMultipart = MessageDefects(rawValue: 1 << 8)
    /// Bytes that are not valid UTF-8 (or the declared charset) in text that was decoded.
    public static let eightBitGarbage = MessageDefects(rawValue: 1 << 9)
    /// An mbox `From ` separator line preceded the header.
    public static let mboxSeparator = MessageDefects(rawValue: 1 << 10)
    /// The input was empty, or had no header field at all.
    public static let noHeader = MessageDefects(rawValue: 1 << 11)

    /// Defects that mean the message was not read whole, or is damaged: cut at a parse
    /// limit (size, header size, field count, MIME depth or part count), NUL bytes (never in
    /// RFC 5322 text, nor in 8BITMIME), or an input that ends inside the header.
    ///
    /// Ingest still processes such a message as far as it was read (a hit is recorded when
    /// classification and attribution succeed), and keeps a copy of it in quarantine for a
    /// person to look at. The other defects are mild: 8-bit header text is ordinary RFC 6532
    /// mail, and a malformed header line or multipart is common in real bounces.
    /// `noHeader` is neither: such input is not a message and goes to quarantine whole.
    public static let severe: MessageDefects = [
        .messageTruncated, .headerTruncated, .tooManyHeaderFields, .missingHeaderEnd, .nulBytes,
        .mimeTooDeep, .tooManyMIMEParts,
    ]
}
