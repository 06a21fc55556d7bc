// MessageParsingTests.swift -- headers, encodings, MIME, delivery-status and hostile inputs.

import Foundation
import Store
import Testing
import TestSupport
@testable import Ingest

@Suite struct MessageHeaderTests {
    private func parse(_ text: String) -> Message { Message(raw: Array(text.utf8)) }

    private func value(_ message: Message, _ name: String) -> String? {
        message.header.value(Array(name.utf8), in: message.bytes).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func foldingAndDuplicates() {
        let message = parse("Subject: one\n two\n\tthree\nReceived: a\nReceived: b\n  c\n\nbody\n")
        #expect(value(message, "subject") == "one two\tthree")
        let received = message.header.all(Array("received".utf8), in: message.bytes)
            .map { String(decoding: MessageHeader.unfoldedValue($0, in: message.bytes), as: UTF8.self) }
        #expect(received == ["a", "b  c"])
        #expect(message.bytes[message.header.bodyStart...].starts(with: Array("body".utf8)))
    }

    @Test(arguments: [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")])
    func lineEndings(_ name: String, _ ending: String) {
        let text = ["Return-Path: <>", "Subject: hello", " world", "", "body line", ""].joined(separator: ending)
        let message = parse(text)
        #expect(value(message, "subject") == "hello world", "\(name)")
        #expect(value(message, "return-path") == "<>", "\(name)")
    }

    @Test func strayCarriageReturnInLFFile() {
        let message = parse("Subject: a\rb\nX-Other: c\r\n\nbody\n")
        #expect(value(message, "subject") == "a b")
        #expect(value(message, "x-other") == "c")
    }

    @Test func malformedLinesAreFoldedIntoThePreviousField() {
        let message = parse("Content-Type: multipart/alternative;\nboundary=\"abc\"\n\n--abc\n\nx\n--abc--\n")
        #expect(message.defects.contains(.malformedHeaderLine))
        #expect(message.parts.count == 2)
    }

    @Test func mboxSeparatorIsSkipped() {
        let message = parse("From MAILER-DAEMON  Mon Jan  1 00:00:00 2024\nReturn-Path: <>\nSubject: s\n\nb\n")
        #expect(message.defects.contains(.mboxSeparator))
        #expect(value(message, "return-path") == "<>")
    }

    @Test func truncatedHeaderHasNoBody() {
        let message = parse("Return-Path: <>\nReceived: from localhost (localhost [127.0.0.1])\n\tby mail.example.org (Postfix) with ESMTP id 50")
        #expect(message.defects.contains(.missingHeaderEnd))
        #expect(message.header.fields.count == 2)
    }

    @Test(arguments: [
        ("=?utf-8?B?w7xiZXI=?=", "über"),
        ("=?iso-8859-1?Q?Unzustellbar=3A_Bewerbung?=", "Unzustellbar: Bewerbung"),
        ("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab"),
        ("Re: =?iso-8859-2?Q?odpowied=BC?= x", "Re: odpowiedź x"),
        ("=?utf-8*en?q?x_y?=", "x y"),
        ("=?bogus", "=?bogus"),
        ("=?utf-8?X?abc?=", "=?utf-8?X?abc?="),
        ("=?iso-2022-jp?b?GyRCR1s/LiUoJWkhPBsoQg==?=", "配信エラー"),
    ])
    func encodedWords(_ input: String, _ expected: String) {
        #expect(String(decoding: EncodedWords.decode(Array(input.utf8)), as: UTF8.self) == expected)
    }

    @Test func eightBitHeaderIsReadAsLatin1WhenNotUTF8() {
        let raw: [UInt8] = Array("Subject: caf".utf8) + [0xE9] + Array("\n\n".utf8)
        let decoded = EncodedWords.decode(Array(raw[9..<13]))
        #expect(String(decoding: decoded, as: UTF8.self) == "café")
    }

    @Test func mediaTypeParameters() {
        let type = MediaType(Array("Multipart/Report; report-type=\"delivery-status\"; (comment) boundary=\"a;b\"".utf8))
        #expect(type?.is("multipart", "report") == true)
        #expect(type?.parameter("report-type") == Array("delivery-status".utf8))
        #expect(type?.parameter("boundary") == Array("a;b".utf8))
        let continued = MediaType(Array("text/plain; name*0=\"a\"; name*1*=utf-8''%C3%BC.txt".utf8))
        #expect(continued?.parameter("name") == Array("aü.txt".utf8))
        #expect(MediaType(Array("garbage".utf8)) == nil)
    }

    @Test func transferDecodings() {
        #expect(TransferEncoding.base64.decode(Array("aGVs\nbG8=".utf8)[...], limit: 100) == Array("hello".utf8))
        #expect(TransferEncoding.quotedPrintable.decode(Array("a=3Db=\nc=ZZ".utf8)[...], limit: 100) == Array("a=bc=ZZ".utf8))
        #expect(TransferEncoding.base64.decode(Array(repeating: 0x41, count: 4000)[...], limit: 10).count == 10)
    }
}

@Suite struct MIMEWalkTests {
    @Test func deliveryStatusReport() throws {
        let text = """
            Return-Path: <>
            Content-Type: multipart/report; report-type=delivery-status; boundary="B"

            --B
            Content-Type: text/plain

            notice
            --B
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.org
            Arrival-Date: Tue, 11 Mar 2025 09:13:59 +0100

            Final-Recipient: rfc822; a@example.org
            Action: failed
            Status: 5.1.1
            Remote-MTA: dns; mail.example.org
            Diagnostic-Code: smtp; 550 5.1.1 user
              unknown

            Final-Recipient: rfc822; b@example.org
            Action: delayed
            Status: 4.4.1

            --B
            Content-Type: message/rfc822

            From: x@example.org
            Content-Type: multipart/report; report-type=delivery-status; boundary="C"

            --C
            Content-Type: message/delivery-status

            Reporting-MTA: dns; inner.example

            --C--
            --B--

            """
        let message = Message(raw: Array(text.utf8))
        let statuses = message.deliveryStatuses()
        #expect(statuses.count == 1, "the returned original's report does not count")
        let status = try #require(statuses.first)
        #expect(status.reportingMTA == "dns; mx.example.org")
        #expect(status.recipients.count == 2)
        #expect(status.recipients[0].action == "failed")
        #expect(status.recipients[0].status == "5.1.1")
        #expect(status.recipients[0].remoteMTA == "dns; mail.example.org")
        #expect(status.recipients[0].diagnosticCode == "smtp; 550 5.1.1 user unknown")
        #expect(status.recipients[1].action == "delayed")
        #expect(message.parts.contains { $0.isInsideAttachedMessage })
    }

    /// A DSN that returns the original's header as text/rfc822-headers (RFC 6522 §4).
    static func headersReport(topReceived: String) -> String {
        """
        Return-Path: <>
        \(topReceived)From: MAILER-DAEMON@bounce.example.com
        Subject: Undelivered Mail Returned to Sender
        Content-Type: multipart/report; report-type=delivery-status; boundary="R"

        --R
        Content-Type: text/plain

        Your message could not be delivered to one or more recipients.
        --R
        Content-Type: text/rfc822-headers

        Received: from sender.example.org (sender.example.org [198.51.100.23])
        \tby out.bounce.example.com (Postfix) with ESMTP id T0
        Received: from [192.0.2.99] (helo=desk.example.org) by sender.example.org with esmtpa (Exim 4.97) id T00
        From: someone@example.org
        Subject: hello

        --R--

        """
    }

    /// The returned header's Received lines are the original's hops, not the bounce's: they
    /// are never looked at for the source (docs/ARCHITECTURE.md: attribution walks the
    /// message's own header from the top).
    @Test func receivedLinesOfAReturnedHeaderAreNeverHops() throws {
        let trusted = try TrustedNetworks(parsing: "10.20.0.0/16")
        let relayed = Self.headersReport(topReceived: "Received: from relay.trap.example.net (relay.trap.example.net [10.20.0.5]) by mx.trap.example.net (Postfix) with ESMTP id T1\n")
        let message = Message(raw: Array(relayed.utf8))
        #expect(message.parts.contains { $0.mediaType.is("text", "rfc822-headers") })
        #expect(message.header.all(Array("received".utf8), in: message.bytes).count == 1)
        #expect(Attribution(header: message.header, bytes: message.bytes, trusted: trusted).outcome == .allHopsTrusted)
        let result = classify(message: Array(relayed.utf8), trustedNetworks: trusted)
        #expect(result.verdict == .unattributable && result.sourceIP == nil, "\(result.reason)")

        let bare = Message(raw: Array(Self.headersReport(topReceived: "").utf8))
        #expect(Attribution(header: bare.header, bytes: bare.bytes, trusted: trusted).outcome == .noReceivedHeaders)
    }

    /// A bounce returning the original as message/rfc822, in the identity encoding or base64.
    static func rfc822Report(base64: Bool) -> String {
        let original = """
            Received: from desk.example.org (desk.example.org [198.51.100.24]) by sender.example.org (Postfix) with ESMTP id O1
            From: someone@example.org
            Subject: hello
            Content-Type: multipart/mixed; boundary="O"

            --O
            Content-Type: text/plain

            hello
            --O--

            """
        let body = base64 ? Data(original.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed]) + "\n" : original
        return """
            Return-Path: <>
            Received: from out.bounce.example.com (out.bounce.example.com [203.0.113.40]) by mx.trap.example.net (Postfix) with ESMTP id B1
            From: MAILER-DAEMON@bounce.example.com
            Subject: Undelivered Mail Returned to Sender
            Content-Type: multipart/report; report-type=delivery-status; boundary="R"

            --R
            Content-Type: text/plain

            Your message could not be delivered to one or more recipients.
            --R
            Content-Type: message/delivery-status

            Reporting-MTA: dns; out.bounce.example.com

            Final-Recipient: rfc822; nobody@example.com
            Action: failed
            Status: 5.1.1

            --R
            Content-Type: message/rfc822
            \(base64 ? "Content-Transfer-Encoding: base64\n" : "")
            \(body)--R--

            """
    }

    /// A base64 message/rfc822 part stays one opaque entity (MIMEWalker: nothing reads the
    /// entities of an attached original), and the verdict is the same as for the identity
    /// encoding, whose original is walked.
    @Test func aBase64EmbeddedMessageIsNotWalked() throws {
        let plain = Message(raw: Array(Self.rfc822Report(base64: false).utf8))
        let encoded = Message(raw: Array(Self.rfc822Report(base64: true).utf8))
        let container = try #require(encoded.parts.first { $0.mediaType.is("message", "rfc822") })
        #expect(container.transferEncoding == .base64)
        #expect(!encoded.parts.contains { $0.isInsideAttachedMessage }, "not walked")
        #expect(plain.parts.filter(\.isInsideAttachedMessage).count == 2, "walked: the original and its text part")
        #expect(encoded.defects.isEmpty && plain.defects.isEmpty, "\(encoded.defects) \(plain.defects)")
        let networks = TrustedNetworks()
        let fromPlain = classify(message: Array(Self.rfc822Report(base64: false).utf8), trustedNetworks: networks)
        let fromEncoded = classify(message: Array(Self.rfc822Report(base64: true).utf8), trustedNetworks: networks)
        #expect(fromEncoded.sourceIP == IPPrefix("203.0.113.40") && fromPlain.sourceIP == IPPrefix("203.0.113.40"))
        #expect(fromEncoded.verdict == fromPlain.verdict && fromEncoded.kind == fromPlain.kind)
        #expect(fromEncoded.verdict == .backscatter && fromEncoded.kind == .dsn)
    }

    @Test func preambleEpilogueAndUnclosedMultipart() {
        let text = "Content-Type: multipart/mixed; boundary=x\n\npreamble\n--x\n\none\n--x \n\ntwo\n"
        let message = Message(raw: Array(text.utf8))
        #expect(message.parts.count == 3)
        #expect(message.defects.contains(.malformedMultipart))
    }
}

/// Hostile inputs: each must parse and classify without trapping, and the limit that keeps
/// its work bounded must be seen to engage (the defect it reports). How long they take is
/// a benchmark's business, not a test's (`scripts/test` bounds the whole run).
@Suite struct MessageRobustnessTests {
    private let networks = try! TrustedNetworks(parsing: "10.0.0.0/8")
    private static let boundaryHeader = "Return-Path: <>\nReceived: from out.example (out.example [203.0.113.5]) by mx.trap.example (Postfix) with ESMTP id 1\n"

    private func classifyHostile(_ bytes: [UInt8]) -> Classification {
        classify(message: bytes, trustedNetworks: networks)
    }

    @Test func emptyInput() {
        let result = classifyHostile([])
        #expect(result.verdict == .unattributable)
        #expect(result.defects.contains(.noHeader))
        #expect(result.digest.description == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Random bytes (seeded, the seed printed) are no message: no header field, no source, a
    /// digest of exactly those bytes.
    @Test func binaryInput() {
        var generator = SplitMix64(printingSeedFor: "binaryInput")
        let bytes = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let result = classifyHostile(bytes)
        #expect(result.verdict == .unattributable, "\(result.reason)")
        #expect(result.sourceIP == nil)
        #expect(result.defects.contains(.nulBytes))
        #expect(result.digest == MessageDigest(of: bytes))
    }

    @Test func nulBytesAndEightBitGarbage() {
        var bytes = Array(Self.boundaryHeader.utf8)
        bytes += Array("From: MAILER-DAEMON@out.example\nSubject: Undeliver".utf8) + [0, 0xFF, 0xC3] + Array("able\n\n".utf8)
        bytes += [0x00, 0x80, 0xFE] + Array("could not be delivered\n".utf8) + [UInt8](repeating: 0, count: 1000)
        let result = classifyHostile(bytes)
        #expect(result.defects.contains(.nulBytes))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    @Test func twoMegabyteFoldedHeader() {
        var text = Self.boundaryHeader + "X-Huge: " + String(repeating: "A", count: 76)
        for _ in 0..<(2 << 20) / 78 { text += "\n\t" + String(repeating: "A", count: 76) }
        text += "\nFrom: MAILER-DAEMON@out.example\nSubject: Undelivered Mail Returned to Sender\n\nI'm sorry to have to inform you that your message could not be delivered.\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.verdict == .backscatter)
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    @Test func eightThousandReceivedLines() {
        var text = Self.boundaryHeader
        for index in 0..<8000 { text += "Received: from h\(index).example (h\(index).example [198.51.\(index % 256).\(index % 200)]) by x with ESMTP id \(index)\n" }
        text += "Subject: failure notice\nFrom: MAILER-DAEMON@out.example\n\nHi. This is the qmail-send program.\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
        #expect(result.verdict == .backscatter)
    }

    @Test func eightThousandReceivedLinesWithoutClient() {
        var text = "Return-Path: <>\n"
        for index in 0..<8000 { text += "Received: by h\(index).example (Postfix, from userid \(index)) id \(index)\n" }
        text += "Received: from late (late [192.0.2.1]) by mx with SMTP\nSubject: x\n\nbody\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.verdict == .unattributable)
    }

    @Test func megabyteLineWithoutWhitespace() {
        let text = Self.boundaryHeader + "Subject: " + String(repeating: "x", count: 1 << 20) + "\n\n" + String(repeating: "y", count: 1 << 20) + "\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    @Test func mimeNestedTwentyThousandDeep() {
        var text = Self.boundaryHeader + "Content-Type: multipart/mixed; boundary=\"b0\"\n\n"
        for depth in 0..<20_000 { text += "--b\(depth)\nContent-Type: multipart/mixed; boundary=\"b\(depth + 1)\"\n\n" }
        text += "--b20000\nContent-Type: text/plain\n\ndeep\n"
        for depth in stride(from: 20_000, through: 0, by: -1) { text += "--b\(depth)--\n" }
        let result = classifyHostile(Array(text.utf8))
        #expect(result.defects.contains(.mimeTooDeep))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    @Test func mimeNestedDeepWithOneBoundary() {
        var text = Self.boundaryHeader + "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
        for _ in 0..<20_000 { text += "--b\nContent-Type: multipart/mixed; boundary=\"b\"\n\n" }
        text += "--b--\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    @Test func thirtyThousandParts() {
        var text = Self.boundaryHeader + "Content-Type: multipart/mixed; boundary=\"p\"\n\n"
        for index in 0..<30_000 { text += "--p\nContent-Type: text/plain\n\npart \(index)\n" }
        text += "--p--\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.defects.contains(.tooManyMIMEParts))
        #expect(result.verdict == .notBackscatter)
    }

    @Test func thirtyThousandEmbeddedMessages() {
        var text = Self.boundaryHeader + "Content-Type: message/rfc822\n\n"
        for _ in 0..<30_000 { text += "Content-Type: message/rfc822\n\n" }
        text += "Subject: bottom\n\nx\n"
        let result = classifyHostile(Array(text.utf8))
        #expect(result.defects.contains(.mimeTooDeep))
    }

    @Test func oversizedMessageIsTruncated() {
        var bytes = Array((Self.boundaryHeader + "Subject: big\n\n").utf8)
        bytes += [UInt8](repeating: 0x61, count: MessageLimits.maxMessageByteCount + 10)
        let result = classifyHostile(bytes)
        #expect(result.defects.contains(.messageTruncated))
        #expect(result.sourceIP == IPPrefix("203.0.113.5"))
    }

    /// Every cut of a bounce classifies: the source is the bounce's own or none (the
    /// parser never makes one up from a cut address), it is found once its Received line is
    /// whole, and only then can the verdict be backscatter.
    @Test func everyTruncationOfAFixtureClassifies() throws {
        let bytes = try FixtureFile.bytes("postfix-dsn.eml")
        let trusted = try TrustedNetworks(parsing: FixtureCase.trusted)
        let source = try #require(IPPrefix("203.0.113.45"))
        let sourceLine = try #require(String(decoding: bytes, as: UTF8.self).range(of: "[203.0.113.45])\n"))
        let sourceLineEnd = String(decoding: bytes, as: UTF8.self)[..<sourceLine.upperBound].utf8.count
        for end in stride(from: 0, through: bytes.count, by: 7) {
            let result = classify(message: Array(bytes[..<end]), trustedNetworks: trusted)
            #expect(result.sourceIP == nil || result.sourceIP == source, "cut at \(end): \(result.reason)")
            if end >= sourceLineEnd { #expect(result.sourceIP == source, "cut at \(end): \(result.reason)") }
            if result.sourceIP == nil { #expect(result.verdict != .backscatter, "cut at \(end)") }
            #expect(result.digest == MessageDigest(of: Array(bytes[..<end])))
        }
    }
}

@Suite struct DigestTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(_ input: String, _ expected: String) {
        #expect(SHA256.hexDigest(Array(input.utf8)) == expected)
        let portable = SHA256.portableDigest(Array(input.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(portable == expected)
    }

    @Test func portableMatchesSystemOnEveryLength() {
        var generator = SplitMix64(printingSeedFor: "portableMatchesSystemOnEveryLength")
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 100_003] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(SHA256.digest(bytes) == SHA256.portableDigest(bytes), "length \(length)")
        }
    }
}
