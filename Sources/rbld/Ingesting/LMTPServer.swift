// LMTPServer.swift -- the LMTP listener (RFC 2033) for a trap MX's `lmtp:` transport.

import DNSBL
import Ingest
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Listens for LMTP on loopback or a trap MX's private address and hands each message to
/// a delivery function (normally ``LMTPIngestWorker``).
///
/// Each connection gets `IdleStateHandler ▶ LMTPHandler`; at most ``maxConnections`` are
/// open at once (more are closed on accept). ``stop()`` closes the listener, lets the
/// deliveries in flight finish (their replies are written), then closes the connections.
final class LMTPServer: Sendable {
    struct Options: Sendable {
        var session = LMTPSession.Configuration()
        /// Seconds without input before a connection gets 421 (RFC 5321 §4.5.3.2 suggests minutes).
        var idleTimeout: Duration = .seconds(300)
        var maxConnections = 64
    }

    private let address: ListenAddress
    private let options: Options
    private let deliver: LMTPDeliver
    private let group: any EventLoopGroup
    private let logger: Logger
    private let listener = Mutex<(any Channel)?>(nil)
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let open = Atomic<Int>(0)
    let inFlight = LMTPInFlight()

    init(address: ListenAddress, options: Options = Options(), group: (any EventLoopGroup)? = nil,
         logger: Logger, deliver: @escaping LMTPDeliver) {
        self.address = address
        self.options = options
        self.deliver = deliver
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.logger = logger
    }

    /// Binds the address and starts accepting connections.
    ///
    /// - Throws: the bind error (port in use, address not local).
    func start() async throws {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in admit(channel) }
        if address.family == .ipv6 {
            bootstrap = bootstrap.serverChannelOption(
                .socket(SocketOptionLevel(IPPROTO_IPV6), SocketOptionName(IPV6_V6ONLY)), value: 1)
        }
        let channel = try await bootstrap.bind(to: SocketAddress(ipAddress: address.host, port: Int(address.port))).get()
        listener.withLock { $0 = channel }
        logger.notice("LMTP listener started", metadata: ["address": "\(boundAddress?.description ?? "?")"])
    }

    /// The bound address (with the kernel's port for port 0), nil before start.
    var boundAddress: ListenAddress? {
        guard let port = listener.withLock({ $0?.localAddress?.port }) else { return nil }
        return address.with(port: UInt16(clamping: port))
    }

    /// Stops accepting, waits up to `grace` for deliveries in flight, closes every connection.
    func stop(grace: Duration = .seconds(30)) async {
        let channel = listener.withLock { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await channel?.close()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: grace)
        while inFlight.value > 0, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let all = connections.withLock { Array($0.values) }
        for connection in all { try? await connection.close() }
    }

    private func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard count <= options.maxConnections else {
            open.wrappingSubtract(1, ordering: .relaxed)
            logger.warning("LMTP connection refused: \(options.maxConnections) open already")
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(BusyHandler())
            }
        }
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            connections.withLock { _ = $0.removeValue(forKey: id) }
            open.wrappingSubtract(1, ordering: .relaxed)
        }
        return channel.eventLoop.makeCompletedFuture { [options, deliver, inFlight] in
            let pipeline = channel.pipeline.syncOperations
            let (seconds, attoseconds) = options.idleTimeout.components
            let idle = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
            try pipeline.addHandler(LMTPHandler(configuration: options.session, deliver: deliver, inFlight: inFlight))
        }
    }
}

/// Answers 421 and closes: the connection cap was reached (RFC 5321 §3.1).
private final class BusyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString("421 4.3.2 too many connections, try again later\r\n")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }
}
