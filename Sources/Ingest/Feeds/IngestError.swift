// IngestError.swift -- what can go wrong while feeding one message into the store.

/// An error from a feed: a `code` to switch on, a `reason` that names the input, and where
/// it was raised. Two errors are equal when their codes are (swift-asn1's `ASN1Error` shape).
public struct IngestError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// A message file or input cannot be read (permissions, I/O error, not a file).
        case unreadable
        /// The input is not a mail message (empty, no header field at all).
        case notAMessage
        /// The input is damaged (``MessageDefects/severe``: cut at a parse limit, NUL bytes,
        /// the header cut off): processed as far as it was read, and a copy kept in quarantine.
        case damaged
        /// The store refused the hit for good (invalid input); retrying will not help.
        case rejectedByStore
        /// The store is busy or unavailable; retrying later can succeed (EX_TEMPFAIL, LMTP 4xx).
        case storeUnavailable
        /// A Maildir or quarantine folder cannot be created, listed or written.
        case folder
        /// A processed message could not be moved out of `new/`.
        case move
    }

    public var code: Code
    public var reason: String
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public static func == (lhs: IngestError, rhs: IngestError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { reason }

    /// Whether retrying later can succeed: the message must stay where it is (or the MTA
    /// must keep it), never be quarantined for this.
    public var isTemporary: Bool { code == .storeUnavailable }
}
