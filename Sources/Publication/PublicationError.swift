// PublicationError.swift -- why the store's state could not be put in front of the DNS server.

public import Store

/// A failure to start publishing, or to publish a zone, naming what failed.
///
/// The shape of swift-asn1's errors: a `code` to switch on, a `reason` for people, and
/// where it was raised; two errors are equal when their codes are.
public struct PublicationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable {
        /// The store cannot be opened or written (its `storeError` says how).
        case storeUnavailable
        /// The store's content cannot be served (an unreadable row, too many answer classes).
        case badData
        /// A DNS listen address cannot be bound.
        case cannotBind
        /// An export file cannot be written (its directory is missing or not writable, the
        /// disk is full).
        case cannotWrite
    }

    public var code: Code
    public var reason: String
    /// The store's own error, when the store failed.
    public var storeError: StoreError?
    public var file: String
    public var line: Int

    public init(_ code: Code, _ reason: String, storeError: StoreError? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.storeError = storeError
        self.file = file
        self.line = line
    }

    public static func == (lhs: PublicationError, rhs: PublicationError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
    public var description: String { reason }
}
