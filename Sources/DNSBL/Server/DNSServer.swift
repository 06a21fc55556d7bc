// DNSServer.swift -- UDP and TCP serving on the same addresses, started and stopped together.

public import Logging
import Synchronization

/// Serves one responder over UDP and TCP on a list of addresses (RFC 1035 §4.2, RFC 7766
/// §5: a server must answer over TCP as well as UDP, on the same port).
///
/// UDP binds first; TCP then binds the ports UDP got, so port 0 yields one port that
/// serves both transports.
///
/// ```swift
/// let server = DNSServer(responder: responder, addresses: try listen.map(ListenAddress.init(parsing:)))
/// try await server.start()
/// // ...
/// await server.stop()
/// ```
public final class DNSServer<R: QueryResponder>: Sendable {
    private struct Running: Sendable {
        let udp: UDPServer<R>
        let tcp: TCPServer<R>
    }

    /// The responder every transport answers with (for its statistics).
    public let responder: R
    private let addresses: [ListenAddress]
    private let udpConfiguration: UDPServerConfiguration
    private let tcpConfiguration: TCPServerConfiguration
    private let transfers: ZoneTransfers?
    private let logger: Logger
    private let running = Mutex<Running?>(nil)
    private let finalCounters = Mutex(ServerCounters())

    /// Makes a server; nothing is opened until ``start()``.
    public init(
        responder: R,
        addresses: [ListenAddress],
        udp: UDPServerConfiguration = UDPServerConfiguration(),
        tcp: TCPServerConfiguration = TCPServerConfiguration(),
        transfers: ZoneTransfers? = nil,
        logger: Logger = Logger(label: "rbld.dns")
    ) {
        self.transfers = transfers
        self.responder = responder
        self.addresses = addresses
        udpConfiguration = udp
        tcpConfiguration = tcp
        self.logger = logger
    }

    /// Binds UDP, then TCP on the same ports, and starts serving.
    ///
    /// A port 0 is the kernel's choice for UDP, and TCP then asks for the same number,
    /// which another program may hold for TCP: then both are given up and bound anew, a
    /// few times, before it counts as a failure.
    ///
    /// - Throws: `ServerError` naming the address that failed; nothing stays open then.
    public func start() async throws(ServerError) {
        guard running.withLock({ $0 == nil }) else {
            throw ServerError(.alreadyStarted, "DNS server already started")
        }
        let chosenByKernel = addresses.contains { $0.port == 0 }
        var attempts = 0
        var bound: (udp: UDPServer<R>, tcp: TCPServer<R>)?
        while bound == nil {
            let udp = UDPServer(responder: responder, addresses: addresses,
                                configuration: udpConfiguration, logger: logger)
            try udp.start()
            let tcp = TCPServer(responder: responder, addresses: udp.boundAddresses,
                                configuration: tcpConfiguration, transfers: transfers, logger: logger)
            do throws(ServerError) {
                try await tcp.start()
                bound = (udp, tcp)
            } catch {
                udp.stop()
                attempts += 1
                guard chosenByKernel, error.code == .bindFailed, attempts < 8 else { throw error }
            }
        }
        guard let (udp, tcp) = bound else { return }
        let installed = running.withLock { current in
            guard current == nil else { return false }
            current = Running(udp: udp, tcp: tcp)
            return true
        }
        if !installed {
            udp.stop()
            await tcp.stop()
            throw ServerError(.alreadyStarted, "DNS server already started")
        }
    }

    /// Starts, serves until the task is cancelled, then stops (the shape of a
    /// swift-service-lifecycle `Service.run()`).
    public func run() async throws {
        try await start()
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(3600))
        }
        await stop()
    }

    /// The bound addresses (UDP and TCP share them); empty unless running.
    public var boundAddresses: [ListenAddress] {
        running.withLock { $0?.udp.boundAddresses ?? [] }
    }

    /// The UDP and TCP counters (final totals after ``stop()``).
    public func counters() -> ServerCounters {
        if let current = running.withLock({ $0 }) {
            return ServerCounters(udp: current.udp.counters(), tcp: current.tcp.counters())
        }
        return finalCounters.withLock { $0 }
    }

    /// Stops UDP (joining its threads, ≈ 200 ms) and TCP. Safe to call more than once.
    public func stop() async {
        guard let current = running.withLock({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        current.udp.stop()
        await current.tcp.stop()
        finalCounters.withLock {
            $0 = ServerCounters(udp: current.udp.counters(), tcp: current.tcp.counters())
        }
    }
}
