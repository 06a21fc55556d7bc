// MetricsEndpoint.swift -- the HTTP listener Prometheus scrapes: GET /metrics, and GET /healthz.

import DNSBL
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// Serves the Prometheus text exposition format (version 0.0.4) at `GET /metrics` and, when
/// given a health check, its JSON at `GET /healthz` (200 healthy, 503 failing); every other
/// path is 404, other methods 405.
///
/// A scrape first runs `collect` (which copies counted-elsewhere values into the registry),
/// then writes the registry. Connections are kept alive between scrapes, closed after
/// ``idleTimeout`` without a request; at most ``maxConnections`` are open at once. Bind it
/// to loopback or a management network: it has no authentication.
///
/// ```swift
/// let endpoint = MetricsEndpoint(address: try ListenAddress(parsing: "127.0.0.1:9153"),
///                                registry: registry, logger: logger) { metrics.collect() }
/// let bound = try await endpoint.start()   // port 0: the kernel's choice
/// await endpoint.stop()
/// ```
final class MetricsEndpoint: Sendable {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    static let idleTimeout = TimeAmount.seconds(120)
    static let maxConnections = 16

    private let address: ListenAddress
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let collect: @Sendable () -> Void
    private let health: (@Sendable () -> HealthAnswer)?
    private let group: any EventLoopGroup
    private let listener = Mutex<(any Channel)?>(nil)
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// Makes an endpoint; nothing is opened until ``start()``.
    ///
    /// - Parameters:
    ///   - collect: runs before each scrape, to refresh values read on demand.
    ///   - group: the event loops; nil for NIO's shared singleton group.
    ///   - health: answers `/healthz` (nil: 404 there).
    init(address: ListenAddress, registry: PrometheusCollectorRegistry, logger: Logger,
         group: (any EventLoopGroup)? = nil, health: (@Sendable () -> HealthAnswer)? = nil,
         collect: @escaping @Sendable () -> Void) {
        self.address = address
        self.registry = registry
        self.logger = logger
        self.health = health
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        self.collect = collect
    }

    /// Binds the address and starts serving scrapes.
    ///
    /// - Returns: the bound address, with the kernel's port when port 0 was asked for.
    /// - Throws: `Failure` 69 naming the address when it cannot be bound.
    func start() async throws -> ListenAddress {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in admit(channel) }
        if address.family == .ipv6 {
            bootstrap = bootstrap.serverChannelOption(
                .socket(SocketOptionLevel(IPPROTO_IPV6), SocketOptionName(IPV6_V6ONLY)), value: 1)
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(to: SocketAddress(ipAddress: address.host, port: Int(address.port))).get()
        } catch {
            throw Failure(.unavailable, "metrics \(address): cannot listen: \(error)")
        }
        listener.withLock { $0 = channel }
        let bound = address.with(port: UInt16(clamping: channel.localAddress?.port ?? Int(address.port)))
        logger.notice("metrics endpoint started", metadata: ["address": "\(bound)"])
        return bound
    }

    /// Closes the listener and every open connection. Safe to call more than once.
    func stop() async {
        let channel = listener.withLock { value -> (any Channel)? in
            defer { value = nil }
            return value
        }
        try? await channel?.close()
        let open = connections.withLock { Array($0.values) }
        for connection in open { try? await connection.close() }
    }

    private func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let id = ObjectIdentifier(channel)
        let admitted = connections.withLock { open in
            guard open.count < Self.maxConnections else { return false }
            open[id] = channel
            return true
        }
        guard admitted else { return channel.close() }
        channel.closeFuture.whenComplete { [self] _ in
            connections.withLock { _ = $0.removeValue(forKey: id) }
        }
        return channel.eventLoop.makeCompletedFuture { [registry, collect, health] in
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
            try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
            try pipeline.addHandler(MetricsHTTPHandler(registry: registry, collect: collect, health: health))
        }
    }
}

/// Answers each HTTP request of one connection (NIOHTTP1 parts in, a whole response out).
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let collect: @Sendable () -> Void
    private let health: (@Sendable () -> HealthAnswer)?
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, collect: @escaping @Sendable () -> Void,
         health: (@Sendable () -> HealthAnswer)?) {
        self.registry = registry
        self.collect = collect
        self.health = health
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // a scrape has no body; anything sent is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let status: HTTPResponseStatus
        var headers = HTTPHeaders()
        var body = context.channel.allocator.buffer(capacity: 0)
        switch (path, head.method) {
        case ("/metrics", .GET):
            collect()
            body.writeBytes(registry.emitToBuffer())
            status = .ok
            headers.add(name: "Content-Type", value: MetricsEndpoint.contentType)
        case ("/healthz", .GET) where health != nil:
            // A few milliseconds of SQLite reads on this event loop: the endpoint serves
            // probes and scrapes only, never DNS.
            let answer = health?() ?? HealthAnswer(healthy: false, body: "")
            body.writeString(answer.body)
            status = answer.healthy ? .ok : .serviceUnavailable
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Cache-Control", value: "no-store")
        case ("/metrics", _),
             ("/healthz", _) where health != nil:
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET")
        default:
            status = .notFound
            body.writeString(health == nil ? "not found; metrics are at /metrics\n" : "not found; metrics are at /metrics, health at /healthz\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        }
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case IdleStateHandler.IdleStateEvent.read = event {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
