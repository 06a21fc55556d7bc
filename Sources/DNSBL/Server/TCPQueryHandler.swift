// TCPQueryHandler.swift -- answers the DNS messages of one TCP connection, in order.

import NIOCore

/// Answers each framed query of one connection and writes the response with its
/// two-byte length prefix (RFC 7766 §8).
///
/// The connection owns one responder `Session` and one 65,535-byte output buffer, both
/// made when the handler is added and reused for every query. Responses are written in
/// query order and flushed once per read burst, so pipelined queries (RFC 7766 §6.2.1.1)
/// are answered in order without a flush each.
final class TCPQueryHandler<R: QueryResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let responder: R
    private let counters: TCPCounterStorage
    private var session: R.Session
    private var output: UnsafeMutableRawBufferPointer?

    init(responder: R, counters: TCPCounterStorage) {
        self.responder = responder
        self.counters = counters
        session = responder.makeSession()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        output = .allocate(byteCount: TCPFrameDecoder.maximumMessageLength, alignment: 16)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        output?.deallocate()
        output = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let output else { return }
        let query = unwrapInboundIn(data)
        counters.received.increment()
        responder.beginBatch(&session)
        let written = query.withUnsafeReadableBytes { bytes in
            responder.respond(to: bytes, into: output, transport: .tcp, session: &session)
        }
        guard written > 0, written <= output.count else {
            counters.dropped.increment()
            return
        }
        var response = context.channel.allocator.buffer(capacity: 2 + written)
        response.writeInteger(UInt16(written))      // fits: written <= 65,535 checked above
        response.writeBytes(UnsafeRawBufferPointer(rebasing: output[..<written]))
        context.write(wrapOutboundOut(response), promise: nil)
        counters.answered.increment()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case IdleStateHandler.IdleStateEvent.read:
            // RFC 7766 §6.2.3: the server may close an idle connection.
            counters.idleClosed.increment()
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            // The client sent all its queries (half-close): finish writing, then close.
            let done = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: done)
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is TCPFrameDecoder.EmptyMessageError {
            counters.framingErrors.increment()
        }
        context.close(promise: nil)
    }
}
