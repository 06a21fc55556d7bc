// UDPServerConfiguration.swift -- tunables of the UDP serving threads.

import NIOCore

/// Tunables of a ``UDPServer``; the defaults suit a public DNSBL.
public struct UDPServerConfiguration: Sendable {
    /// Sockets (each with its own thread) per address, sharing the port via SO_REUSEPORT.
    public var socketsPerAddress: Int = System.coreCount
    /// Which of an address's sockets a datagram goes to.
    public var steering: UDPSteering = .cpu
    /// Datagrams per `recvmmsg`/`sendmmsg` call (NSD's `NUM_RECV_PER_SELECT` is 100).
    public var batchSize: Int = 64
    /// Bytes per query slot. Longer datagrams are truncated by the kernel, counted and
    /// dropped; a DNSBL query is a header, one name (≤ 255 bytes) and an OPT record.
    public var queryCapacity: Int = 4096
    /// Bytes per reply slot; the `QueryResponder` contract promises at least 4,096.
    public var replyCapacity: Int = 4096
    /// Requested SO_RCVBUF (best effort; the kernel caps it at net.core.rmem_max).
    public var receiveBufferSize: Int = 4 << 20
    /// Requested SO_SNDBUF (best effort; capped at net.core.wmem_max).
    public var sendBufferSize: Int = 4 << 20

    public init() {}
}

/// How the kernel picks one of an address's sockets (and so its thread) for a datagram.
public enum UDPSteering: String, Sendable, CaseIterable {
    /// The socket of the CPU that received the datagram (modulo the socket count): every
    /// datagram a CPU takes in goes to one thread, whatever client sent it, so the threads
    /// read fuller batches and the queries stay on the CPU whose cache holds them (on
    /// loopback, with four clients of one dnsperf thread: 3.4 µs of server CPU per query,
    /// against 4.6 by flow hash; BENCHMARKS.md). A network card with one receive queue,
    /// and no RPS, then feeds a single thread. With more sockets than CPUs the flow hash
    /// is kept, since some sockets would never be read.
    case cpu
    /// The kernel's hash of the flow (addresses and ports), SO_REUSEPORT's default.
    case hash
}
