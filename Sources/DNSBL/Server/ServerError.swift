// ServerError.swift -- why a server could not start (bad address, bind failure, socket setup).

/// An error from configuring or starting a UDP or TCP server.
///
/// Shaped after swift-asn1's error struct: `code` is for tests and `switch`, `reason` names
/// the input (the address text or the `HOST:PORT` that failed) and the system error.
/// Two errors compare equal when their codes do.
public struct ServerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; an open set, compared by identity.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidAddress, socketFailed, bindFailed, threadFailed, alreadyStarted, notRunning
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A listen address did not parse (`HOST:PORT`, `[V6]:PORT`).
        public static let invalidAddress = Code(.invalidAddress)
        /// `socket()` or a required socket option failed.
        public static let socketFailed = Code(.socketFailed)
        /// `bind()` failed, typically because the port is in use or the address is not local.
        public static let bindFailed = Code(.bindFailed)
        /// A serving thread could not be created.
        public static let threadFailed = Code(.threadFailed)
        /// `start()` was called twice.
        public static let alreadyStarted = Code(.alreadyStarted)
        /// An address was to be added to a server that is not running.
        public static let notRunning = Code(.notRunning)

        public var description: String { "\(base)" }
    }

    public let code: Code
    public let reason: String
    public let file: String
    public let line: Int

    public init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public static func == (lhs: ServerError, rhs: ServerError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public var description: String { "\(reason) [\(code)]" }
}
