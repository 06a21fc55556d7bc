// LMTPSessionTests.swift -- the LMTP protocol state machine (RFC 2033), without sockets.

import Testing
@testable import Ingest

@Suite struct LMTPSessionTests {
    /// Feeds text and collects replies; deliveries are answered with `status`.
    static func converse(_ input: String, status: LMTPSession.DeliveryStatus = .accepted("ok"),
                         configuration: LMTPSession.Configuration = .init(hostname: "trap.test"), chunk: Int = .max)
        -> (replies: [String], deliveries: [LMTPSession.Delivery], closed: Bool) {
        var session = LMTPSession(configuration: configuration)
        var replies: [String] = []
        var deliveries: [LMTPSession.Delivery] = []
        var closed = false
        let bytes = Array(input.utf8)
        var offset = 0
        var events: [LMTPSession.Event] = []
        var rounds = 0
        while offset < bytes.count || !events.isEmpty, rounds < 100_000 {
            if events.isEmpty {
                let end = min(bytes.count, offset + min(chunk, bytes.count))
                events = session.receive(bytes[offset..<end])
                offset = end
                continue
            }
            rounds += 1
            var next: [LMTPSession.Event] = []
            for event in events {
                switch event {
                case .reply(let text):
                    replies += text.split(separator: "\r\n").map(String.init)
                case .deliver(let delivery):
                    deliveries.append(delivery)
                    next += session.finishDelivery(status)
                case .close:
                    closed = true
                }
            }
            events = next
        }
        return (replies, deliveries, closed)
    }

    static let message = "From: a@example.org\r\nSubject: hi\r\n\r\nline one\r\n..leading dot\r\n.\r\n"

    @Test func aPipelinedSessionWithTwoRecipientsGetsOneReplyPerRecipient() {
        let result = Self.converse("LHLO mx.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@trap.test>\r\nRCPT TO:<b@trap.test>\r\nDATA\r\n"
                                   + Self.message + "QUIT\r\n")
        #expect(result.replies == [
            "250-trap.test", "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 SIZE \(MessageLimits.maxMessageByteCount)",
            "250 2.1.0 sender <> OK", "250 2.1.5 recipient <a@trap.test> OK", "250 2.1.5 recipient <b@trap.test> OK",
            "354 2.0.0 send the message, end with <CRLF>.<CRLF>",
            "250 2.0.0 <a@trap.test> ok", "250 2.0.0 <b@trap.test> ok",
            "221 2.0.0 trap.test closing connection",
        ])
        #expect(result.closed)
        let delivery = result.deliveries.first
        #expect(delivery?.sender == "")
        #expect(delivery?.recipients == ["a@trap.test", "b@trap.test"])
        // Dot-unstuffed, LF endings, Return-Path from the envelope's null sender.
        #expect(String(decoding: delivery?.message ?? [], as: UTF8.self)
                == "Return-Path: <>\nFrom: a@example.org\nSubject: hi\n\nline one\n.leading dot\n")
    }

    @Test func anExistingReturnPathIsKept() {
        let result = Self.converse("LHLO x\r\nMAIL FROM:<bounce@example.org>\r\nRCPT TO:<t@trap.test>\r\nDATA\r\n"
                                   + "Return-Path: <orig@example.org>\r\nSubject: s\r\n\r\nb\r\n.\r\n")
        #expect(String(decoding: result.deliveries.first?.message ?? [], as: UTF8.self)
                == "Return-Path: <orig@example.org>\nSubject: s\n\nb\n")
    }

    @Test func aStoreFailureGives451ForEveryRecipient() {
        let result = Self.converse("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@t>\r\nRCPT TO:<b@t>\r\nDATA\r\n" + Self.message,
                                   status: .temporaryFailure("store unavailable"))
        #expect(result.replies.suffix(2) == ["451 4.3.0 <a@t> store unavailable", "451 4.3.0 <b@t> store unavailable"])
    }

    @Test func aSecondTransactionFollowsTheFirst() {
        let transaction = "MAIL FROM:<x@example.org>\r\nRCPT TO:<a@t>\r\nDATA\r\n" + Self.message
        let result = Self.converse("LHLO x\r\n" + transaction + transaction + "QUIT\r\n")
        #expect(result.deliveries.count == 2)
        #expect(result.deliveries[1].sender == "x@example.org")
    }

    @Test(arguments: [
        ("MAIL before LHLO", "MAIL FROM:<>\r\n", "503 5.5.1 send LHLO first"),
        ("HELO is SMTP", "HELO x\r\n", "500 5.5.1 this is LMTP (RFC 2033): use LHLO"),
        ("RCPT before MAIL", "LHLO x\r\nRCPT TO:<a@t>\r\n", "503 5.5.1 MAIL first"),
        ("DATA without recipients", "LHLO x\r\nMAIL FROM:<>\r\nDATA\r\n", "503 5.5.1 no valid recipients"),
        ("nested MAIL", "LHLO x\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\n", "503 5.5.1 nested MAIL command"),
        ("no brackets", "LHLO x\r\nMAIL FROM:a@b\r\n", "501 5.1.7 syntax: MAIL FROM:<address>"),
        ("empty recipient", "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\n", "501 5.1.3 syntax: RCPT TO:<address>"),
        ("unknown command", "LHLO x\r\nBDAT 10\r\n", "500 5.5.2 command not recognized"),
        ("SIZE too big", "LHLO x\r\nMAIL FROM:<> SIZE=999999999999\r\n", "552 5.3.4 message size exceeds the limit of \(MessageLimits.maxMessageByteCount) bytes"),
        ("NOOP", "NOOP\r\n", "250 2.0.0 OK"),
        ("RSET", "LHLO x\r\nMAIL FROM:<>\r\nRSET\r\n", "250 2.0.0 reset"),
        ("lower case", "lhlo x\r\nmail from:<>\r\n", "250 2.1.0 sender <> OK"),
        ("bare LF", "LHLO x\nMAIL FROM:<>\n", "250 2.1.0 sender <> OK"),
    ])
    func commandReplies(label: String, input: String, expected: String) {
        #expect(Self.converse(input).replies.last == expected, "\(label)")
    }

    @Test func rsetForgetsTheTransaction() {
        let result = Self.converse("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@t>\r\nRSET\r\nDATA\r\n")
        #expect(result.replies.last == "503 5.5.1 MAIL first")
    }

    @Test func anOversizedMessageGets552PerRecipientAndTheSessionGoesOn() {
        let configuration = LMTPSession.Configuration(hostname: "t", maxMessageByteCount: 100)
        let body = String(repeating: "0123456789\r\n", count: 20)
        let result = Self.converse("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@t>\r\nRCPT TO:<b@t>\r\nDATA\r\nSubject: big\r\n\r\n" + body + ".\r\nNOOP\r\n",
                                   configuration: configuration)
        #expect(result.deliveries.isEmpty)
        #expect(Array(result.replies.suffix(3)) == [
            "552 5.3.4 <a@t> message exceeds the size limit of 100 bytes",
            "552 5.3.4 <b@t> message exceeds the size limit of 100 bytes",
            "250 2.0.0 OK",
        ])
    }

    @Test func aLongBodyLineIsTakenInPiecesAndAnOverlongCommandIsRefused() {
        var configuration = LMTPSession.Configuration(hostname: "t")
        configuration.maxBufferedByteCount = 1000
        let long = String(repeating: "x", count: 5000)
        let result = Self.converse("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@t>\r\nDATA\r\nSubject: s\r\n\r\n." + long + "\r\n.\r\n"
                                   + "NOOP " + long + "\r\nNOOP\r\n", configuration: configuration, chunk: 100)
        #expect(String(decoding: result.deliveries.first?.message ?? [], as: UTF8.self) == "Return-Path: <>\nSubject: s\n\n" + long + "\n")
        #expect(Array(result.replies.suffix(2)) == ["500 5.5.2 line too long", "250 2.0.0 OK"])
    }

    @Test func bytesArrivingOneAtATimeGiveTheSameConversation() {
        let input = Array(("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@t>\r\nDATA\r\n" + Self.message + "QUIT\r\n").utf8)
        var session = LMTPSession(configuration: .init(hostname: "trap.test"))
        var replies = 0
        var delivered = 0
        for byte in input {
            for event in session.receive([byte]) {
                switch event {
                case .reply: replies += 1
                case .deliver:
                    delivered += 1
                    replies += session.finishDelivery(.accepted("ok")).count
                case .close: break
                }
            }
        }
        #expect(delivered == 1)
        #expect(session.isClosed)
        #expect(replies == 6)  // LHLO, MAIL, RCPT, DATA (354), the per-recipient 250s, QUIT
    }

    @Test func tooManyErrorsCloseTheConnection() {
        let result = Self.converse(String(repeating: "WHAT\r\n", count: 30), configuration: .init(hostname: "t", maxErrorCount: 3))
        #expect(result.closed)
        #expect(result.replies.last == "421 4.7.0 t too many errors, closing connection")
        #expect(result.replies.count == 5)
    }

    @Test func anIdleTimeoutSays421() {
        var session = LMTPSession(configuration: .init(hostname: "t"))
        #expect(session.timeout() == [.reply("421 4.4.2 t idle timeout, closing connection\r\n"), .close])
        #expect(session.isClosed)
    }
}
