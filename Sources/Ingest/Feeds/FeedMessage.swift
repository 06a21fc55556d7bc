// FeedMessage.swift -- one raw message as a feed hands it to ingest.

/// One raw message from a feed (Maildir file, mbox entry, standard input, LMTP).
public struct FeedMessage: Sendable {
    /// The raw RFC 5322 bytes (LF or CRLF), at most `MessageLimits.maxMessageByteCount + 1`.
    public var bytes: [UInt8]
    /// Names the input in errors and logs: a file path, `box.mbox#3`, `stdin`, `lmtp`.
    public var origin: String
    /// When the trap received it (unix seconds); nil means now.
    public var receivedTime: Int64?
    /// The envelope recipients (LMTP `RCPT TO`): the trap addresses. Empty: the feed does
    /// not know them, and `Delivered-To`/`X-Original-To` in the header are used.
    public var recipients: [String]

    public init(bytes: [UInt8], origin: String, receivedTime: Int64? = nil, recipients: [String] = []) {
        self.bytes = bytes
        self.origin = origin
        self.receivedTime = receivedTime
        self.recipients = recipients
    }
}
