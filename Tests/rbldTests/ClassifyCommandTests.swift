// ClassifyCommandTests.swift -- `rbld classify` as a subprocess: the JSON of docs/CLI.md, trusted networks, exit codes.

import Foundation
import Testing
import TestSupport

@Suite struct ClassifyCommandTests {
    static let rbld = rbldExecutable()

    /// The values docs/CLI.md allows.
    static let verdicts: Set<String> = ["backscatter", "not-backscatter", "unattributable"]
    static let kinds: Set<String> = ["dsn", "autoreply", "challenge", "virus", "unknown-bounce", "none"]

    /// Runs `rbld classify` (bounded); its exit status, and stdout and stderr apart.
    static func classify(_ arguments: [String], sandbox: IngestSandbox) throws -> (status: Int32?, stdout: String, stderr: String) {
        let out = sandbox.path + "/out-\(UUID().uuidString)"
        let err = sandbox.path + "/err-\(UUID().uuidString)"
        // stdout and stderr apart: the JSON lines must parse on their own.
        let process = try ChildProcess(try #require(rbld), ["classify"] + arguments, logPath: out, errorPath: err)
        let status = process.exitCode(within: 60)
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        return (status, stdout, stderr)
    }

    /// Each stdout line as a JSON object (nil for a line that is not one).
    static func objects(_ stdout: String) -> [[String: Any]?] {
        stdout.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// A DSN whose top hop is the trap's own relay (192.0.2.25), below it the bouncer.
    static func relayedDSN() -> String {
        IngestMail.dsn(source: "203.0.113.77", id: "C4").replacingOccurrences(of: "Delivered-To: trap.one@trap.example.net\n", with: """
            Delivered-To: trap.one@trap.example.net
            Received: from relay.trap.example.net (relay.trap.example.net [192.0.2.25])
            \tby store.trap.example.net (Postfix) with ESMTP id C4R; Tue, 11 Mar 2025 09:14:03 +0100 (CET)

            """)
    }

    @Test func jsonFollowsTheContractOneObjectPerFileInOrder() throws {
        let sandbox = IngestSandbox()
        let files = [sandbox.path + "/dsn.eml", sandbox.path + "/ham.eml", sandbox.path + "/headless.eml"]
        try Self.write(IngestMail.dsn(source: "203.0.113.70", id: "C1"), to: files[0])
        try Self.write(IngestMail.ham(source: "203.0.113.71", id: "C2"), to: files[1])
        // A bounce without any Received header: nothing to attribute.
        try Self.write(IngestMail.dsn(source: "203.0.113.72", id: "C3").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("Received:") && !$0.hasPrefix("\tby mx.trap") && !$0.hasPrefix("\tfor <trap") }
            .joined(separator: "\n"), to: files[2])

        let (status, stdout, stderr) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--json"] + files, sandbox: sandbox)

        #expect(status == 0, "\(stderr)")
        let objects = Self.objects(stdout)
        #expect(objects.count == 3, "one object per file: \(stdout)")
        for (index, object) in objects.enumerated() {
            let object = try #require(object, "line \(index + 1) is a JSON object: \(stdout)")
            #expect(object["file"] as? String == files[index], "in the order given")
            #expect(Self.verdicts.contains(object["verdict"] as? String ?? "?"), "\(object)")
            #expect(Self.kinds.contains(object["kind"] as? String ?? "?"), "\(object)")
            #expect(object.keys.contains("source_ip"), "source_ip is always present: \(object)")
            #expect(!((object["reason"] as? String) ?? "").isEmpty, "a reason: \(object)")
        }
        let dsn = try #require(objects[0])
        #expect(dsn["verdict"] as? String == "backscatter")
        #expect(dsn["kind"] as? String == "dsn")
        #expect(dsn["rule"] as? String == "delivery-status-report", "the deciding rule: \(dsn)")
        #expect(dsn["strength"] as? String == "strong", "an RFC 3464 report lists on its own: \(dsn)")
        #expect(dsn["source_ip"] as? String == "203.0.113.70")
        let ham = try #require(objects[1])
        #expect(ham["verdict"] as? String == "not-backscatter")
        #expect(ham["kind"] as? String == "none")
        #expect(ham["strength"] == nil, "strength belongs to backscatter only: \(ham)")
        let headless = try #require(objects[2])
        #expect(headless["verdict"] as? String == "unattributable")
        #expect(headless["source_ip"] is NSNull, "null, not absent or empty: \(headless)")
    }

    /// `--explain` names the rules that concluded, the deciding one first, and the evidence.
    @Test func explainPrintsTheRulesThatFiredAndTheEvidence() throws {
        let sandbox = IngestSandbox()
        let file = sandbox.path + "/dsn.eml"
        try Self.write(IngestMail.dsn(source: "203.0.113.78", id: "C8"), to: file)
        let (status, text, stderr) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--explain", file], sandbox: sandbox)
        #expect(status == 0, "\(stderr)")
        #expect(text.contains("rule=delivery-status-report"), "\(text)")
        #expect(text.contains("    rules: delivery-status-report (decided)"), "\(text)")
        #expect(text.contains("delivery-status part"), "the evidence: \(text)")
        #expect(text.contains("    strength: strong (the message's structure): by the default policy a hit lists its source on "
                              + "its own; it adds 1 to its source's score (weight of dsn 1; threshold 1)"), "\(text)")
        let (_, json, _) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--explain", "--json", file], sandbox: sandbox)
        let object = try #require(Self.objects(json).first ?? nil)
        let rules = try #require(object["matched_rules"] as? [String], "\(json)")
        #expect(rules.first == "delivery-status-report")
        #expect((object["evidence"] as? [String] ?? []).contains("delivery-status part"), "\(json)")
    }

    /// Weak evidence is explained with what it takes to list: corroboration.
    @Test func explainSaysWhatWeakEvidenceNeeds() throws {
        let sandbox = IngestSandbox()
        let file = sandbox.path + "/away.eml"
        try Self.write("""
            Return-Path: <eva@recipient.example>
            Received: from mx.recipient.example (mx.recipient.example [203.0.113.79])
            \tby mx.trap.example.net (Postfix) with ESMTP id 4Q1; Tue, 11 Mar 2025 09:14:03 +0100
            From: Eva <eva@recipient.example>
            To: info@trap.example.net
            Subject: Away
            Date: Tue, 11 Mar 2025 09:14:01 +0100
            Message-ID: <away1@recipient.example>
            X-Autoreply: yes
            Content-Type: text/plain; charset=utf-8

            I am away until Monday.

            """, to: file)
        let (status, text, stderr) = try Self.classify(["--explain", file], sandbox: sandbox)
        #expect(status == 0, "\(stderr)")
        #expect(text.contains("backscatter kind=autoreply strength=weak"), "\(text)")
        #expect(text.contains("    strength: weak (wording with little structure): by the default policy a hit counts only when "
                              + "corroborated, by 2 weak hits from 2 traps within 1w or by a strong hit; then it adds 1 to its "
                              + "source's score (weight of autoreply 1 × weak-weight 1; threshold 1)"), "\(text)")
    }

    @Test func trustedNetworksMoveTheSourceBelowTheRelay() throws {
        let sandbox = IngestSandbox()
        let file = sandbox.path + "/relayed.eml"
        try Self.write(Self.relayedDSN(), to: file)
        let (untrusted, stdout1, stderr1) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--json", file], sandbox: sandbox)
        #expect(untrusted == 0, "\(stderr1)")
        #expect(Self.objects(stdout1).first??["source_ip"] as? String == "192.0.2.25", "the top untrusted hop: \(stdout1)")
        let (trusted, stdout2, stderr2) = try Self.classify(["--trusted-networks", "10.0.0.0/8,192.0.2.0/24", "--json", file], sandbox: sandbox)
        #expect(trusted == 0, "\(stderr2)")
        let object = try #require(Self.objects(stdout2).first ?? nil)
        #expect(object["source_ip"] as? String == "203.0.113.77", "the relay's hop is skipped: \(stdout2)")
        #expect(object["verdict"] as? String == "backscatter")
        // Everything trusted: unattributable, source_ip null.
        let (all, stdout3, _) = try Self.classify(["--trusted-networks", "192.0.2.0/24,203.0.113.0/24", "--json", file], sandbox: sandbox)
        #expect(all == 0)
        let none = try #require(Self.objects(stdout3).first ?? nil)
        #expect(none["verdict"] as? String == "unattributable")
        #expect(none["source_ip"] is NSNull)
    }

    /// A missing file is an I/O error (74, sysexits as docs/CLI.md lists them) named on stderr; the other
    /// files are still classified.
    @Test func aMissingFileExits74NamingItAndTheOthersAreClassified() throws {
        let sandbox = IngestSandbox()
        let present = sandbox.path + "/ham.eml"
        let missing = sandbox.path + "/no-such.eml"
        try Self.write(IngestMail.ham(source: "203.0.113.73", id: "C5"), to: present)
        let (status, stdout, stderr) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--json", missing, present], sandbox: sandbox)
        #expect(status == 74, "\(stderr)")
        #expect(stderr.contains(missing), "the error names the file: \(stderr)")
        let objects = Self.objects(stdout)
        #expect(objects.count == 1 && objects.first??["file"] as? String == present, "\(stdout)")
    }

    /// Not-backscatter is an ordinary result (0); input that is not a message is bad data
    /// (65, named on stderr), its JSON still printed.
    @Test func exitCodesForOrdinaryAndBadInput() throws {
        let sandbox = IngestSandbox()
        let ham = sandbox.path + "/ham.eml"
        try Self.write(IngestMail.ham(source: "203.0.113.74", id: "C6"), to: ham)
        let (ordinary, text, _) = try Self.classify(["--trusted-networks", "10.0.0.0/8", ham], sandbox: sandbox)
        #expect(ordinary == 0)
        #expect(text.hasPrefix("\(ham): not-backscatter kind=none source=203.0.113.74 rule=no-rule: "), "the text form: \(text)")
        let empty = sandbox.path + "/empty.eml"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let (bad, stdout, stderr) = try Self.classify(["--trusted-networks", "10.0.0.0/8", "--json", empty], sandbox: sandbox)
        #expect(bad == 65, "\(stderr)")
        #expect(stderr.contains("\(empty): not a mail message"), "\(stderr)")
        #expect(Self.objects(stdout).first??["verdict"] as? String == "unattributable")
    }

    @Test func aMalformedTrustedNetworkIsAUsageError() throws {
        let sandbox = IngestSandbox()
        let file = sandbox.path + "/ham.eml"
        try Self.write(IngestMail.ham(source: "203.0.113.75", id: "C7"), to: file)
        let (status, stdout, stderr) = try Self.classify(["--trusted-networks", "10.0.0.0/33", "--json", file], sandbox: sandbox)
        #expect(status == 64, "\(stderr)")
        #expect(stdout.isEmpty)
    }
}
