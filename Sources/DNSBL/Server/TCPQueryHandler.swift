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
    /// The peer's address, for the client policy (TCP is never rate-limited).
    private var client: ClientAddress?

    init(responder: R, counters: TCPCounterStorage) {
        self.responder = responder
        self.counters = counters
        session = responder.makeSession()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        output = .allocate(byteCount: TCPFrameDecoder.maximumMessageLength, alignment: 16)
        client = ClientAddress(context.channel.remoteAddress)
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
            responder.respond(to: bytes, into: output, transport: .tcp, client: client, session: &session)
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

extension ClientAddress {
    /// The address of a NIO socket address; nil for Unix sockets or none.
    init?(_ address: SocketAddress?) {
        guard let address, let protocolFamily = address.protocol as NIOBSDSocket.ProtocolFamily? else { return nil }
        // struct sockaddr_in: family (2 bytes), port (2), address (4, network order);
        // struct sockaddr_in6: family (2), port (2), flow info (4), address (16).
        let parsed: ClientAddress? = address.withSockAddr { pointer, length in
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: Int(length))
            if protocolFamily == .inet, bytes.count >= 8 {
                return .v4(bytes[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            if protocolFamily == .inet6, bytes.count >= 24 {
                return .v6(bytes[8..<24].reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
            }
            return nil
        }
        guard let parsed else { return nil }
        self = parsed
    }
}
