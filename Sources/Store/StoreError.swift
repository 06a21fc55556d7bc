// StoreError.swift -- what can go wrong with the SQLite store, for tests and for exit codes.

/// An error from the store: a `code` to switch on, a human `reason` that names the file
/// or input, and where it was raised. Two errors are equal when their codes are
/// (swift-asn1's `ASN1Error` shape).
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: String, Hashable, Sendable {
        /// The file is not an SQLite database at all (SQLITE_NOTADB).
        case notADatabase
        /// An SQLite database, but not an rbld store (other tables, other application id).
        case foreignDatabase
        /// An rbld store written by a newer rbld (higher schema version).
        case newerSchema
        /// SQLite reported corruption (SQLITE_CORRUPT), or an integrity check failed.
        case corrupt
        /// Another process holds the lock longer than the busy timeout; retry later.
        case busy
        /// The file cannot be opened, read or written (missing, permissions, disk full).
        case io
        /// The caller passed something invalid (a bad prefix, an unknown kind, bad lines).
        case invalidInput
        /// The action contradicts the current state (unexclude of a prefix not excluded).
        case conflict
        /// No such zone, listing or record.
        case notFound
        /// An unexpected SQLite failure (a bug or a misuse).
        case internalError
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

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { reason }

    /// Whether retrying later can succeed (sysexits 75, LMTP 4xx).
    public var isTemporary: Bool { code == .busy || code == .io }

    /// The sysexits(3) exit code for a command that failed with this error.
    public var exitCode: Int32 {
        switch code {
        case .busy: 75                                                  // EX_TEMPFAIL
        case .io: 74                                                    // EX_IOERR
        case .invalidInput, .conflict, .notFound: 65                    // EX_DATAERR
        case .notADatabase, .foreignDatabase, .newerSchema, .corrupt: 65 // EX_DATAERR: the file's content
        case .internalError: 70                                         // EX_SOFTWARE
        }
    }
}
