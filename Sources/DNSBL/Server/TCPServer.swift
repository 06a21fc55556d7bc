// TCPServer.swift -- DNS over TCP with SwiftNIO (RFC 7766).

import Glibc
public import Logging
public import NIOCore
import NIOPosix
import Synchronization

/// Serves DNS over TCP (RFC 1035 §4.2.2, RFC 7766) on SwiftNIO event loops.
///
/// Each connection gets its own pipeline:
///
/// ```
/// BackPressureHandler ▶ IdleStateHandler ▶ TCPFrameDecoder ▶ TCPQueryHandler
/// (stop reading while    (close after        (2-byte length     (one Session, one
///  replies back up)       idleTimeout)        framing)           65,535-byte buffer)
/// ```
///
/// Several queries per connection are answered in order (RFC 7766 §6.2.1.1); at most
/// ``TCPServerConfiguration/maxConnections`` are open at once, and at most
/// ``TCPServerConfiguration/maxConnectionsPerNetwork`` from one client network; newer ones
/// are closed on accept (RFC 7766 §6.2.2 asks servers to bound their resources).
public final class TCPServer<R: QueryResponder>: Sendable {
    /// One bound listener: the address as asked for, and its channel.
    private struct Listener: Sendable {
        let requested: ListenAddress
        let channel: any Channel
    }

    private enum State: Sendable {
        case idle
        case starting
        case running([Listener])
        case stopped
    }

    private let responder: R
    private let addresses: [ListenAddress]
    private let configuration: TCPServerConfiguration
    private let transfers: ZoneTransfers?
    private let group: any EventLoopGroup
    private let logger: Logger
    private let counterStorage = TCPCounterStorage()
    private let state = Mutex<State>(.idle)
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// Open connections per client network (the source cut to /24 or /56).
    private let perNetwork = Mutex<[ClientAddress: Int]>([:])

    /// Makes a server; nothing is opened until ``start()``.
    ///
    /// - Parameters:
    ///   - responder: answers each message; one `Session` per connection.
    ///   - addresses: IPv4 and IPv6 addresses; port 0 binds a free port (see ``boundAddresses``).
    ///   - configuration: idle timeout and connection cap.
    ///   - transfers: answers AXFR and IXFR; nil refuses them (as the responder does).
    ///   - group: the event loops; nil for NIO's shared `MultiThreadedEventLoopGroup.singleton`.
    ///   - logger: start, stop and bind errors only; never per query.
    public init(
        responder: R,
        addresses: [ListenAddress],
        configuration: TCPServerConfiguration = TCPServerConfiguration(),
        transfers: ZoneTransfers? = nil,
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "rbld.tcp")
    ) {
        self.responder = responder
        self.addresses = addresses
        self.configuration = configuration
        self.transfers = transfers
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.logger = logger
    }

    /// Binds every address and starts accepting connections.
    ///
    /// - Throws: `ServerError` naming the address: `.bindFailed` (port in use, address not
    ///   local); `.alreadyStarted` on a second call. On failure no listener stays open.
    public func start() async throws(ServerError) {
        let proceed = state.withLock { state in
            guard case .idle = state else { return false }
            state = .starting
            return true
        }
        guard proceed else { throw ServerError(.alreadyStarted, "TCP server already started") }

        var listeners: [Listener] = []
        for address in addresses {
            do {
                listeners.append(Listener(requested: address, channel: try await bind(address)))
            } catch {
                for listener in listeners { try? await listener.channel.close() }
                state.withLock { $0 = .idle }
                throw ServerError(.bindFailed, "TCP \(address): bind: \(error)")
            }
        }
        state.withLock { $0 = .running(listeners) }
        logger.info("TCP server started", metadata: [
            "addresses": "\(boundAddresses.map(\.description).joined(separator: " "))",
            "max_connections": "\(configuration.maxConnections)",
            "idle_timeout_ms": "\(configuration.idleTimeAmount.nanoseconds / 1_000_000)",
        ])
    }

    /// The addresses as bound, with the kernel-chosen ports; empty unless running.
    public var boundAddresses: [ListenAddress] {
        let listeners = state.withLock { state -> [Listener] in
            if case .running(let listeners) = state { return listeners }
            return []
        }
        return listeners.map { listener in
            listener.requested.with(port: UInt16(clamping: listener.channel.localAddress?.port ?? Int(listener.requested.port)))
        }
    }

    /// Binds one more address while running; connections to it count toward the same caps.
    ///
    /// - Throws: `.bindFailed` naming the address, `.notRunning` unless the server runs.
    public func add(_ address: ListenAddress) async throws(ServerError) {
        guard state.withLock({ if case .running = $0 { true } else { false } }) else {
            throw ServerError(.notRunning, "TCP server not running: cannot add \(address)")
        }
        let channel: any Channel
        do {
            channel = try await bind(address)
        } catch {
            throw ServerError(.bindFailed, "TCP \(address): bind: \(error)")
        }
        let added = state.withLock { state in
            guard case .running(let listeners) = state else { return false }
            state = .running(listeners + [Listener(requested: address, channel: channel)])
            return true
        }
        guard added else {
            try? await channel.close()
            throw ServerError(.notRunning, "TCP server stopped while \(address) was added")
        }
        logger.info("TCP address added", metadata: ["address": "\(address)"])
    }

    /// Stops accepting on `address` (as given at start or to ``add(_:)``). Connections
    /// already accepted there are served until they close or idle out.
    public func remove(_ address: ListenAddress) async {
        let removed = state.withLock { state -> [Listener] in
            guard case .running(let listeners) = state else { return [] }
            state = .running(listeners.filter { $0.requested != address })
            return listeners.filter { $0.requested == address }
        }
        for listener in removed {
            try? await listener.channel.close()
            logger.info("TCP address removed", metadata: ["address": "\(address)"])
        }
    }

    /// The connection and query counters.
    public func counters() -> TCPCounters {
        counterStorage.snapshot
    }

    /// Connections open right now.
    public var openConnections: Int {
        connections.withLock { $0.count }
    }

    /// Closes the listeners, then every open connection. Safe to call more than once.
    public func stop() async {
        let listeners = state.withLock { state -> [Listener] in
            defer { state = .stopped }
            if case .running(let listeners) = state { return listeners }
            return []
        }
        guard !listeners.isEmpty else { return }
        for listener in listeners { try? await listener.channel.close() }
        let open = connections.withLock { Array($0.values) }
        for connection in open { try? await connection.close() }
        let totals = counters()
        logger.info("TCP server stopped", metadata: [
            "connections": "\(totals.connectionsAccepted)", "rejected": "\(totals.connectionsRejected)",
            "answered": "\(totals.answered)", "dropped": "\(totals.dropped)",
        ])
    }

    private func bind(_ address: ListenAddress) async throws -> any Channel {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in admit(channel) }
        if address.family == .ipv6 {
            // So that `::` and `0.0.0.0` can both be bound (RFC 3493 §5.3).
            bootstrap = bootstrap.serverChannelOption(
                .socket(SocketOptionLevel(IPPROTO_IPV6), SocketOptionName(IPV6_V6ONLY)), value: 1)
        }
        return try await bootstrap.bind(to: SocketAddress(ipAddress: address.host, port: Int(address.port))).get()
    }

    /// Sets up one accepted connection, or closes it when the cap is reached.
    private func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let open = counterStorage.open.wrappingAdd(1, ordering: .relaxed).newValue
        guard open <= configuration.maxConnections else {
            counterStorage.open.wrappingSubtract(1, ordering: .relaxed)
            counterStorage.connectionsRejected.increment()
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
            }
        }
        let network = ClientAddress(channel.remoteAddress).map(Self.network)
        if let network, configuration.maxConnectionsPerNetwork > 0 {
            let admitted = perNetwork.withLock { counts in
                let current = counts[network, default: 0]
                guard current < configuration.maxConnectionsPerNetwork else { return false }
                counts[network] = current + 1
                return true
            }
            guard admitted else {
                counterStorage.open.wrappingSubtract(1, ordering: .relaxed)
                counterStorage.connectionsRejected.increment()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CloseOnActiveHandler())
                }
            }
            channel.closeFuture.whenComplete { [self] _ in
                perNetwork.withLock { counts in
                    let left = counts[network, default: 1] - 1
                    counts[network] = left > 0 ? left : nil
                }
            }
        }
        counterStorage.connectionsAccepted.increment()
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            connections.withLock { _ = $0.removeValue(forKey: id) }
            counterStorage.open.wrappingSubtract(1, ordering: .relaxed)
        }
        return channel.eventLoop.makeCompletedFuture { [responder, configuration, counterStorage, transfers, logger] in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(BackPressureHandler())
            try pipeline.addHandler(IdleStateHandler(readTimeout: configuration.idleTimeAmount))
            try pipeline.addHandler(ByteToMessageHandler(
                TCPFrameDecoder(), maximumBufferSize: 2 + TCPFrameDecoder.maximumMessageLength))
            try pipeline.addHandler(TCPQueryHandler(responder: responder, counters: counterStorage,
                                                    transfers: transfers, logger: logger))
        }
    }
}

extension TCPServer {
    /// The network a client counts in for the per-network cap.
    static func network(_ client: ClientAddress) -> ClientAddress {
        ClientAddress(isIPv6: client.isIPv6, bits: client.prefix(v4: 24, v6: 56))
    }
}

/// Closes a connection as soon as it is active: a connection cap was reached.
private final class CloseOnActiveHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }
}
