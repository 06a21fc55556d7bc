// LMTPSession.swift -- the server side of one LMTP connection (RFC 2033), without I/O.

/// The LMTP protocol state of one connection (RFC 2033, on RFC 5321's command syntax).
///
/// Bytes go in through ``receive(_:)``; replies, deliveries and a close come out as
/// events. The session splits lines itself, so pipelined commands (RFC 2920) are answered
/// in order: after the end of DATA it emits `.deliver` and processes no further input
/// until ``finishDelivery(_:)`` supplies the outcome, which yields one reply per accepted
/// recipient (RFC 2033 §4.2) followed by the replies to whatever was pipelined behind.
///
/// ```
/// start ──LHLO──▶ ready ──MAIL──▶ mail ──RCPT──▶ recipients ──DATA──▶ data ──"."──▶ delivering
///   ▲               ▲                                                                   │
///   └──── RSET, LHLO (any state but data) ──────────────────────── finishDelivery ◀─────┘
/// ```
///
/// Memory is bounded: a command line longer than ``Configuration/maxCommandLineByteCount``
/// is refused, the message body stops growing at ``Configuration/maxMessageByteCount``
/// (the rest is read and dropped, and every recipient gets 552), and lines of the body are
/// taken in pieces of at most ``Configuration/maxBufferedByteCount``.
public struct LMTPSession {
    /// Limits and names; defaults suit a trap MX.
    public struct Configuration: Sendable {
        /// Our name in the greeting and the LHLO reply.
        public var hostname: String
        /// Largest message accepted (advertised with SIZE, RFC 1870).
        public var maxMessageByteCount: Int
        /// Recipients per transaction (RFC 5321 §4.5.3.1.8 asks for at least 100).
        public var maxRecipientCount: Int
        /// Longest command line, CRLF included (RFC 5321 §4.5.3.1.4 says 512; parameters
        /// of extensions make room for more).
        public var maxCommandLineByteCount: Int
        /// Unprocessed input kept at most (a body line longer than this is taken in pieces).
        public var maxBufferedByteCount: Int
        /// Syntax and sequence errors before the connection is closed with 421.
        public var maxErrorCount: Int

        public init(hostname: String = "localhost", maxMessageByteCount: Int = MessageLimits.maxMessageByteCount,
                    maxRecipientCount: Int = 1000, maxCommandLineByteCount: Int = 2048,
                    maxBufferedByteCount: Int = 64 << 10, maxErrorCount: Int = 20) {
            self.hostname = hostname
            self.maxMessageByteCount = maxMessageByteCount
            self.maxRecipientCount = maxRecipientCount
            self.maxCommandLineByteCount = maxCommandLineByteCount
            self.maxBufferedByteCount = maxBufferedByteCount
            self.maxErrorCount = maxErrorCount
        }
    }

    /// A complete message with its envelope, ready to be ingested.
    public struct Delivery: Sendable, Equatable {
        /// The envelope sender (`MAIL FROM`); empty for the null sender `<>`.
        public var sender: String
        /// The accepted recipients, in `RCPT TO` order.
        public var recipients: [String]
        /// The message as received, dot-unstuffed, LF line endings, with a `Return-Path:`
        /// header carrying the envelope sender prepended when the message had none.
        public var message: [UInt8]
    }

    /// What became of a delivered message; the same status is given for every recipient.
    public enum DeliveryStatus: Sendable, Equatable {
        /// Stored (or deliberately not stored): `250 2.0.0`.
        case accepted(String)
        /// Try again later (the store is busy or unavailable): `451 4.3.0`.
        case temporaryFailure(String)
        /// Never accepted (nothing can keep it): `554 5.6.0`.
        case permanentFailure(String)
    }

    public enum Event: Sendable, Equatable {
        /// Write this reply (one or more CRLF-terminated lines).
        case reply(String)
        /// Ingest this message, then call ``finishDelivery(_:)``.
        case deliver(Delivery)
        /// Close the connection after writing the replies before it.
        case close
    }

    private enum State {
        case start, ready, mail, recipients, data, delivering, closed
    }

    public let configuration: Configuration
    private var state = State.start
    private var sender = ""
    private var recipients: [String] = []
    private var body: [UInt8] = []
    private var bodyTooLarge = false
    private var bodyAtLineStart = true
    private var pending: [UInt8] = []
    private var pendingStart = 0
    private var discardingLongLine = false
    private var errorCount = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The 220 greeting sent when the connection opens (RFC 5321 §4.3.1).
    public var greeting: String { "220 \(configuration.hostname) LMTP rbld ready\r\n" }

    /// True while a delivery is outstanding: no input is processed until it finishes.
    public var isDelivering: Bool { state == .delivering }

    /// True once QUIT or an error closed the session.
    public var isClosed: Bool { state == .closed }

    /// Unprocessed input held (pipelined commands behind a delivery).
    public var bufferedByteCount: Int { pending.count - pendingStart }

    /// Takes bytes from the connection and returns what to do, in order.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> [Event] {
        guard state != .closed else { return [] }
        pending.append(contentsOf: bytes)
        return process()
    }

    /// Reports the outcome of the outstanding `.deliver`: one reply per recipient, then
    /// the events of any input pipelined behind the message.
    public mutating func finishDelivery(_ status: DeliveryStatus) -> [Event] {
        guard state == .delivering else { return [] }
        var replies = ""
        for recipient in recipients {
            switch status {
            case .accepted(let text): replies += "250 2.0.0 <\(recipient)> \(text)\r\n"
            case .temporaryFailure(let text): replies += "451 4.3.0 <\(recipient)> \(text)\r\n"
            case .permanentFailure(let text): replies += "554 5.6.0 <\(recipient)> \(text)\r\n"
            }
        }
        resetTransaction()
        state = .ready
        return [.reply(replies)] + process()
    }

    /// Closes the session on an idle timeout: the 421 reply to send (RFC 5321 §4.5.3.2).
    public mutating func timeout() -> [Event] {
        guard state != .closed else { return [] }
        state = .closed
        return [.reply("421 4.4.2 \(configuration.hostname) idle timeout, closing connection\r\n"), .close]
    }

    // MARK: - Input

    private mutating func process() -> [Event] {
        var events: [Event] = []
        while state != .delivering, state != .closed {
            guard let (lineEnd, next) = nextLineEnd() else {
                takeLongBodyPiece()
                break
            }
            var contentEnd = lineEnd
            if contentEnd > pendingStart, pending[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let start = pendingStart
            pendingStart = next
            if discardingLongLine {
                discardingLongLine = false
                events.append(contentsOf: error("500 5.5.2 line too long"))
                continue
            }
            if state == .data {
                if let delivery = bodyLine(start, contentEnd) { events.append(delivery) }
            } else {
                events.append(contentsOf: command(Array(pending[start..<contentEnd])))
            }
        }
        compactInput()
        return events
    }

    /// The offset of the next LF and the offset after it, or nil (with an over-long
    /// command line refused on the way).
    private mutating func nextLineEnd() -> (Int, Int)? {
        var index = pendingStart
        while index < pending.count {
            if pending[index] == 0x0A { return (index, index + 1) }
            index += 1
        }
        return nil
    }

    /// Handles a partial line that outgrew the buffer: body text is taken as it is, a
    /// command line is refused and skipped up to its end.
    private mutating func takeLongBodyPiece() {
        let count = pending.count - pendingStart
        guard count > configuration.maxBufferedByteCount else { return }
        if state == .data {
            var start = pendingStart
            if bodyAtLineStart, pending[start] == UInt8(ascii: ".") { start += 1 }  // RFC 5321 §4.5.2
            appendBody(pending[start..<pending.count], endsLine: false)
        } else {
            discardingLongLine = true
        }
        pendingStart = pending.count
    }

    private mutating func compactInput() {
        if pendingStart == pending.count {
            pending.removeAll(keepingCapacity: pending.capacity <= 1 << 20)
            pendingStart = 0
        } else if pendingStart > 64 << 10 {
            pending.removeSubrange(0..<pendingStart)
            pendingStart = 0
        }
    }

    // MARK: - DATA

    /// One body line (without its line ending): the end mark, or text to keep.
    private mutating func bodyLine(_ start: Int, _ end: Int) -> Event? {
        if bodyAtLineStart, end - start == 1, pending[start] == UInt8(ascii: ".") {
            return endOfData()
        }
        var from = start
        if bodyAtLineStart, from < end, pending[from] == UInt8(ascii: ".") { from += 1 }  // dot-unstuffing
        appendBody(pending[from..<end], endsLine: true)
        return nil
    }

    private mutating func appendBody(_ bytes: ArraySlice<UInt8>, endsLine: Bool) {
        bodyAtLineStart = endsLine
        guard !bodyTooLarge else { return }
        if body.count + bytes.count + 1 > configuration.maxMessageByteCount {
            bodyTooLarge = true
            body = []
            return
        }
        body.append(contentsOf: bytes)
        if endsLine { body.append(0x0A) }
    }

    private mutating func endOfData() -> Event {
        bodyAtLineStart = true
        if bodyTooLarge {
            var replies = ""
            for recipient in recipients {
                replies += "552 5.3.4 <\(recipient)> message exceeds the size limit of \(configuration.maxMessageByteCount) bytes\r\n"
            }
            resetTransaction()
            state = .ready
            return .reply(replies)
        }
        var message = body
        if !HeaderScan.hasField(message, named: "return-path") {
            message = Array("Return-Path: <\(sender)>\n".utf8) + message
        }
        body = []
        state = .delivering
        return .deliver(Delivery(sender: sender, recipients: recipients, message: message))
    }

    private mutating func resetTransaction() {
        sender = ""
        recipients = []
        body = []
        bodyTooLarge = false
        bodyAtLineStart = true
    }

    // MARK: - Commands

    private mutating func command(_ line: [UInt8]) -> [Event] {
        if line.count + 2 > configuration.maxCommandLineByteCount {
            return error("500 5.5.2 line too long")
        }
        let text = String(decoding: line, as: UTF8.self)
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let argument = text[verbEnd...].drop { $0 == " " }
        switch verb {
        case "LHLO":
            guard !argument.isEmpty else { return error("501 5.5.4 LHLO needs a host name") }
            resetTransaction()
            state = .ready
            let name = configuration.hostname
            return [.reply("250-\(name)\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
                           + "250 SIZE \(configuration.maxMessageByteCount)\r\n")]
        case "HELO", "EHLO":
            return error("500 5.5.1 this is LMTP (RFC 2033): use LHLO")
        case "MAIL":
            return mail(argument)
        case "RCPT":
            return rcpt(argument)
        case "DATA":
            guard argument.isEmpty else { return error("501 5.5.4 DATA takes no parameters") }
            switch state {
            case .recipients:
                state = .data
                body = []
                body.reserveCapacity(16 << 10)
                return [.reply("354 2.0.0 send the message, end with <CRLF>.<CRLF>\r\n")]
            case .mail:
                return error("503 5.5.1 no valid recipients")
            default:
                return error("503 5.5.1 MAIL first")
            }
        case "RSET":
            resetTransaction()
            if state != .start { state = .ready }
            return [.reply("250 2.0.0 reset\r\n")]
        case "NOOP":
            return [.reply("250 2.0.0 OK\r\n")]
        case "QUIT":
            state = .closed
            return [.reply("221 2.0.0 \(configuration.hostname) closing connection\r\n"), .close]
        case "VRFY":
            return [.reply("252 2.5.2 cannot verify, but will accept\r\n")]
        case "HELP":
            return [.reply("214 2.0.0 LHLO MAIL RCPT DATA RSET NOOP QUIT (RFC 2033)\r\n")]
        default:
            return error("500 5.5.2 command not recognized")
        }
    }

    private mutating func mail(_ argument: Substring) -> [Event] {
        guard state != .start else { return error("503 5.5.1 send LHLO first") }
        guard state == .ready else { return error("503 5.5.1 nested MAIL command") }
        guard argument.uppercased().hasPrefix("FROM:") else { return error("501 5.5.4 syntax: MAIL FROM:<address>") }
        guard let (path, parameters) = Self.path(argument.dropFirst(5)) else {
            return error("501 5.1.7 syntax: MAIL FROM:<address>")
        }
        for parameter in parameters {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            if parts.first?.uppercased() == "SIZE", parts.count == 2 {
                guard let size = Int(parts[1]) else { return error("501 5.5.4 bad SIZE parameter") }
                if size > configuration.maxMessageByteCount {
                    return [.reply("552 5.3.4 message size exceeds the limit of \(configuration.maxMessageByteCount) bytes\r\n")]
                }
            }
        }
        sender = path
        state = .mail
        return [.reply("250 2.1.0 sender <\(path)> OK\r\n")]
    }

    private mutating func rcpt(_ argument: Substring) -> [Event] {
        guard state == .mail || state == .recipients else { return error("503 5.5.1 MAIL first") }
        guard argument.uppercased().hasPrefix("TO:") else { return error("501 5.5.4 syntax: RCPT TO:<address>") }
        guard let (path, _) = Self.path(argument.dropFirst(3)), !path.isEmpty else {
            return error("501 5.1.3 syntax: RCPT TO:<address>")
        }
        guard recipients.count < configuration.maxRecipientCount else {
            return [.reply("452 4.5.3 too many recipients\r\n")]
        }
        recipients.append(path)
        state = .recipients
        return [.reply("250 2.1.5 recipient <\(path)> OK\r\n")]
    }

    /// A reply to a bad command; after too many, 421 and close.
    private mutating func error(_ reply: String) -> [Event] {
        errorCount += 1
        if errorCount > configuration.maxErrorCount {
            state = .closed
            return [.reply(reply + "\r\n"), .reply("421 4.7.0 \(configuration.hostname) too many errors, closing connection\r\n"), .close]
        }
        return [.reply(reply + "\r\n")]
    }

    /// `<path> params...` of MAIL/RCPT (RFC 5321 §4.1.2): the address without brackets and
    /// without a source route (`@a,@b:`), and the ESMTP parameters. nil: no `<...>`.
    static func path(_ text: Substring) -> (String, [Substring])? {
        let trimmed = text.drop { $0 == " " }
        guard trimmed.first == "<", let close = trimmed.firstIndex(of: ">") else { return nil }
        var address = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
        if address.first == "@", let colon = address.firstIndex(of: ":") {
            address = address[address.index(after: colon)...]
        }
        let parameters = trimmed[trimmed.index(after: close)...].split(separator: " ")
        return (String(address), parameters)
    }
}
