// LMTPHandler.swift -- one LMTP connection on a NIO channel: bytes to the session, events to the wire.

import Ingest
import NIOCore

/// Delivers one LMTP message and reports what became of it (runs off the event loop).
typealias LMTPDeliver = @Sendable (LMTPSession.Delivery, _ peer: String, _ eventLoop: any EventLoop)
    -> EventLoopFuture<LMTPSession.DeliveryStatus>

/// Moves bytes between a connection and its `LMTPSession` (the protocol lives there).
///
/// While a delivery is outstanding the channel stops reading (`autoRead` off), so a client
/// pipelining behind DATA cannot grow our buffers; the replies are written in order once
/// the store has answered, then reading resumes.
final class LMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: LMTPSession
    private let deliver: LMTPDeliver
    private let inFlight: LMTPInFlight
    private var active = false
    private var peer = "unknown"

    init(configuration: LMTPSession.Configuration, deliver: @escaping LMTPDeliver, inFlight: LMTPInFlight) {
        session = LMTPSession(configuration: configuration)
        self.deliver = deliver
        self.inFlight = inFlight
    }

    func channelActive(context: ChannelHandlerContext) {
        active = true
        peer = context.remoteAddress?.description ?? "unknown"
        write(session.greeting, context: context)
        context.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        handle(session.receive(buffer.readableBytesView), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // A delivery waiting on a busy store is not the client's idleness.
            if !session.isDelivering { handle(session.timeout(), context: context) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(_ events: [LMTPSession.Event], context: ChannelHandlerContext) {
        for event in events {
            switch event {
            case .reply(let text):
                write(text, context: context)
            case .close:
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                    channel.close(promise: nil)
                }
                return
            case .deliver(let delivery):
                context.flush()
                try? context.channel.syncOptions?.setOption(.autoRead, value: false)
                inFlight.begin()
                let future = deliver(delivery, peer, context.eventLoop)
                future.hop(to: context.eventLoop).assumeIsolated().whenComplete { [self] result in
                    inFlight.end()
                    let status: LMTPSession.DeliveryStatus
                    switch result {
                    case .success(let outcome): status = outcome
                    case .failure(let error): status = .temporaryFailure("not stored (\(error)); try again later")
                    }
                    let more = session.finishDelivery(status)
                    guard active else { return }
                    try? context.channel.syncOptions?.setOption(.autoRead, value: true)
                    handle(more, context: context)
                    if !session.isDelivering, !session.isClosed { context.read() }
                }
                return
            }
        }
        context.flush()
    }

    private func write(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }
}
