// DNSServer.swift -- UDP and TCP serving on the same addresses, started and stopped together.

public import Logging
import Synchronization

/// Serves one responder over UDP and TCP on a list of addresses (RFC 1035 §4.2, RFC 7766
/// §5: a server must answer over TCP as well as UDP, on the same port).
///
/// UDP binds first; TCP then binds the ports UDP got, so port 0 yields one port that
/// serves both transports. ``update(addresses:)`` changes the addresses while serving.
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
    /// The addresses served, as configured (port 0 as given).
    private let addresses: Mutex<[ListenAddress]>
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
        self.addresses = Mutex(addresses)
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
        let addresses = self.addresses.withLock { $0 }
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

    /// Serves exactly `addresses` from now on: binds the new ones (UDP, then TCP on the port
    /// UDP got), then closes the ones no longer listed. The addresses that stay are not
    /// touched, so queries to them are answered throughout.
    ///
    /// - Returns: the addresses added (as bound) and the ones removed.
    /// - Throws: `ServerError` naming an address that could not be bound; then nothing
    ///   changed (the addresses added before it are closed again).
    @discardableResult
    public func update(addresses wanted: [ListenAddress]) async throws(ServerError) -> (added: [ListenAddress], removed: [ListenAddress]) {
        guard let current = running.withLock({ $0 }) else {
            throw ServerError(.notRunning, "DNS server not running")
        }
        let served = addresses.withLock { $0 }
        let adding = wanted.filter { !served.contains($0) }
        let removing = served.filter { !wanted.contains($0) }
        var added: [(requested: ListenAddress, bound: ListenAddress)] = []
        do throws(ServerError) {
            for address in adding {
                var attempts = 0
                while true {
                    let bound = try current.udp.add(address)
                    do throws(ServerError) {
                        try await current.tcp.add(bound)
                        added.append((address, bound))
                        break
                    } catch {
                        current.udp.remove(address)
                        attempts += 1
                        // A kernel-chosen UDP port may be taken for TCP: choose again.
                        guard address.port == 0, error.code == .bindFailed, attempts < 8 else { throw error }
                    }
                }
            }
        } catch {
            for address in added {
                current.udp.remove(address.requested)
                await current.tcp.remove(address.bound)
            }
            throw error
        }
        for address in removing {
            // TCP listens on the address as UDP bound it (the kernel's port for port 0).
            let tcpAddress = current.udp.boundAddress(for: address) ?? address
            current.udp.remove(address)
            await current.tcp.remove(tcpAddress)
        }
        addresses.withLock { $0 = served.filter { wanted.contains($0) } + adding }
        if !added.isEmpty || !removing.isEmpty {
            logger.notice("DNS addresses changed", metadata: [
                "added": "\(added.map(\.bound.description).joined(separator: " "))",
                "removed": "\(removing.map(\.description).joined(separator: " "))",
            ])
        }
        return (added.map(\.bound), removing)
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
