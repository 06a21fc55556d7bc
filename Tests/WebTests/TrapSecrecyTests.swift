// TrapSecrecyTests.swift -- ingest bounces to known traps, crawl every page and API answer, find no trap in any.

import Foundation
import Ingest
@testable import Store
import Testing
import TestSupport
@testable import Web

/// Trap mail as a trap network receives it: the trap's own hops (an edge relay on a trusted
/// public network, loopback delivery), the hop from the bouncing server, and the trap
/// address in the delivery fields, To, the subject and the DSN.
@Suite struct TrapSecrecyTests {
    struct Trap {
        var local: String
        var domain: String
        /// The trap network's own hosts, which only its Received hops name.
        var edge: String
        var store: String
        var address: String { "\(local)@\(domain)" }
    }

    static let traps = [
        Trap(local: "sales.winter7", domain: "catch-one.example", edge: "edge1.trapnet-hosts.example", store: "vault3.trapnet-hosts.example"),
        Trap(local: "Info-Desk", domain: "catch-two.example", edge: "relay-x9.trapnet-hosts.example", store: "imap-q.trapnet-hosts.example"),
        Trap(local: "j.doe+promo", domain: "mail.catch-three.example", edge: "mx-in.hiddenmx.example", store: "lmtp.hiddenmx.example"),
    ]
    /// The trap network's edge relays: trusted, so attribution looks past their hops.
    static let trapRelayNetwork = "45.0.0.0/24"

    static func trapHops(_ trap: Trap, id: Int) -> String {
        """
        Received: from \(trap.edge) (\(trap.edge) [127.0.0.1])
        \tby \(trap.store) (Dovecot) with LMTP id Q\(id)zz
        \tfor <\(trap.address)>; Tue, 11 Mar 2025 09:14:05 +0100
        Received: from mx-front.\(trap.domain) (\(trap.edge) [45.0.0.7])
        \tby \(trap.edge) (Postfix) with ESMTPS id E\(id)yy
        \tfor <\(trap.address)>; Tue, 11 Mar 2025 09:14:03 +0100

        """
    }

    static func dsn(_ trap: Trap, source: String, bouncer: String, id: Int) -> String {
        """
        Return-Path: <>
        X-Original-To: \(trap.address)
        Delivered-To: \(trap.address)
        \(trapHops(trap, id: id))Received: from \(bouncer) (\(bouncer) [\(source)])
        \tby mx.\(trap.domain) (Postfix) with ESMTPS id 4XyZ\(id)q2Rf7z9vQ
        \tfor <\(trap.address)>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
        Date: Tue, 11 Mar 2025 09:14:01 +0100 (CET)
        From: MAILER-DAEMON@\(bouncer) (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender (\(trap.address))
        To: \(trap.address)
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="B\(id)"
        Message-Id: <20250311081401.\(id)@\(bouncer)>

        --B\(id)
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host \(bouncer).
        Your message to <nobody@example.org> could not be delivered.

        --B\(id)
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; \(bouncer)
        X-Postfix-Sender: rfc822; \(trap.address)

        Final-Recipient: rfc822; nobody@example.org
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: User unknown

        --B\(id)
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        From: "Cheap Watches" <\(trap.address)>
        To: nobody@example.org
        Subject: Replica watches \(id)

        --B\(id)--

        """
    }

    static func vacation(_ trap: Trap, source: String, bouncer: String, id: Int) -> String {
        """
        Return-Path: <m.rossi@\(bouncer)>
        Delivered-To: \(trap.address)
        \(trapHops(trap, id: id))Received: from \(bouncer) (\(bouncer) [\(source)])
        \tby mx.\(trap.domain) (Postfix) with ESMTP id 4ZC1k9\(id)Fz1xq
        \tfor <\(trap.address)>; Mon, 17 Mar 2025 15:20:11 +0100 (CET)
        From: Mario Rossi <m.rossi@\(bouncer)>
        To: \(trap.address)
        Cc: other.trap@\(trap.domain)
        Subject: Fuori ufficio: Re: offer for \(trap.local)
        Auto-Submitted: auto-replied
        Precedence: junk
        X-Mailer: vacation 1.2.7
        Date: Mon, 17 Mar 2025 15:20:10 +0100
        Message-Id: <vacation.17422212\(id).4410@\(bouncer)>

        Sono fuori ufficio fino al 24 marzo con accesso limitato alla posta.
        I am out of the office until March 24 with limited access to email.

        """
    }

    /// Every string that would reveal a trap.
    static var secrets: [String] {
        traps.flatMap { trap in
            [trap.address, trap.local, trap.domain, trap.edge, trap.store, "mx.\(trap.domain)", "mx-front.\(trap.domain)",
             "other.trap", "trapnet-hosts", "hiddenmx", "45.0.0.7"]
        }
    }

    @Test func noPageOrAnswerRevealsATrap() async throws {
        var sources: [String] = []
        let harness = try WebHarness(clock: TestClock(1_741_700_000)) { store in
            var networks = TrustedNetworks()
            try networks.add(Self.trapRelayNetwork)
            let ingester = Ingester(store: store, zone: WebHarness.zone, trustedNetworks: networks, clock: { 1_741_690_000 })
            var id = 0
            for (index, trap) in Self.traps.enumerated() {
                for (kind, make) in [("dsn", Self.dsn), ("vacation", Self.vacation)] {
                    id += 1
                    let source = index == 2 && kind == "dsn" ? "2a00:1450:4001:81c::\(id)" : "46.\(index + 1).\(id).9"
                    let bouncer = "mail\(id).bouncer-\(index).example.com"
                    // Two messages per source and kind, delivered as Maildir would (no envelope
                    // recipient), so the trap address comes from the header alone.
                    for copy in 0..<2 {
                        let text = make(trap, source, bouncer, id * 10 + copy).replacingOccurrences(of: "\n", with: "\r\n")
                        let result = try ingester.ingest(FeedMessage(bytes: Array(text.utf8), origin: "\(kind)-\(id)-\(copy)",
                                                                     receivedTime: 1_741_680_000 + Int64(id * 60 + copy)))
                        guard case .recorded(let recorded, _, _) = result.outcome else {
                            Issue.record("\(kind) to \(trap.address) from \(source): \(result.outcome)")
                            continue
                        }
                        #expect(recorded == IPPrefix(source)!.unmapped)
                    }
                    sources.append(source)
                }
            }
        }
        try await harness.start()
        defer { Task { await harness.stop() } }
        #expect(sources.count == 6)

        // The store does hold trap details (so the test is not vacuous): the domain in
        // `trap`, and the trap-side hops in the excerpt.
        let raw = try harness.store.report(for: IPPrefix(sources[0])!, zone: WebHarness.zone, now: harness.clock.now)
        #expect(raw.lastHits.contains { $0.trap.contains(Self.traps[0].domain) })
        #expect(raw.lastHits.contains { ($0.excerpt ?? "").contains(Self.traps[0].edge) })

        var pages: [(String, HTTPAnswer)] = []
        let client = harness.client
        for path in ["/", "/delist", "/stats", "/api/v1/stats"] {
            pages.append((path, try await client.get(path)))
        }
        for source in sources {
            for path in ["/lookup/\(source)", "/api/v1/lookup/\(source)", "/delist?ip=\(source)"] {
                pages.append((path, try await client.get(path)))
            }
        }
        var shown = 0
        for (path, answer) in pages {
            if path.hasPrefix("/lookup/") || path.hasPrefix("/api/v1/lookup/") {
                #expect(answer.status == 200, "\(path): \(answer)")
                // The evidence is there: the bouncing host, the source hop, the subject.
                #expect(answer.body.contains("bouncer-"), "\(path) shows no evidence")
                #expect(answer.body.contains("Subject"), "\(path) shows no subject")
                shown += 1
            }
            let body = answer.body.lowercased() + answer.headers.values.joined(separator: " ").lowercased()
            for secret in Self.secrets where body.contains(secret.lowercased()) {
                Issue.record("\(path) reveals \(secret)")
            }
        }
        #expect(shown == sources.count * 2)
    }

    @Test(arguments: [
        ("hop with trap host in by", "from a.example (a.example [46.1.1.1]) by mx.trap.example; Tue, 1 Jan 2025", "from a.example (a.example [46.1.1.1])"),
        ("other hop", "from mx.trap.example (mx.trap.example [45.0.0.7]) by store.trap.example", nil),
        ("address only as part of another", "from b.example (b.example [146.1.1.10]) by x", nil),
        ("IPv6", "from c.example (c.example [IPv6:2a00::1]) by mx.trap.example with ESMTP id 1 for <t@trap.example>", "from c.example (c.example [IPv6:2a00::1])"),
    ] as [(String, String, String?)])
    func sourceHopKeepsOnlyTheFromClause(_ name: String, _ value: String, _ expected: String?) {
        let source = IPPrefix(name == "IPv6" ? "2a00::1" : (name == "address only as part of another" ? "46.1.1.1" : "46.1.1.1"))!
        #expect(EvidenceRedactor.sourceHop(value, source: source)?.clause == expected, "\(name)")
    }

    @Test func scrubMasksTrapAddressesAndNames() {
        let redactor = EvidenceRedactor(trapNames: ["trap.example", "hidden-host.example"])
        let hit = SourceReport.Evidence(time: 0, kind: "dsn", strength: "strong", trap: "…@catch.example", reporter: "hidden-host.example",
                                        digest: "", excerpt: """
            Reason: bounce for someone@else.example
            Delivered-To: t@catch.example
            Received: from x.example (x.example [46.2.2.2]) by mx.catch.example
            From: Daemon <postmaster@trap.example>
            To: t@catch.example
            Subject: failed: [trap]@catch.example and Bob@Sub.Catch.Example at hidden-host.example
            Message-ID: <1@mx.catch.example>
            """)
        let evidence = redactor.evidence(hit, source: IPPrefix("46.2.2.2")!)
        let text = evidence.lines.joined(separator: "\n")
        #expect(evidence.host == nil, "the reporter is a trap host name here")
        #expect(text.contains("Received: from x.example (x.example [46.2.2.2])"))
        #expect(!text.lowercased().contains("catch.example"), "\(text)")
        #expect(!text.contains("trap.example"), "\(text)")
        #expect(!text.contains("hidden-host"), "\(text)")
        #expect(!text.contains("someone@"), "every address in the reason is masked: \(text)")
        #expect(!text.contains("Delivered-To") && !text.contains("To: "), "\(text)")
        #expect(text.contains("Subject: failed:"))
    }
}
