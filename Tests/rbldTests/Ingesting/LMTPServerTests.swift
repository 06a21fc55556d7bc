// LMTPServerTests.swift -- LMTP over a real socket on 127.0.0.1: recipients, commits, 451, duplicates.

import DNSBL
import Foundation
@testable import Ingest
import Logging
@testable import Store
import Testing
@testable import rbld

@Suite(.serialized) struct LMTPServerTests {
    /// A server on 127.0.0.1 (kernel-chosen port) over a store; stopped by `body`'s end.
    static func withServer<T>(_ sandbox: IngestSandbox, readOnlyStore: Bool = false, idleTimeout: TimeAmountSeconds = 30,
                              maxConnections: Int = 64, _ body: (Int, LMTPIngestWorker) async throws -> T) async throws -> T {
        _ = try Store(path: sandbox.dbPath)  // created and migrated
        let store = try Store(path: sandbox.dbPath, readOnly: readOnlyStore)
        var logger = Logger(label: "test.lmtp")
        logger.logLevel = .critical
        let worker = LMTPIngestWorker(ingester: Ingester(store: store, zone: "bl.example.org", trustedNetworks: TrustedNetworks()),
                                      quarantine: Quarantine(path: sandbox.path + "/quarantine"), logger: logger)
        var options = LMTPServer.Options()
        options.session.hostname = "trap.test"
        options.idleTimeout = .seconds(idleTimeout)
        options.maxConnections = maxConnections
        let server = LMTPServer(address: try ListenAddress(parsing: "127.0.0.1:0"), options: options, logger: logger,
                                deliver: worker.deliver)
        try await server.start()
        let port = Int(try #require(server.boundAddress).port)
        do {
            let result = try await body(port, worker)
            await server.stop()
            await worker.shutdown()
            return result
        } catch {
            await server.stop()
            await worker.shutdown()
            throw error
        }
    }

    typealias TimeAmountSeconds = Int64

    /// A connection past the greeting and LHLO, ready for a transaction.
    static func greetedClient(port: Int) throws -> LineClient {
        let client = try LineClient(port: port)
        _ = client.reply()                                      // 220
        client.send("LHLO x\r\n")
        _ = client.reply()                                      // 250-…
        return client
    }

    /// One transaction; returns the replies after DATA's end.
    static func send(_ client: LineClient, sender: String, recipients: [String], message: String) -> [String] {
        client.send("MAIL FROM:<\(sender)>\r\n")
        for recipient in recipients { client.send("RCPT TO:<\(recipient)>\r\n") }
        client.send("DATA\r\n")
        _ = client.reply()                                      // MAIL
        for _ in recipients { _ = client.reply() }              // RCPT
        guard client.reply().first?.hasPrefix("354") == true else { return ["no 354"] }
        let stuffed = message.split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        client.send(stuffed + (stuffed.hasSuffix("\r\n") ? "" : "\r\n") + ".\r\n")
        return recipients.compactMap { _ in client.line() }
    }

    @Test func aSessionWithSeveralRecipientsGetsA250EachAfterTheCommit() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox) { port, worker in
            let client = try LineClient(port: port)
            #expect(client.reply().first?.hasPrefix("220 trap.test") == true)
            client.send("LHLO mx.trap.test\r\n")
            #expect(client.reply().last?.hasPrefix("250 SIZE") == true)
            let message = IngestMail.lmtpDSN(source: "81.2.69.40", id: "L1") + "\r\n.starts with a dot\r\n"
            let replies = Self.send(client, sender: "", recipients: ["trap.one@trap.example.net", "trap.two@trap.example.net"],
                                    message: message)
            #expect(replies.count == 2)
            #expect(replies.allSatisfy { $0.hasPrefix("250 2.0.0 <trap.") && $0.contains("recorded: dsn from 81.2.69.40") }, "\(replies)")
            // The 250 came after the commit: another connection sees the hit now.
            #expect(try storeValue(sandbox.dbPath) == 1)
            // The same message again: accepted, counted once.
            let again = Self.send(client, sender: "", recipients: ["trap.one@trap.example.net"], message: message)
            #expect(again.first?.contains("duplicate") == true, "\(again)")
            #expect(try storeValue(sandbox.dbPath) == 1)
            client.send("QUIT\r\n")
            #expect(client.reply().first?.hasPrefix("221") == true)
            #expect(worker.totals.recorded == 1 && worker.totals.duplicate == 1)
        }
    }

    @Test func theEnvelopeSenderIsTheReturnPathForClassification() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox) { port, _ in
            let client = try Self.greetedClient(port: port)
            // An auto-reply with the null envelope sender and no Return-Path of its own.
            let message = """
                Received: from mail.example.com (mail.example.com [81.2.69.41])\r
                \tby mx.trap.example.net (Postfix) with ESMTP id X1\r
                \tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100\r
                From: Bob Example <bob@example.com>\r
                To: trap.one@trap.example.net\r
                Subject: Out of office: your message\r
                Auto-Submitted: auto-replied\r
                Date: Tue, 11 Mar 2025 09:14:01 +0100\r
                Message-Id: <oof-1@example.com>\r
                \r
                I am out of the office until Monday and will reply to your message when I return.\r
                """
            let replies = Self.send(client, sender: "", recipients: ["trap.one@trap.example.net"], message: message)
            #expect(replies.first?.contains("recorded: autoreply from 81.2.69.41") == true, "\(replies)")
            let store = try Store(path: sandbox.dbPath)
            let row = try store.db.statement("SELECT excerpt, trap FROM hits")
            defer { row.reset() }
            #expect(try row.step())
            #expect(row.text(0)?.contains("trap.one@") == false, "redacted: \(row.text(0) ?? "")")
            #expect(row.text(1) == "…@trap.example.net")
        }
    }

    @Test func anUnavailableStoreGives451PerRecipientAndNothingIsLost() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox, readOnlyStore: true) { port, worker in
            let client = try Self.greetedClient(port: port)
            let replies = Self.send(client, sender: "", recipients: ["a@trap.example.net", "b@trap.example.net"],
                                    message: IngestMail.lmtpDSN(source: "81.2.69.42", id: "F1"))
            #expect(replies == ["451 4.3.0 <a@trap.example.net> store unavailable, try again later",
                                "451 4.3.0 <b@trap.example.net> store unavailable, try again later"])
            #expect(try storeValue(sandbox.dbPath) == 0)
            #expect(sandbox.count("quarantine/new") == 0, "a store failure is not the message's fault")
            // The session goes on after a failed transaction.
            client.send("NOOP\r\n")
            #expect(client.reply() == ["250 2.0.0 OK"])
            #expect(worker.totals.deferred == 1)
        }
    }

    @Test func anEmptyMessageIsAcceptedAsProcessed() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox) { port, worker in
            let client = try Self.greetedClient(port: port)
            // Only the Return-Path the session adds: a header, but nothing to attribute.
            let replies = Self.send(client, sender: "x@example.org", recipients: ["a@trap.example.net"], message: "")
            #expect(replies == ["250 2.0.0 <a@trap.example.net> processed: no public source to attribute"])
            #expect(worker.totals.unattributable == 1)
        }
    }

    /// A bounce with NUL bytes is damaged input: its hit is committed and a copy kept in
    /// quarantine before the 250, and the reply says so.
    @Test func aDamagedMessageIsRecordedAndCopiedToQuarantine() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox) { port, worker in
            let client = try Self.greetedClient(port: port)
            let message = IngestMail.lmtpDSN(source: "81.2.69.43", id: "N1")
                .replacingOccurrences(of: "I'm sorry", with: "I'm\u{0} sorry")
            let replies = Self.send(client, sender: "", recipients: ["a@trap.example.net", "b@trap.example.net"], message: message)
            #expect(replies.count == 2)
            #expect(replies.allSatisfy { $0.hasPrefix("250 2.0.0 <") && $0.contains("recorded: dsn from 81.2.69.43")
                                         && $0.contains("damaged input, a copy kept in quarantine") }, "\(replies)")
            #expect(try storeValue(sandbox.dbPath) == 1, "nothing lost: the hit is recorded")
            let kept = sandbox.names("quarantine/new")
            #expect(kept.count == 1)
            let copy = try String(contentsOfFile: sandbox.path + "/quarantine/new/" + kept[0], encoding: .utf8)
            #expect(copy.contains("I'm\u{0} sorry") && copy.hasPrefix("Return-Path: <>"), "the message as delivered")
            let reason = try String(contentsOfFile: sandbox.path + "/quarantine/reasons/" + kept[0], encoding: .utf8)
            #expect(reason.contains("origin: lmtp from ") && reason.contains("damaged input (NUL bytes)"), "\(reason)")
            #expect(worker.totals.recorded == 1 && worker.totals.damaged == 1)
        }
    }

    /// When neither the message (not a mail message) nor the copy of a damaged one can be
    /// kept, every recipient gets 451: the MTA keeps the message and retries.
    @Test func aDamagedMessageThatCannotBeKeptGets451() async throws {
        let sandbox = IngestSandbox()
        _ = FileManager.default.createFile(atPath: sandbox.path + "/quarantine", contents: Data())  // not a folder
        try await Self.withServer(sandbox) { port, worker in
            let client = try Self.greetedClient(port: port)
            let message = IngestMail.lmtpDSN(source: "81.2.69.44", id: "N2")
                .replacingOccurrences(of: "I'm sorry", with: "I'm\u{0} sorry")
            let replies = Self.send(client, sender: "", recipients: ["a@trap.example.net"], message: message)
            #expect(replies == ["451 4.3.0 <a@trap.example.net> cannot keep the message, try again later"])
            #expect(worker.totals.failed == 1)
        }
    }

    @Test func pipelinedTransactionsAreAnsweredInOrder() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox) { port, worker in
            let client = try LineClient(port: port)
            _ = client.reply()
            var script = "LHLO x\r\n"
            for index in 0..<5 {
                script += "MAIL FROM:<>\r\nRCPT TO:<t\(index)@trap.example.net>\r\nDATA\r\n"
                script += IngestMail.lmtpDSN(source: IngestMail.source(index), id: "P\(index)") + "\r\n.\r\n"
            }
            client.send(script + "QUIT\r\n")   // everything at once (RFC 2920 pipelining)
            var lines: [String] = []
            while let line = client.line(), lines.count < 100 { lines.append(line) }
            let finals = lines.filter { $0.hasPrefix("250 2.0.0 <t") }
            #expect(finals.count == 5, "\(lines)")
            #expect(finals.enumerated().allSatisfy { $0.element.hasPrefix("250 2.0.0 <t\($0.offset)@") })
            #expect(lines.last?.hasPrefix("221") == true)
            #expect(try storeValue(sandbox.dbPath) == 5)
            #expect(worker.totals.recorded == 5)
        }
    }

    @Test func connectionsBeyondTheCapGet421() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox, maxConnections: 1) { port, _ in
            let first = try LineClient(port: port)
            #expect(first.reply().first?.hasPrefix("220") == true)
            let second = try LineClient(port: port)
            #expect(second.line()?.hasPrefix("421 4.3.2") == true)
            #expect(second.line() == nil, "closed")
            first.send("NOOP\r\n")
            #expect(first.reply() == ["250 2.0.0 OK"], "the first connection is unaffected")
        }
    }

    @Test func anIdleConnectionIsClosedWith421() async throws {
        let sandbox = IngestSandbox()
        try await Self.withServer(sandbox, idleTimeout: 1) { port, _ in
            let client = try LineClient(port: port, timeoutSeconds: 5)
            _ = client.reply()
            #expect(client.line()?.hasPrefix("421 4.4.2") == true)
            #expect(client.line() == nil, "closed")
        }
    }
}
