// UDPCounters.swift -- what the UDP loops did, summed over threads on request.

import Synchronization

/// Totals of a ``UDPServer``'s serving threads (NSD `STATUP`, rbldnsd `struct dnsstats`).
///
/// The hot path never logs; it counts. Each thread keeps its own plain counters and
/// publishes them once per batch, so no cache line is shared per datagram.
public struct UDPCounters: Hashable, Sendable {
    /// Datagrams received, including truncated ones.
    public var received: UInt64 = 0
    /// Datagrams the responder answered (a reply was queued for sending).
    public var answered: UInt64 = 0
    /// Datagrams the responder chose not to answer (it returned 0).
    public var dropped: UInt64 = 0
    /// Datagrams longer than the receive buffer, cut by the kernel and dropped unread.
    public var truncated: UInt64 = 0
    /// Replies the kernel refused (`sendmmsg` errors: unreachable peer, full buffer).
    public var sendErrors: UInt64 = 0
    /// Failed `recvmmsg` calls other than the periodic timeout.
    public var receiveErrors: UInt64 = 0

    public init() {}

    /// Adds another thread's counters.
    public static func + (lhs: UDPCounters, rhs: UDPCounters) -> UDPCounters {
        var sum = lhs
        sum.received &+= rhs.received          // wrapping: counters are monotonic 64-bit
        sum.answered &+= rhs.answered
        sum.dropped &+= rhs.dropped
        sum.truncated &+= rhs.truncated
        sum.sendErrors &+= rhs.sendErrors
        sum.receiveErrors &+= rhs.receiveErrors
        return sum
    }
}

/// One serving thread's stop flag and published counters.
///
/// Only the owning thread stores the counters (relaxed, once per batch); readers load them
/// whenever asked. A reading may mix two batches; totals are still monotonic per field.
final class UDPWorkerState: Sendable {
    let stopRequested = Atomic<Bool>(false)
    private let received = Atomic<UInt64>(0)
    private let answered = Atomic<UInt64>(0)
    private let dropped = Atomic<UInt64>(0)
    private let truncated = Atomic<UInt64>(0)
    private let sendErrors = Atomic<UInt64>(0)
    private let receiveErrors = Atomic<UInt64>(0)

    /// Called by the owning thread only.
    func publish(_ counters: UDPCounters) {
        received.store(counters.received, ordering: .relaxed)
        answered.store(counters.answered, ordering: .relaxed)
        dropped.store(counters.dropped, ordering: .relaxed)
        truncated.store(counters.truncated, ordering: .relaxed)
        sendErrors.store(counters.sendErrors, ordering: .relaxed)
        receiveErrors.store(counters.receiveErrors, ordering: .relaxed)
    }

    var counters: UDPCounters {
        var result = UDPCounters()
        result.received = received.load(ordering: .relaxed)
        result.answered = answered.load(ordering: .relaxed)
        result.dropped = dropped.load(ordering: .relaxed)
        result.truncated = truncated.load(ordering: .relaxed)
        result.sendErrors = sendErrors.load(ordering: .relaxed)
        result.receiveErrors = receiveErrors.load(ordering: .relaxed)
        return result
    }
}
