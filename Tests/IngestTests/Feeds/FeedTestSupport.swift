// FeedTestSupport.swift -- temp Maildirs, stores and trap messages for the feed tests.

import Foundation
import Glibc
@testable import Store
import Testing
@testable import Ingest

/// A temporary folder with a store and a trap Maildir, removed at the end.
final class FeedSandbox {
    let path: String
    let dbPath: String
    let maildir: Maildir

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("rbld-feeds-\(UUID().uuidString)").path
        dbPath = path + "/rbld.sqlite"
        maildir = Maildir(path: path + "/trap")
        try maildir.create()
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func ingester(_ store: Store? = nil) throws -> Ingester {
        Ingester(store: try store ?? Store(path: dbPath), zone: "bl.example.org", trustedNetworks: TrustedNetworks())
    }

    /// Drops a message into `new/` the way an MDA does (tmp/, then rename).
    @discardableResult
    func deliver(_ text: String, name: String? = nil) throws -> String {
        try maildir.deliver(Array(text.utf8), name: name ?? Maildir.uniqueName())
    }

    func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: maildir.path + "/" + folder)) ?? []).sorted()
    }
}

/// Rows in a table of the store (by opening it again: what a restarted process sees).
func storeCount(_ dbPath: String, _ sql: StaticString = "SELECT count(*) FROM hits") throws -> Int {
    let store = try Store(path: dbPath)
    let statement = try store.db.statement(sql)
    defer { statement.reset() }
    _ = try statement.step()
    return statement.int(0)
}

/// Trap messages with public source addresses (nothing is ever sent to them).
enum TrapMail {
    /// A Postfix-style DSN delivered to the trap by `source`; `id` makes it unique.
    static func dsn(source: String, id: String) -> String {
        """
        Return-Path: <>
        Delivered-To: trap.one@trap.example.net
        Received: from mx.bouncer.example (mx.bouncer.example [\(source)])
        \tby mx.trap.example.net (Postfix) with ESMTP id \(id)
        \tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
        Date: Tue, 11 Mar 2025 09:14:01 +0100
        From: MAILER-DAEMON@bouncer.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: trap.one@trap.example.net
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b-\(id)"
        Message-Id: <\(id)@bouncer.example>

        This is a MIME-encapsulated message.

        --b-\(id)
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.bouncer.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        <nobody@example.org>: host mail.example.org said: 550 5.1.1 User unknown

        --b-\(id)
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.bouncer.example

        Final-Recipient: rfc822; nobody@example.org
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: User unknown

        --b-\(id)
        Content-Type: text/rfc822-headers

        From: trap.one@trap.example.net
        To: nobody@example.org
        Subject: cheap watches \(id)

        --b-\(id)--

        """
    }

    /// An ordinary personal message: not backscatter.
    static func ham(source: String, id: String) -> String {
        """
        Return-Path: <alice@shop.example>
        Delivered-To: trap.one@trap.example.net
        Received: from mail.shop.example (mail.shop.example [\(source)])
        \tby mx.trap.example.net (Postfix) with ESMTP id \(id)
        \tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
        From: Alice Example <alice@shop.example>
        To: trap.one@trap.example.net
        Subject: Notes from Tuesday \(id)
        Date: Tue, 11 Mar 2025 09:14:01 +0100
        Message-Id: <\(id)@shop.example>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Hi Bob,

        here are my notes from Tuesday's meeting about the garden project.
        Let's meet again next week.

        Alice

        """
    }

    /// A DSN with no Received header at all: unattributable.
    static func unattributable(id: String) -> String {
        dsn(source: "81.2.69.1", id: id).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("Received:") && !$0.hasPrefix("\tby mx.trap") && !$0.hasPrefix("\tfor <trap") }
            .joined(separator: "\n")
    }

    /// A public address per index (81.2.x.y: no special-purpose range).
    static func source(_ index: Int) -> String { "81.2.\(index / 250 % 250).\(index % 250 + 1)" }
}

/// The malformed inputs ingest is specified for (docs/ARCHITECTURE.md, bad input) and what ingest must do with each: processed as usual,
/// processed with a copy kept in quarantine (damaged: ``MessageDefects/severe``), or kept in
/// quarantine instead (not a message). Never a crash, never a message lost.
struct HostileInput: CustomTestStringConvertible, Sendable {
    enum Expected: Equatable, Sendable {
        /// Processed; no quarantine copy.
        case processed
        /// Processed, and a copy kept in quarantine whose reason names these defects.
        case damaged([String])
        /// Not a message: moved to quarantine whole.
        case quarantined
    }

    let label: String
    let bytes: [UInt8]
    let expected: Expected
    var testDescription: String { label }

    static let all: [HostileInput] = {
        let dsn = TrapMail.dsn(source: "81.2.69.30", id: "X")
        let received = "Received: from a.example (a.example [81.2.69.31]) by b.example; Tue, 11 Mar 2025 09:14:02 +0100\n"
        var deep = "Subject: deep\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
        for level in 1..<20_000 { deep += "--b\(level - 1)\nContent-Type: multipart/mixed; boundary=\"b\(level)\"\n\n" }
        var parts = "Subject: parts\nContent-Type: multipart/mixed; boundary=\"p\"\n\n"
        for _ in 0..<30_000 { parts += "--p\nContent-Type: text/plain\n\nx\n" }
        let cut = dsn.range(of: "Subject: Undelivered")!.lowerBound
        let body = dsn.range(of: "I'm sorry")!.lowerBound
        let fields = (0..<(MessageLimits.maxHeaderFieldCount + 100)).map { "X-Field-\($0): v\n" }.joined()
        return [
            // Cut inside a header line: the rest of the header and the body are missing.
            .init(label: "truncated-header", bytes: Array((String(dsn[..<cut]) + "Subject: Undeliv").utf8),
                  expected: .damaged(["no end of header"])),
            .init(label: "nul-bytes", bytes: Array(dsn.utf8).map { $0 == UInt8(ascii: "\n") ? 0 : $0 },
                  expected: .damaged(["NUL bytes", "no end of header"])),
            // One NUL in the text of a real bounce: the hit is recorded all the same.
            .init(label: "nul-in-body", bytes: Array((String(dsn[..<body]) + "\u{0}" + String(dsn[body...])).utf8),
                  expected: .damaged(["NUL bytes"])),
            .init(label: "8bit-garbage", bytes: Array(dsn.utf8) + (0..<5000).map { UInt8(128 + $0 % 128) }, expected: .processed),
            .init(label: "2mb-header", bytes: Array(("X-Long: " + String(repeating: "a", count: 2 << 20) + "\n" + dsn).utf8),
                  expected: .processed),
            .init(label: "header-over-the-limit", bytes: Array(("X-Long: " + String(repeating: "a", count: MessageLimits.maxHeaderByteCount + 10) + "\n" + dsn).utf8),
                  expected: .damaged(["header over the size limit"])),
            .init(label: "many-received", bytes: Array((String(repeating: received, count: 8000) + dsn).utf8), expected: .processed),
            .init(label: "too-many-fields", bytes: Array((fields + dsn).utf8), expected: .damaged(["too many header fields"])),
            .init(label: "mime-20000-deep", bytes: Array(deep.utf8), expected: .damaged(["MIME nested too deep"])),
            .init(label: "mime-30000-parts", bytes: Array(parts.utf8), expected: .damaged(["too many MIME parts"])),
            .init(label: "over-the-size-limit", bytes: Array(dsn.utf8) + [UInt8](repeating: 0x61, count: MessageLimits.maxMessageByteCount),
                  expected: .damaged(["message over the size limit"])),
            // A header and no body (RFC 5322 §3.5): complete, though it has no empty line.
            .init(label: "header-only", bytes: Array("From: a@example.org\nSubject: header only\n".utf8), expected: .processed),
            .init(label: "empty", bytes: [], expected: .quarantined),
            .init(label: "binary", bytes: (0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }, expected: .quarantined),
        ]
    }()
}
