// TCPFrameDecoder.swift -- splits a TCP byte stream into DNS messages (RFC 7766 §8).

import NIOCore

/// Decodes the two-byte length prefix of DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8).
///
/// ```
///   0                   1
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
///  +-------------------------------+
///  |     MESSAGE LENGTH (octets)   |   network order; the prefix itself not counted
///  +-------------------------------+
///  /        DNS MESSAGE ...        /
///  +-------------------------------+
/// ```
///
/// The prefix caps a message at 65,535 bytes, so at most 65,537 bytes are ever buffered
/// for one message. A zero length can carry no header: it is a framing error that
/// closes the connection. Queries split over many segments wait for their last byte;
/// several queries in one segment are emitted in order (pipelining, RFC 7766 §6.2.1.1).
struct TCPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Largest DNS message over TCP: the maximum of the 16-bit length prefix.
    static let maximumMessageLength = Int(UInt16.max)

    /// A length prefix of zero.
    struct EmptyMessageError: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else {
            return .needMoreData
        }
        guard length > 0 else { throw EmptyMessageError() }
        guard buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        let message = buffer.readSlice(length: Int(length))!    // availability checked above
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        // A partial message at EOF is discarded: there is no one left to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
