// ServerCounters.swift -- UDP and TCP counters of a DNSServer together.

/// The counters of both transports of a ``DNSServer``.
public struct ServerCounters: Hashable, Sendable {
    public var udp: UDPCounters
    public var tcp: TCPCounters

    public init(udp: UDPCounters = UDPCounters(), tcp: TCPCounters = TCPCounters()) {
        self.udp = udp
        self.tcp = tcp
    }
}
