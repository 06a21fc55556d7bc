// AttributionTests.swift -- the trusted-hop walk (docs/ARCHITECTURE.md) and the trusted-network list.

import Foundation
import Store
import Testing
@testable import Ingest

@Suite struct AttributionTests {
    private func attribute(_ headers: [String], trusted: String = "") throws -> Attribution {
        let message = headers.map { "Received: \($0)\n" }.joined() + "From: x@example.org\nSubject: s\n\nbody\n"
        let parsed = Message(raw: Array(message.utf8))
        return Attribution(header: parsed.header, bytes: parsed.bytes, trusted: try TrustedNetworks(parsing: trusted))
    }

    @Test func firstUntrustedClientIsTheSource() throws {
        let result = try attribute([
            "from mx.trap.example ([10.20.0.21]) by store.trap.example with LMTPS id x",
            "from out.example.com (out.example.com [203.0.113.150]) by mx.trap.example (Postfix) with ESMTP id y",
            "from evil.example ([198.51.100.66]) by out.example.com with esmtp",
        ], trusted: "10.20.0.0/16")
        #expect(result.outcome == .source(IPPrefix("203.0.113.150")!))
        #expect(result.trustedHopCount == 1)
    }

    @Test func nothingBelowTheSourceCounts() throws {
        // Forged lines below the boundary claim trusted and loopback addresses.
        let result = try attribute([
            "from out.example.com ([203.0.113.150] helo=x) by mx.trap.example with esmtp (Exim 4.97) id 1",
            "from mx.trap.example ([10.20.0.21]) by out.example.com with esmtp",
            "from localhost ([127.0.0.1] helo=mx.trap.example) by out.example.com with esmtp",
        ], trusted: "10.20.0.0/16")
        #expect(result.sourceAddress == IPPrefix("203.0.113.150"))
    }

    @Test func headersWithoutClientAreSkipped() throws {
        let result = try attribute([
            "by 2001:db8:5:a0::1c with SMTP id q7csp7654321xyz; Tue, 11 Mar 2025 01:02:03 -0700",
            "(qmail 1234 invoked by uid 1002); 11 Mar 2025 08:14:05 -0000",
            "from out2.example.com (out2.example.com. [198.51.100.62]) by mx.google.example with ESMTPS id f",
        ])
        #expect(result.sourceAddress == IPPrefix("198.51.100.62"))
        #expect(result.addresslessCount == 2)
    }

    @Test func loopbackIsAlwaysTrusted() throws {
        let result = try attribute([
            "from localhost (localhost [127.0.0.1]) by mx (Postfix) with ESMTP id 1",
            "from localhost ([::1]) by mx with esmtp",
            "from a.example (a.example [192.0.2.8]) by mx (Postfix) with ESMTP id 2",
        ])
        #expect(result.sourceAddress == IPPrefix("192.0.2.8"))
    }

    /// A trap MX on loopback (the end-to-end test): loopback untrusted, its listable
    /// range attributed although not public; other non-public sources still are not.
    @Test func listableNonPublicRangesCanBeSources() throws {
        let headers = "Received: from bouncer.test (bouncer.test [127.0.0.5]) by trap.test (Postfix) with ESMTP id 1\n"
            + "From: MAILER-DAEMON@bouncer.test\nSubject: s\n\nbody\n"
        let parsed = Message(raw: Array(headers.utf8))
        var networks = TrustedNetworks.nothing
        #expect(Attribution(header: parsed.header, bytes: parsed.bytes, trusted: networks).outcome
                == .nonPublicSource(IPPrefix("127.0.0.5")!))
        try networks.attributeAsPublic("127.0.0.0/8")
        #expect(Attribution(header: parsed.header, bytes: parsed.bytes, trusted: networks).outcome == .source(IPPrefix("127.0.0.5")!))
        let privateHop = Message(raw: Array(headers.replacingOccurrences(of: "127.0.0.5", with: "10.1.2.3").utf8))
        #expect(Attribution(header: privateHop.header, bytes: privateHop.bytes, trusted: networks).outcome
                == .nonPublicSource(IPPrefix("10.1.2.3")!))
        // Trust still wins: a trusted hop is skipped whatever else is said of it.
        try networks.add("127.0.0.5")
        #expect(Attribution(header: parsed.header, bytes: parsed.bytes, trusted: networks).outcome == .allHopsTrusted)
    }

    @Test func mappedAddressesMatchIPv4Networks() throws {
        let result = try attribute([
            "from store (store [::ffff:10.20.0.9]) by mx with ESMTP",
            "from ext (ext [::ffff:203.0.113.4]) by mx with ESMTP",
        ], trusted: "10.20.0.0/16")
        #expect(result.sourceAddress?.description == "203.0.113.4")
    }

    @Test func ipv6TrustedNetworks() throws {
        let result = try attribute([
            "from a.o365.example.com (2001:db8:e1::42) by b.o365.example.com (2001:db8:e1::7) with Microsoft SMTP Server",
            "from smtp.example.com (203.0.113.189) by c.o365.example.com (10.152.0.12) with Microsoft SMTP Server",
        ], trusted: "2001:db8:e1::/48")
        #expect(result.sourceAddress?.description == "203.0.113.189")
    }

    @Test func unattributableOutcomes() throws {
        #expect(try attribute([]).outcome == .noReceivedHeaders)
        #expect(try attribute(["by mx.example.com (Postfix, from userid 0) id 1"]).outcome == .noClientAddress)
        #expect(try attribute(["from x (x [10.20.0.1]) by y with SMTP"], trusted: "10.20.0.0/16").outcome == .allHopsTrusted)
        let result = try attribute(["from x (x [192.168.7.7]) by y with SMTP"], trusted: "10.20.0.0/16")
        #expect(result.outcome == .nonPublicSource(IPPrefix("192.168.7.7")!))
    }

    @Test func receivedWalkIsBounded() throws {
        let lines = (0..<(Attribution.maxReceivedExamined + 500)).map { "from h\($0) by mx with SMTP id \($0)" }
        let result = try attribute(lines + ["from late (late [192.0.2.1]) by mx with SMTP"])
        #expect(result.receivedCount == Attribution.maxReceivedExamined)
        #expect(result.sourceAddress == nil)
    }
}

@Suite struct TrustedNetworksTests {
    @Test func parsesListsAndAlwaysTrustsLoopback() throws {
        let networks = try TrustedNetworks(parsing: "10.20.0.0/16, 2001:db8:ffff::/48,192.0.2.7")
        #expect(networks.contains(address: "10.20.255.1"))
        #expect(!networks.contains(address: "10.21.0.1"))
        #expect(networks.contains(address: "2001:db8:ffff:1::9"))
        #expect(networks.contains(address: "192.0.2.7"))
        #expect(!networks.contains(address: "192.0.2.8"))
        #expect(networks.contains(address: "127.1.2.3"))
        #expect(networks.contains(address: "::1"))
        #expect(networks.contains(address: "::ffff:10.20.0.1"))
        #expect(TrustedNetworks().contains(address: "127.0.0.1"))
    }

    @Test func hostBitsAreCleared() throws {
        let networks = try TrustedNetworks(parsing: "198.51.100.77/26")
        #expect(networks.contains(address: "198.51.100.64"))
        #expect(!networks.contains(address: "198.51.100.128"))
    }

    @Test func mappedPrefixBecomesIPv4() throws {
        let networks = try TrustedNetworks(parsing: "::ffff:10.0.0.0/104")
        #expect(networks.contains(address: "10.9.9.9"))
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0/-1", "2001:db8::/129", "example.org", "10.0.0/8", "::ffff:10.0.0.0/90", "1.2.3.4/x"])
    func rejectsMalformedEntries(_ entry: String) {
        #expect(throws: TrustedNetworks.ParseError.self) { try TrustedNetworks(parsing: entry) }
    }
}
