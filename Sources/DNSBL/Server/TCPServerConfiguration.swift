// TCPServerConfiguration.swift -- limits of the TCP listener (RFC 7766 §6).

import NIOCore

/// Tunables of a ``TCPServer``; the defaults follow RFC 7766 §6.2.3 and common servers.
public struct TCPServerConfiguration: Sendable {
    /// A connection with no complete query for this long is closed (RFC 7766 §6.2.3:
    /// "on the order of seconds"; NSD uses 120 s with a cap, Unbound 30 s).
    public var idleTimeout: Duration = .seconds(10)
    /// Open connections allowed at once; connections beyond it are closed at once.
    public var maxConnections: Int = 256
    /// Open connections allowed at once from one client network (/24, /56), so that slow
    /// or half-open connections from one network cannot take every slot; 0 = no such cap.
    public var maxConnectionsPerNetwork: Int = 32
    /// The listen backlog.
    public var backlog: Int32 = 256

    public init() {}

    /// ``idleTimeout`` for NIO, at least one millisecond.
    var idleTimeAmount: TimeAmount {
        let (seconds, attoseconds) = idleTimeout.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return .nanoseconds(.max) }
        return .nanoseconds(max(1_000_000, nanoseconds.partialValue &+ attoseconds / 1_000_000_000))
    }
}
