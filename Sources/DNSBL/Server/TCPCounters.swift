// TCPCounters.swift -- what the TCP listener did.

import Synchronization

/// Totals of a ``TCPServer``.
public struct TCPCounters: Hashable, Sendable {
    /// Connections accepted and served.
    public var connectionsAccepted: UInt64 = 0
    /// Connections closed at once because ``TCPServerConfiguration/maxConnections`` were
    /// open, or ``TCPServerConfiguration/maxConnectionsPerNetwork`` from the client's network.
    public var connectionsRejected: UInt64 = 0
    /// Connections closed by the idle timeout.
    public var idleClosed: UInt64 = 0
    /// Complete length-prefixed messages received.
    public var received: UInt64 = 0
    /// Messages answered.
    public var answered: UInt64 = 0
    /// Messages the responder chose not to answer.
    public var dropped: UInt64 = 0
    /// Connections closed for a framing error (a zero length prefix).
    public var framingErrors: UInt64 = 0
    /// Connections open when the counters were read (a level, not a total).
    public var connectionsOpen: Int = 0
    /// Zone transfers (AXFR, IXFR) sent to the end.
    public var transfersCompleted: UInt64 = 0
    /// Transfer requests answered with an error (REFUSED, NOTAUTH, FORMERR).
    public var transfersRefused: UInt64 = 0
    /// Transfers cut off: the secondary stopped reading, or the connection closed.
    public var transfersAborted: UInt64 = 0

    public init() {}
}

/// Shared counters of all connections. TCP carries little DNS traffic (truncated answers,
/// transfers), so one relaxed atomic add per query is acceptable here.
final class TCPCounterStorage: Sendable {
    let connectionsAccepted = Atomic<UInt64>(0)
    let connectionsRejected = Atomic<UInt64>(0)
    let idleClosed = Atomic<UInt64>(0)
    let received = Atomic<UInt64>(0)
    let answered = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let framingErrors = Atomic<UInt64>(0)
    let transfersCompleted = Atomic<UInt64>(0)
    let transfersRefused = Atomic<UInt64>(0)
    let transfersAborted = Atomic<UInt64>(0)
    /// Currently open connections, for the cap.
    let open = Atomic<Int>(0)

    var snapshot: TCPCounters {
        var result = TCPCounters()
        result.connectionsAccepted = connectionsAccepted.load(ordering: .relaxed)
        result.connectionsRejected = connectionsRejected.load(ordering: .relaxed)
        result.idleClosed = idleClosed.load(ordering: .relaxed)
        result.received = received.load(ordering: .relaxed)
        result.answered = answered.load(ordering: .relaxed)
        result.dropped = dropped.load(ordering: .relaxed)
        result.framingErrors = framingErrors.load(ordering: .relaxed)
        result.connectionsOpen = open.load(ordering: .relaxed)
        result.transfersCompleted = transfersCompleted.load(ordering: .relaxed)
        result.transfersRefused = transfersRefused.load(ordering: .relaxed)
        result.transfersAborted = transfersAborted.load(ordering: .relaxed)
        return result
    }
}

extension Atomic where Value == UInt64 {
    /// Adds one, relaxed: counters need no ordering with other memory.
    func increment() {
        wrappingAdd(1, ordering: .relaxed)
    }
}
