// TCPQueryHandler.swift -- answers the DNS messages of one TCP connection, in order.

import Logging
import NIOCore

/// Answers each framed query of one connection and writes the response with its
/// two-byte length prefix (RFC 7766 §8).
///
/// The connection owns one responder `Session` and one 65,535-byte output buffer, both
/// made when the handler is added and reused for every query. Responses are written in
/// query order and flushed once per read burst, so pipelined queries (RFC 7766 §6.2.1.1)
/// are answered in order without a flush each.
///
/// A zone transfer request (AXFR, IXFR) goes to ``ZoneTransfers`` when the server offers
/// transfers. Its messages are made one at a time, only while the channel is writable, so
/// a slow secondary holds the connection's buffer and NIO's write watermark, never the
/// zone. Queries that arrive meanwhile wait (at most ``maximumQueuedQueries``) and are
/// answered after it. A secondary that reads nothing for a whole idle timeout is cut off.
final class TCPQueryHandler<R: QueryResponder>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Queries held while a transfer streams; a client sending more is closed.
    static var maximumQueuedQueries: Int { 64 }

    private let responder: R
    private let counters: TCPCounterStorage
    private let transfers: ZoneTransfers?
    private let logger: Logger
    private var session: R.Session
    private var output: UnsafeMutableRawBufferPointer?
    /// The peer's address, for the client policy (TCP is never rate-limited).
    private var client: ClientAddress?

    private struct Transfer {
        var session: ZoneTransferSession
        var outcome: TransferOutcome
        var client: String
        var started: ContinuousClock.Instant
        var bytes = 0
        /// Messages written since the last idle event: none means the secondary stalled.
        var progressed = true
    }

    private var transfer: Transfer?
    private var queued: [ByteBuffer] = []
    private var closeWhenDone = false

    init(responder: R, counters: TCPCounterStorage, transfers: ZoneTransfers? = nil,
         logger: Logger = Logger(label: "rbld.tcp")) {
        self.responder = responder
        self.counters = counters
        self.transfers = transfers
        self.logger = logger
        session = responder.makeSession()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        output = .allocate(byteCount: TCPFrameDecoder.maximumMessageLength, alignment: 16)
        client = ClientAddress(context.channel.remoteAddress)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        output?.deallocate()
        output = nil
        if let transfer {
            counters.transfersAborted.increment()
            logger.warning("zone transfer cut off", metadata: [
                "zone": "\(transfer.session.zone)", "client": "\(transfer.client)",
                "records": "\(transfer.session.recordCount)", "bytes": "\(transfer.bytes)"])
            self.transfer = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let query = unwrapInboundIn(data)
        counters.received.increment()
        if transfer != nil {
            guard queued.count < Self.maximumQueuedQueries else {
                context.close(promise: nil)
                return
            }
            queued.append(query)
            return
        }
        answer(query, context: context)
    }

    private func answer(_ query: ByteBuffer, context: ChannelHandlerContext) {
        guard let output else { return }
        if let transfers, query.withUnsafeReadableBytes(ZoneTransfers.isTransferRequest) {
            startTransfer(query, transfers: transfers, context: context)
            return
        }
        responder.beginBatch(&session)
        let written = query.withUnsafeReadableBytes { bytes in
            responder.respond(to: bytes, into: output, transport: .tcp, client: client, session: &session)
        }
        guard written > 0, written <= output.count else {
            counters.dropped.increment()
            return
        }
        write(UnsafeRawBufferPointer(rebasing: output[..<written]), context: context)
        counters.answered.increment()
    }

    private func write(_ message: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        var response = context.channel.allocator.buffer(capacity: 2 + message.count)
        response.writeInteger(UInt16(message.count))  // fits: every message is at most 65,535 bytes
        response.writeBytes(message)
        context.write(wrapOutboundOut(response), promise: nil)
    }

    // MARK: - Transfers

    private func startTransfer(_ query: ByteBuffer, transfers: ZoneTransfers, context: ChannelHandlerContext) {
        let client = TransferClient(context.channel.remoteAddress)
        let start = query.withUnsafeReadableBytes { transfers.start(query: $0, client: client) }
        switch start {
        case .notATransfer:
            break
        case .reply(let bytes, let outcome):
            bytes.withUnsafeBytes { write($0, context: context) }
            counters.answered.increment()
            if outcome.refusal != nil {
                counters.transfersRefused.increment()
                logger.notice("zone transfer refused", metadata: [
                    "request": "\(outcome)", "client": "\(client)", "rcode": "\(outcome.rcode.rawValue)"])
            } else {
                counters.transfersCompleted.increment()
                logger.info("zone transfer: secondary is up to date", metadata: ["request": "\(outcome)", "client": "\(client)"])
            }
        case .stream(let session, let outcome):
            transfer = Transfer(session: session, outcome: outcome, client: client.description, started: .now)
            pump(context: context)
        }
    }

    /// Writes transfer messages while the channel takes them; resumes on writability.
    private func pump(context: ChannelHandlerContext) {
        guard let output else { return }
        while var current = transfer, context.channel.isWritable {
            let length = current.session.nextMessage(into: output)
            if length == 0 {
                transfer = nil
                counters.transfersCompleted.increment()
                counters.answered.increment()
                logger.info("zone transfer sent", metadata: [
                    "request": "\(current.outcome)", "client": "\(current.client)", "serial": "\(current.session.serial)",
                    "records": "\(current.session.recordCount)", "messages": "\(current.session.messageCount)",
                    "bytes": "\(current.bytes)", "duration": "\(ContinuousClock.now - current.started)"])
                context.flush()
                finishTransfer(context: context)
                return
            }
            write(UnsafeRawBufferPointer(rebasing: output[..<length]), context: context)
            current.bytes += 2 + length
            current.progressed = true
            transfer = current
        }
        context.flush()
    }

    /// Answers the queries that waited, then closes if the client had half-closed.
    private func finishTransfer(context: ChannelHandlerContext) {
        while transfer == nil, !queued.isEmpty {
            answer(queued.removeFirst(), context: context)
        }
        if transfer == nil, closeWhenDone { closeAfterWrites(context: context) }
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, transfer != nil { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Connection events

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case IdleStateHandler.IdleStateEvent.read:
            if var current = transfer {
                // A transfer reads nothing from the client; it is idle only when it also
                // could not write anything since the last event.
                guard !current.progressed else {
                    current.progressed = false
                    transfer = current
                    return
                }
            }
            // RFC 7766 §6.2.3: the server may close an idle connection.
            counters.idleClosed.increment()
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            // The client sent all its queries (half-close): finish writing, then close.
            if transfer != nil {
                closeWhenDone = true
            } else {
                closeAfterWrites(context: context)
            }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func closeAfterWrites(context: ChannelHandlerContext) {
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: done)
        let channel = context.channel
        done.futureResult.whenComplete { _ in channel.close(promise: nil) }
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

extension TransferClient {
    /// The client as transfer access lists see it: its address read from the socket
    /// address as for every query, and NIO's text of it for the log.
    init(_ address: SocketAddress?) {
        let description = address?.ipAddress ?? "unknown"
        guard let parsed = ClientAddress(address) else {
            self.init(address: 0, isIPv6: true, description: description)  // matches no access list
            return
        }
        self.init(address: parsed.bits, isIPv6: parsed.isIPv6, description: description)
    }
}
