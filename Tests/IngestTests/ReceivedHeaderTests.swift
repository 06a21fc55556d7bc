// ReceivedHeaderTests.swift -- client-IP extraction from Received headers, one case per MTA format.

import Store
import Testing
@testable import Ingest

/// One Received value and the client address it must yield (`nil`: names no client).
struct ReceivedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let value: String
    let client: String?
    var testDescription: String { name }

    // Every value is written for this project (hosts under example.*, documentation
    // addresses, RFC 5737/3849); each keeps the shape its MTA writes.
    static let all: [ReceivedCase] = [
        // Postfix / Sendmail / Gmail: "helo (rdns [IP])".
        .init(name: "postfix", value: "from out1.example.org (out1.example.org [198.51.100.7]) by mx1.example.net (Postfix) with ESMTPS id 4ZbQ1x2Lkz3wF; Tue, 11 Mar 2025 09:14:02 +0100", client: "198.51.100.7"),
        .init(name: "postfix unknown rdns, HELO is an IP literal", value: "from [10.0.0.5] (unknown [203.0.113.19]) by mx1.example.net (Postfix) with ESMTP id 5C0FFEE01", client: "203.0.113.19"),
        .init(name: "postfix with TLS comments", value: "from b.example.com (unknown [192.0.2.3])\t(using TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256 (256/256 bits)) (No client certificate requested) by mx2.example.net (Postfix) with ESMTPS id 6D1", client: "192.0.2.3"),
        .init(name: "postfix IPv6", value: "from v6.example.org (v6.example.org [IPv6:2001:db8:25::7]) by mx1.example.net (Postfix) with ESMTP id 7E2", client: "2001:db8:25::7"),
        .init(name: "postfix userid line", value: "by mx1.example.net (Postfix, from userid 1001) id 8F3A2B1C0D; Tue, 11 Mar 2025 09:14:01 +0100", client: nil),
        .init(name: "sendmail may be forged", value: "from helo.example.com (rdns.example.com [192.0.2.44] (may be forged)) by smtp.example.net (8.18.1/8.18.1) with ESMTP id 52B8E1aQ012345", client: "192.0.2.44"),
        .init(name: "sendmail ident", value: "from helo.example.com (mailer@rdns.example.com [192.0.2.45]) by smtp.example.net (8.18.1/8.18.1) with ESMTP id 52B8E1aR012346", client: "192.0.2.45"),
        .init(name: "sendmail IPv6", value: "from relay.example.com (relay.example.com [IPv6:2001:db8:41::25]) by smtp.example.net (8.18.1/8.18.1) with ESMTPS id 52B8E1aS012347", client: "2001:db8:41::25"),
        .init(name: "gmail", value: "from out2.example.com (out2.example.com. [198.51.100.61]) by mx.google.example with ESMTPS id a1b2c3d4e5f6.77.2025.03.11.01.02.03 for <trap@example.org>", client: "198.51.100.61"),
        .init(name: "gmail internal by-only", value: "by 2001:db8:5:a0::1c with SMTP id q7csp1234567abc; Tue, 11 Mar 2025 01:02:03 -0700", client: nil),
        // Exim.
        .init(name: "exim rdns and helo", value: "from mta.example.com ([198.51.100.1] helo=mta.example.com) by mx3.example.net with esmtp (Exim 4.98) id 1tAbCd-000123-Xy", client: "198.51.100.1"),
        .init(name: "exim IP literal from word, HELO is an IP", value: "from [203.0.113.29] (helo=[10.1.1.1]) by mx3.example.net with esmtp (Exim 4.98) id 1tAbCe-000124-Yz", client: "203.0.113.29"),
        .init(name: "exim with port", value: "from h.example.com ([198.51.100.2]:41486 helo=h.example.com) by mx3.example.net with esmtps (TLS1.3) (Exim 4.98) id 1tAbCf-000125-Za", client: "198.51.100.2"),
        .init(name: "exim IPv6 literal", value: "from [2001:db8:e5::caa] (helo=mx.example.org) by store7.example.net with esmtp (Exim 4.98) id 1tAbCg-000126-Ab", client: "2001:db8:e5::caa"),
        .init(name: "exim local", value: "from mailnull by smtp.example.net with local (Exim 4.98) id 1tAbCh-000127-Bc", client: nil),
        // qmail.
        .init(name: "qmail HELO and IP", value: "from unknown (HELO mail.example.com) (198.51.100.33) by qmail.example.net with SMTP; 11 Mar 2025 08:14:02 -0000", client: "198.51.100.33"),
        .init(name: "qmail HELO is an IP literal", value: "from unknown (HELO [10.0.0.1]) (203.0.113.39) by qmail.example.net with SMTP; 11 Mar 2025 08:14:03 -0000", client: "203.0.113.39"),
        .init(name: "qmail user@IP", value: "from helo.example.com (qmailr@203.0.113.140) by qmail.example.net with SMTP; 11 Mar 2025 08:14:04 -0000", client: "203.0.113.140"),
        .init(name: "qmail invoked by uid", value: "(qmail 31337 invoked by uid 1002); 11 Mar 2025 08:14:05 -0000", client: nil),
        .init(name: "qmail invoked from network", value: "(qmail 4242 invoked from network); 11 Mar 2025 08:14:06 -0000", client: nil),
        // Exchange, Office 365: the second parenthesised IP belongs to `by`.
        .init(name: "exchange", value: "from mail.example.com (198.51.100.140) by EXCH3.corp.example.net (192.168.40.13) with Microsoft SMTP Server (version=TLS1_2) id 15.2.1544.14", client: "198.51.100.140"),
        .init(name: "exchange SMTPSVC", value: "from LEGACYMX ([203.0.113.230]) by mail.example.net with Microsoft SMTPSVC(7.5.7601.17514); Tue, 11 Mar 2025 08:14:07 +0100", client: "203.0.113.230"),
        .init(name: "office 365 internal IPv6", value: "from XY1PR01CA0042.eurprd01.prod.o365.example.com (2001:db8:e1::42) by XY2PR01MB0007.eurprd01.prod.o365.example.com (2001:db8:e1::7) with Microsoft SMTP Server (version=TLS1_2) id 15.20.1234.5", client: "2001:db8:e1::42"),
        .init(name: "office 365 frontend", value: "from smtp.example.com (198.51.100.189) by XY3EUR01FT012.mail.protection.o365.example.com (10.152.0.12) with Microsoft SMTP Server id 15.20.1234.5 via Frontend Transport", client: "198.51.100.189"),
        .init(name: "exchange pickup", value: "from mail pickup service by exchange.example.com with Microsoft SMTPSVC; Tue, 11 Mar 2025 08:14:08 +0100", client: nil),
        // Courier: IPv4 written as IPv4-mapped IPv6.
        .init(name: "courier mapped IPv4", value: "from mail.example.org (mail.example.org [::ffff:203.0.113.236]) (TLS: TLSv1.3,256bits) by courier.example.net with ESMTPS; Tue, 11 Mar 2025 09:14:09 +0100", client: "203.0.113.236"),
        // CommuniGate Pro.
        .init(name: "communigate verified", value: "from web3.example.com ([2001:db8:77::a6] verified) by cgp.example.net (CommuniGate Pro SMTP 6.4.1) with ESMTPS id 1234567", client: "2001:db8:77::a6"),
        .init(name: "communigate IP word and HELO", value: "from [198.51.100.96] (HELO relay9.example.net) by cgp2.example.com (CommuniGate Pro SMTP 6.4.1) with ESMTPS id 7654321", client: "198.51.100.96"),
        .init(name: "communigate account and HELO IP", value: "from [203.0.113.223] (account alice@example.edu HELO [10.9.8.7]) by gold.example.edu (CommuniGate Pro SMTP 6.4.1) with ESMTPSA id 4711", client: "203.0.113.223"),
        // Other shapes.
        .init(name: "by-host IP is never the client", value: "from helo.example.com by mx1.example.net (198.51.100.200) with SMTP", client: nil),
        .init(name: "bracket outside parentheses", value: "from rdns.example.net (EHLO workstation42) [198.51.100.163] by mx.freemail.example (mp007) with SMTP; 11 Mar 2025", client: "198.51.100.163"),
        .init(name: "bare IP from word", value: "from 203.0.113.233 by webmail3.example.com with HTTP; Tue, 11 Mar 2025 08:14:10 GMT", client: "203.0.113.233"),
        .init(name: "fetchmail retrieval", value: "from pop.example.net [198.51.100.110] by localhost with POP3 (fetchmail-6.4.38) for <bob@example.org> (single-drop); Tue, 11 Mar 2025", client: nil),
        .init(name: "IP.port in brackets", value: "from host7.example.org (host7.example.org) [192.0.2.16.40123] (mail) by mx.example.com with esmtp (Exim 3.36 #2)", client: "192.0.2.16"),
        .init(name: "wrapped from clause", value: "(from DESKTOP7 [198.51.100.51]) by gateway.example.com (NAVGW 2.5.2.20) with SMTP id M2025031101", client: "198.51.100.51"),
        .init(name: "loopback", value: "from localhost (localhost [127.0.0.1]) by mx1.example.net (Postfix) with ESMTP id 9A4", client: "127.0.0.1"),
        .init(name: "no address at all", value: "from localhost (carol@localhost) by vega.example.edu (8.18.1/8.18.1) with ESMTP id R2", client: nil),
        .init(name: "masked", value: "from [Masked] by relay.example.com with ESMTP id qwertyui", client: nil),
        .init(name: "empty", value: "", client: nil),
        .init(name: "truncated inside the from clause", value: "from relay (relay.example.net [192.0", client: nil),
    ]
}

@Suite struct ReceivedHeaderTests {
    @Test(arguments: ReceivedCase.all)
    func clientAddress(_ testCase: ReceivedCase) {
        let parsed = ReceivedHeader(value: Array(testCase.value.utf8))
        #expect(parsed.clientAddress?.description == testCase.client)
    }

    /// Every cut of every case parses, and names no client or one written in the cut text
    /// (IPv6 in its canonical form, as the cases write it): the parser never makes an
    /// address up from pieces. A cut may name another client than the whole value, as a
    /// header that ends there would (`from [10.0.0.5]` alone names 10.0.0.5), so the whole
    /// value's client is checked by the cases, and here the cuts that keep it whole.
    @Test func everyPrefixNamesAnAddressItHolds() {
        for testCase in ReceivedCase.all {
            let bytes = Array(testCase.value.utf8)
            let whole = ReceivedHeader(value: bytes).clientAddress
            var sawWhole = whole == nil
            for end in 0...bytes.count {
                let cut = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
                guard let client = ReceivedHeader(value: Array(bytes[..<end])).clientAddress else { continue }
                #expect(cut.contains(client.description), "\(testCase.name), cut at \(end): \(client) is not in the text")
                if client == whole { sawWhole = true }
            }
            #expect(sawWhole, "\(testCase.name): no cut names the whole value's client")
            #expect(ReceivedHeader(value: bytes).clientAddress?.description == testCase.client)
        }
    }

    @Test func byNameIsRecorded() {
        let parsed = ReceivedHeader(value: Array("from a.example (a.example [192.0.2.1]) by mx.example.net (Postfix) with ESMTP".utf8))
        #expect(parsed.byName == "mx.example.net")
        #expect(parsed.fromName == "a.example")
    }

    @Test func hugeValueIsBounded() {
        let value = Array("from ".utf8) + [UInt8](repeating: 0x28, count: 1 << 20) + Array(" [192.0.2.1]".utf8)
        let parsed = ReceivedHeader(value: value)
        #expect(parsed.clientAddress == nil)
    }
}

/// Addresses as mail headers write them (`IPPrefix.mailAddress`), and which can be a source.
@Suite struct MailAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("::ffff:203.0.113.7", "203.0.113.7"), ("::FFFF:7F00:2", "127.0.0.2"),
        ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8::", "2001:db8::"), ("::1", "::1"),
        ("IPv6:2001:db8:4:1::25", "2001:db8:4:1::25"), ("fe80::1%eth0", "fe80::1"), ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("::192.0.2.1", "::c000:201"),
    ])
    func canonicalText(_ input: String, _ expected: String) {
        #expect(IPPrefix.mailAddress(Array(input.utf8)[...])?.description == expected)
    }

    @Test(arguments: ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "12345::1", "", "abc", ":1", "1:"])
    func rejects(_ input: String) {
        #expect(IPPrefix.mailAddress(Array(input.utf8)[...]) == nil)
    }

    @Test func nonPublicRanges() {
        for text in ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.1.2.3", "224.0.0.1",
                     "fd00::1", "fe80::1", "::1", "::"] {
            #expect(IPPrefix(text)!.isNonPublic, "\(text)")
        }
        for text in ["192.0.2.1", "203.0.113.9", "8.8.8.8", "2001:db8::1", "2a00:1450::1"] {
            #expect(!IPPrefix(text)!.isNonPublic, "\(text)")
        }
    }
}
