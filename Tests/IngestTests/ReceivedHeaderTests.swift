// ReceivedHeaderTests.swift -- client-IP extraction from Received headers, one case per MTA format.

import Testing
@testable import Ingest

/// One Received value and the client address it must yield (`nil`: names no client).
struct ReceivedCase: CustomTestStringConvertible, Sendable {
    let name: String
    let value: String
    let client: String?
    var testDescription: String { name }

    static let all: [ReceivedCase] = [
        // Postfix / Sendmail / Gmail: "helo (rdns [IP])".
        .init(name: "postfix", value: "from mail.example.org (mail.example.org [198.51.100.7]) by mx.example.net (Postfix) with ESMTPS id 4Xy; Tue, 11 Mar 2025 09:14:02 +0100", client: "198.51.100.7"),
        .init(name: "postfix unknown rdns, HELO is an IP literal", value: "from [10.0.0.5] (unknown [203.0.113.9]) by mx.example.net (Postfix) with ESMTP id 1", client: "203.0.113.9"),
        .init(name: "postfix with TLS comments", value: "from a.example (unknown [192.0.2.3])\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) (No client certificate requested) by mx (Postfix) with ESMTPS id 2", client: "192.0.2.3"),
        .init(name: "postfix IPv6", value: "from h.example (h.example [IPv6:2001:db8::25]) by mx (Postfix) with ESMTP id 3", client: "2001:db8::25"),
        .init(name: "postfix userid line", value: "by mx.example.com (Postfix, from userid 1000) id 7C1E93A0F2; Tue, 11 Mar 2025", client: nil),
        .init(name: "sendmail may be forged", value: "from helo.example (rdns.example [192.0.2.44] (may be forged)) by mail.example (8.17.1/8.17.1) with ESMTP id x", client: "192.0.2.44"),
        .init(name: "sendmail ident", value: "from helo.example (user@rdns.example [192.0.2.45]) by mail.example (8.17.1/8.17.1) with ESMTP id x", client: "192.0.2.45"),
        .init(name: "sendmail IPv6", value: "from relay.example.de (relay.example.de [IPv6:2001:db8:4:1::25]) by mail (8.17.1.9/8.17.1.9) with ESMTPS id 5", client: "2001:db8:4:1::25"),
        .init(name: "gmail", value: "from mailer.example.nl (mailer.example.nl. [176.91.78.50]) by mx.google.com with ESMTPS id f.62.2024 for <x@example.org>", client: "176.91.78.50"),
        .init(name: "gmail internal by-only", value: "by 2002:a05:68ce:fd29:b0:9c1:79:ca1 with SMTP id c0csp8642064wrc; Mon, 24 Mar 2025 12:18:28 -0400", client: nil),
        // Exim.
        .init(name: "exim rdns and helo", value: "from mta.example.com ([198.51.100.1] helo=mta.example.com) by mx with esmtp (Exim 4.97) id 1tRk3x", client: "198.51.100.1"),
        .init(name: "exim IP literal from word, HELO is an IP", value: "from [203.0.113.9] (helo=[10.1.1.1]) by mx with esmtp (Exim 4.97) id 1t", client: "203.0.113.9"),
        .init(name: "exim with port", value: "from h.example ([198.51.100.2]:41486 helo=h.example) by mx with esmtps (TLS1.3) (Exim 4.95) id N", client: "198.51.100.2"),
        .init(name: "exim IPv6 literal", value: "from [2001:db8:ffff::caa] (helo=mx.example.org) by store3 with esmtp (Exim 4.96) id o", client: "2001:db8:ffff::caa"),
        .init(name: "exim local", value: "from mailnull by smtp.example.co.uk with local (Exim 4.96) id 1tRk3w", client: nil),
        // qmail.
        .init(name: "qmail HELO and IP", value: "from unknown (HELO mail.example.net) (198.51.100.33) by qmail.example with SMTP; 19 Mar 2025", client: "198.51.100.33"),
        .init(name: "qmail HELO is an IP literal", value: "from unknown (HELO [10.0.0.1]) (203.0.113.9) by qmail.example with SMTP; 13 Mar 2025", client: "203.0.113.9"),
        .init(name: "qmail user@IP", value: "from google.com (qmailr@37.200.205.140) by qmail.example with SMTP; 20 Feb 2025", client: "37.200.205.140"),
        .init(name: "qmail invoked by uid", value: "(qmail 28114 invoked by uid 89); 13 Mar 2025 10:21:07 -0000", client: nil),
        .init(name: "qmail invoked from network", value: "(qmail 87263 invoked from network); 8 Mar 2004 23:59:05 -0000", client: nil),
        // Exchange, Office 365: the second parenthesised IP belongs to `by`.
        .init(name: "exchange", value: "from mail.example.ch (198.51.100.140) by EXCH01.corp.example.net (192.168.40.10) with Microsoft SMTP Server (version=TLS1_2) id 15.1.2507.39", client: "198.51.100.140"),
        .init(name: "exchange SMTPSVC", value: "from OLDEXCH ([203.0.113.230]) by mail.example.net with Microsoft SMTPSVC(6.0.3790.4675); Sun, 23 Mar 2025", client: "203.0.113.230"),
        .init(name: "office 365 internal IPv6", value: "from BN9PR03CA0373.namprd03.prod.outlook.com (2001:db8:ffff::d57b) by SA1PR12MB9992.namprd12.prod.outlook.com (2001:db8:ffff::822f) with Microsoft SMTP Server", client: "2001:db8:ffff::d57b"),
        .init(name: "office 365 frontend", value: "from edge.example.cz (104.189.215.189) by DM6NAM12FT011.mail.protection.outlook.com (10.167.16.201) with Microsoft SMTP Server id 15.20.8397.1 via Frontend Transport", client: "104.189.215.189"),
        .init(name: "exchange pickup", value: "from mail pickup service by hotmail.com with Microsoft SMTPSVC; Tue, 16 Mar 2004", client: nil),
        // Courier: IPv4 written as IPv4-mapped IPv6.
        .init(name: "courier mapped IPv4", value: "from mx01.example.nl (mx01.example.nl [::ffff:104.62.39.236]) (TLS: TLSv1.3,256bits) by mx.example.net with ESMTPS; Tue, 27 May 2025", client: "104.62.39.236"),
        // CommuniGate Pro.
        .init(name: "communigate verified", value: "from web1.example.de ([2001:db8:c9f7:a7f5::a6f] verified) by cgp.example.net (CommuniGate Pro SMTP 6.3.14) with ESMTPS id 51001569", client: "2001:db8:c9f7:a7f5::a6f"),
        .init(name: "communigate IP word and HELO", value: "from [78.140.15.96] (HELO relay4.example.net) by relay2.example.ru (CommuniGate Pro SMTP 5.1.13) with ESMTPS id 9843045", client: "78.140.15.96"),
        .init(name: "communigate account and HELO IP", value: "from [128.114.2.223] (account user@example.edu HELO [10.10.10.10]) by silver.example.edu (CommuniGate Pro SMTP 4.3.7) with ESMTPSA id 8", client: "128.114.2.223"),
        // Other shapes.
        .init(name: "by-host IP is never the client", value: "from helo.example by mx.example.net (198.51.100.200) with SMTP", client: nil),
        .init(name: "bracket outside parentheses", value: "from rdns.example (EHLO user588a01834c) [95.112.248.163] by mail.gmx.net (mp033) with SMTP", client: "95.112.248.163"),
        .init(name: "bare IP from word", value: "from 24.8.231.233 by by1fd.bay1.hotmail.msn.com with HTTP; Wed, 17 Mar 2004", client: "24.8.231.233"),
        .init(name: "fetchmail retrieval", value: "from pop.example.com [216.136.173.10] by localhost with POP3 (fetchmail-5.9.13) for x@example (single-drop)", client: nil),
        .init(name: "IP.port in brackets", value: "from helene8.example (helene.example) [10.0.8.6.13219] (mail) by lisbeth.example with esmtp (Exim 3.35 #1)", client: "10.0.8.6"),
        .init(name: "wrapped from clause", value: "(from KRYPTIK [70.20.57.51]) by host.name (NAVGW 2.5.2.12) with SMTP id M2006", client: "70.20.57.51"),
        .init(name: "loopback", value: "from localhost (localhost [127.0.0.1]) by mail.example.org (Postfix) with ESMTP id 50", client: "127.0.0.1"),
        .init(name: "no address at all", value: "from localhost (user@localhost) by rigel.example.edu (8.9.3p2/8.9.3) with ESMTP id Q", client: nil),
        .init(name: "masked", value: "from [Masked] by mailrelay2.example.ca with ESMTP id lxalvkca", client: nil),
        .init(name: "empty", value: "", client: nil),
        .init(name: "truncated inside the from clause", value: "from localhost (localhost [127.0", client: nil),
    ]
}

@Suite struct ReceivedHeaderTests {
    @Test(arguments: ReceivedCase.all)
    func clientAddress(_ testCase: ReceivedCase) {
        let parsed = ReceivedHeader(value: Array(testCase.value.utf8))
        #expect(parsed.clientAddress?.description == testCase.client)
    }

    @Test func everyPrefixParsesWithoutTrapping() {
        for testCase in ReceivedCase.all {
            let bytes = Array(testCase.value.utf8)
            for end in 0...bytes.count { _ = ReceivedHeader(value: Array(bytes[..<end])) }
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

@Suite struct SourceAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"), ("::ffff:203.0.113.7", "203.0.113.7"), ("::FFFF:7F00:2", "127.0.0.2"),
        ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:db8::", "2001:db8::"), ("::1", "::1"),
        ("IPv6:2001:db8:4:1::25", "2001:db8:4:1::25"), ("fe80::1%eth0", "fe80::1"), ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("::192.0.2.1", "::c000:201"),
    ])
    func canonicalText(_ input: String, _ expected: String) {
        #expect(SourceAddress(input)?.description == expected)
    }

    @Test(arguments: ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "12345::1", "", "abc", ":1", "1:"])
    func rejects(_ input: String) {
        #expect(SourceAddress(input) == nil)
    }

    @Test func nonPublicRanges() {
        for text in ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.1.2.3", "224.0.0.1",
                     "fd00::1", "fe80::1", "::1", "::"] {
            #expect(SourceAddress(text)!.isNonPublic, "\(text)")
        }
        for text in ["192.0.2.1", "203.0.113.9", "8.8.8.8", "2001:db8::1", "2a00:1450::1"] {
            #expect(!SourceAddress(text)!.isNonPublic, "\(text)")
        }
    }
}
