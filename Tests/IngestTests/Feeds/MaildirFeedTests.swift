// MaildirFeedTests.swift -- Maildir ingest: commit, cur/ with :2,S, quarantine, duplicates, busy store.

import Foundation
import Glibc
@testable import Store
import Testing
@testable import Ingest

@Suite struct MaildirFeedTests {
    @Test func backscatterIsRecordedAndEveryProcessedMessageMovesToCur() throws {
        let sandbox = try FeedSandbox()
        try sandbox.deliver(TrapMail.dsn(source: "81.2.69.10", id: "A1"), name: "1700000001.A1.host")
        try sandbox.deliver(TrapMail.ham(source: "81.2.69.11", id: "H1"), name: "1700000002.H1.host")
        try sandbox.deliver(TrapMail.unattributable(id: "U1"), name: "1700000003.U1.host")
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester())
        var results: [IngestResult] = []
        feed.onResult = { results.append($0) }

        let pass = feed.runOnce()

        #expect(pass.counts.recorded == 1)
        #expect(pass.counts.notBackscatter == 1)
        #expect(pass.counts.unattributable == 1)
        #expect(pass.storeFailure == nil)
        #expect(sandbox.names("new").isEmpty)
        #expect(sandbox.names("cur") == ["1700000001.A1.host:2,S", "1700000002.H1.host:2,S", "1700000003.U1.host:2,S"])
        #expect(try storeCount(sandbox.dbPath) == 1)
        let hit = try #require(results.first)
        #expect(hit.outcome == .recorded(source: IPPrefix("81.2.69.10")!, kind: .dsn, listed: true))
    }

    @Test func theHitKeepsItsEvidenceWithTheTrapRedacted() throws {
        let sandbox = try FeedSandbox()
        try sandbox.deliver(TrapMail.dsn(source: "81.2.69.12", id: "E1"))
        _ = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester()).runOnce()
        let store = try Store(path: sandbox.dbPath)
        let row = try store.db.statement("SELECT trap, kind, reporter, excerpt, time FROM hits")
        defer { row.reset() }
        #expect(try row.step())
        #expect(row.text(0) == "…@trap.example.net")
        #expect(row.text(1) == "dsn")
        #expect(row.text(2)?.contains("mx.bouncer.example") == true)
        let excerpt = try #require(row.text(3))
        #expect(excerpt.hasPrefix("Reason: "))
        #expect(excerpt.contains("81.2.69.12"))
        #expect(!excerpt.contains("trap.one@"), "the trap's local part is redacted: \(excerpt)")
    }

    @Test func theSameMessageTwiceCountsOnce() throws {
        let sandbox = try FeedSandbox()
        let text = TrapMail.dsn(source: "81.2.69.13", id: "D1")
        try sandbox.deliver(text, name: "1700000001.first.host")
        try sandbox.deliver(text, name: "1700000002.second.host")
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester())
        var pass = feed.runOnce()
        #expect(pass.counts.recorded == 1)
        #expect(pass.counts.duplicate == 1)
        // And again in a later pass (a redelivery after a crash).
        try sandbox.deliver(text, name: "1700000003.third.host")
        pass = feed.runOnce()
        #expect(pass.counts.duplicate == 1)
        #expect(try storeCount(sandbox.dbPath) == 1)
        #expect(try storeCount(sandbox.dbPath, "SELECT hit_count FROM sources") == 1)
        #expect(sandbox.names("new").isEmpty)
        #expect(sandbox.names("cur").count == 3)
    }

    @Test(arguments: [
        ("empty file", [UInt8]()),
        ("binary", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) | 0x80 }),
        ("NULs only", [UInt8](repeating: 0, count: 100)),
    ])
    func notAMessageGoesToQuarantineWithItsReason(label: String, bytes: [UInt8]) throws {
        let sandbox = try FeedSandbox()
        try sandbox.maildir.deliver(bytes, name: "1700000009.bad.host")
        try sandbox.deliver(TrapMail.dsn(source: "81.2.69.14", id: "Q1"), name: "1700000010.good.host")
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester())

        let pass = feed.runOnce()

        #expect(pass.counts.quarantined == 1, "\(label)")
        #expect(pass.counts.recorded == 1, "a bad message does not stop the batch")
        #expect(sandbox.names("new").isEmpty)
        #expect(sandbox.names("cur") == ["1700000010.good.host:2,S"])
        let quarantine = Quarantine(path: sandbox.maildir.path + "/.quarantine")
        let kept = try FileManager.default.contentsOfDirectory(atPath: quarantine.maildir.newPath)
        #expect(kept == ["1700000009.bad.host"])
        let original = try Data(contentsOf: URL(fileURLWithPath: quarantine.maildir.newPath + "/1700000009.bad.host"))
        #expect([UInt8](original) == bytes, "kept byte for byte")
        let reason = try #require(quarantine.reason(for: "1700000009.bad.host"))
        #expect(reason.contains("not a mail message"))
        #expect(reason.contains("1700000009.bad.host"), "the reason names the input")
    }

    @Test func anUnreadableMessageIsQuarantinedNotLost() throws {
        let sandbox = try FeedSandbox()
        // Unreadable even for root: a link to nothing, and a link to a directory.
        symlink(sandbox.path + "/nowhere", sandbox.maildir.newPath + "/1700000001.dangling.host")
        symlink(sandbox.path, sandbox.maildir.newPath + "/1700000002.directory.host")
        try sandbox.deliver(TrapMail.dsn(source: "81.2.69.15", id: "R1"), name: "1700000003.good.host")
        let quarantineDir = sandbox.path + "/held"
        let feed = MaildirFeed(maildir: sandbox.maildir, quarantine: Quarantine(path: quarantineDir), ingester: try sandbox.ingester())
        let pass = feed.runOnce()
        #expect(pass.counts.quarantined == 2)
        #expect(pass.counts.recorded == 1)
        #expect(sandbox.names("new").isEmpty)
        let held = Quarantine(path: quarantineDir)
        #expect(held.reason(for: "1700000001.dangling.host")?.contains("cannot open") == true)
        #expect(held.reason(for: "1700000002.directory.host")?.contains("not a regular file") == true)
        #expect(Set((try? FileManager.default.contentsOfDirectory(atPath: quarantineDir + "/new")) ?? [])
                == ["1700000001.dangling.host", "1700000002.directory.host"])
    }

    @Test func aBusyStoreLeavesTheMessagesInNew() throws {
        let sandbox = try FeedSandbox()
        _ = try Store(path: sandbox.dbPath)  // create and migrate
        for index in 0..<3 { try sandbox.deliver(TrapMail.dsn(source: TrapMail.source(index), id: "B\(index)")) }
        // A read-only connection cannot write: the commit fails like an unavailable store.
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester(Store(path: sandbox.dbPath, readOnly: true)))
        let pass = feed.runOnce()
        #expect(pass.storeFailure?.code == .storeUnavailable)
        #expect(pass.counts.deferred == 3)
        #expect(sandbox.names("new").count == 3)
        #expect(sandbox.names("cur").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.maildir.path + "/.quarantine/new"), "never quarantined for a store problem")
        // Once the store is writable again, the next pass takes them.
        let retry = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester()).runOnce()
        #expect(retry.counts.recorded == 3)
        #expect(sandbox.names("new").isEmpty)
    }

    @Test func batchesAreCommittedAndAStopRequestFinishesTheBatchInFlight() throws {
        let sandbox = try FeedSandbox()
        for index in 0..<50 { try sandbox.deliver(TrapMail.dsn(source: TrapMail.source(index), id: "S\(index)")) }
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester(), batchLimit: 8)
        var polls = 0
        let pass = feed.runOnce(shouldStop: { polls += 1; return polls > 12 })
        // Whatever was read before the stop was committed and moved; the rest waits in new/.
        #expect(pass.counts.recorded == sandbox.names("cur").count)
        #expect(pass.counts.recorded + sandbox.names("new").count == 50)
        #expect(try storeCount(sandbox.dbPath) == pass.counts.recorded)
        #expect(pass.counts.recorded > 0 && pass.counts.recorded < 50)
        let rest = feed.runOnce()
        #expect(rest.counts.recorded + pass.counts.recorded == 50)
        #expect(try storeCount(sandbox.dbPath) == 50)
    }

    /// One commit per batch, each reported once (for the store-commit metric); a failed
    /// commit is not reported.
    @Test func eachCommitIsReportedOnce() throws {
        let sandbox = try FeedSandbox()
        for index in 0..<20 { try sandbox.deliver(TrapMail.dsn(source: TrapMail.source(index), id: "C\(index)")) }
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester(), batchLimit: 8)
        var commits = 0
        feed.onCommit = { _ in commits += 1 }
        #expect(feed.runOnce().counts.recorded == 20)
        #expect(commits == 3, "8 + 8 + 4")
        try sandbox.deliver(TrapMail.dsn(source: TrapMail.source(30), id: "C30"))
        let readOnly = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester(Store(path: sandbox.dbPath, readOnly: true)))
        readOnly.onCommit = { _ in commits += 1 }
        #expect(readOnly.runOnce().storeFailure != nil)
        #expect(commits == 3)
    }

    /// Each malformed input is classified with the outcome it must have: not a
    /// message goes to quarantine, damaged input is processed and gets a quarantine copy,
    /// the rest is processed as usual. Every feed shares this decision.
    @Test(arguments: HostileInput.all)
    func hostileInputIsPreparedWithItsOutcome(_ input: HostileInput) {
        let origin = "trap/new/\(input.label)"
        let prepared = Ingester.prepare(FeedMessage(bytes: input.bytes, origin: origin), trustedNetworks: TrustedNetworks(), now: 0)
        switch input.expected {
        case .processed:
            #expect(prepared.damage == nil, "\(prepared.damage?.reason ?? "")")
            #expect(prepared.outcome?.isProcessed ?? true)
        case .damaged(let defects):
            let damage = prepared.damage
            #expect(damage?.code == .damaged)
            #expect(damage?.reason.hasPrefix(origin + ": damaged input (") == true, "names the input: \(damage?.reason ?? "")")
            for defect in defects { #expect(damage?.reason.contains(defect) == true, "\(defect): \(damage?.reason ?? "")") }
            #expect(prepared.outcome?.isProcessed ?? true, "processed all the same")
        case .quarantined:
            guard case .quarantine(let problem)? = prepared.outcome else {
                Issue.record("\(input.label): not quarantined: \(String(describing: prepared.outcome))")
                return
            }
            #expect(problem.code == .notAMessage)
            #expect(prepared.damage == nil, "the whole message goes to quarantine, no copy besides")
        }
    }

    /// The hostile inputs in one Maildir pass: none crashes or stays in new/,
    /// not-a-message is moved to quarantine, damaged input goes to cur/ after a copy with its
    /// reason went to quarantine, and nothing is lost: every hit is recorded.
    @Test func hostileInputsAreProcessedOrQuarantinedAndNothingIsLost() throws {
        let sandbox = try FeedSandbox()
        let inputs = HostileInput.all
        for (index, input) in inputs.enumerated() {
            try sandbox.maildir.deliver(input.bytes, name: "\(1_700_000_000 + index).\(input.label).host")
        }
        let feed = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester())
        var results: [String: IngestResult] = [:]
        feed.onResult = { results[String($0.origin.split(separator: "/").last!.split(separator: ".")[1])] = $0 }
        let pass = feed.runOnce()

        #expect(sandbox.names("new").isEmpty)
        #expect(pass.counts.processed == inputs.count)
        #expect(pass.counts.failed == 0 && pass.counts.deferred == 0)
        let quarantine = Quarantine(path: sandbox.maildir.path + "/.quarantine")
        let held = Set((try? FileManager.default.contentsOfDirectory(atPath: quarantine.maildir.newPath)) ?? [])
        let cur = Set(sandbox.names("cur"))
        var damaged = 0
        for (index, input) in inputs.enumerated() {
            let name = "\(1_700_000_000 + index).\(input.label).host"
            switch input.expected {
            case .processed:
                #expect(cur.contains(name + ":2,S"), "\(input.label)")
                #expect(!held.contains(name), "\(input.label): no copy")
            case .damaged(let defects):
                damaged += 1
                #expect(cur.contains(name + ":2,S"), "\(input.label): processed")
                #expect(held.contains(name), "\(input.label): a copy in quarantine")
                let copy = try Data(contentsOf: URL(fileURLWithPath: quarantine.maildir.newPath + "/" + name))
                #expect([UInt8](copy) == input.bytes, "\(input.label): the copy is the whole message, byte for byte")
                let reason = quarantine.reason(for: name) ?? ""
                #expect(reason.contains(sandbox.maildir.newPath + "/" + name), "the reason names the input: \(reason)")
                for defect in defects { #expect(reason.contains(defect), "\(input.label): \(reason)") }
                #expect(results[input.label]?.damage?.code == .damaged)
                #expect(pass.problems.contains { $0.code == .damaged && $0.reason.contains(name) }, "reported for a warning")
            case .quarantined:
                #expect(held.contains(name) && !cur.contains(name + ":2,S"), "\(input.label): moved to quarantine")
                #expect(quarantine.reason(for: name)?.contains("not a mail message") == true)
            }
        }
        #expect(pass.counts.damaged == damaged)
        #expect(held.count == damaged + 2)
        // Nothing lost: the damaged bounce with a source was recorded, its defect in the evidence.
        #expect(results["nul-in-body"]?.outcome == .recorded(source: IPPrefix("81.2.69.30")!, kind: .dsn, listed: true))
        let store = try Store(path: sandbox.dbPath)
        let row = try store.db.statement("SELECT excerpt FROM hits WHERE excerpt LIKE '%Defects: NUL bytes%'")
        defer { row.reset() }
        #expect(try row.step(), "the hit of the damaged message says what was wrong with it")
        #expect(try store.integrityCheck().isEmpty)
    }

    /// A damaged message whose copy cannot be kept stays in new/ (its hit is recorded; the
    /// next pass, once the quarantine is writable, counts it as a duplicate).
    @Test func aDamagedMessageWhoseCopyCannotBeKeptStaysInNew() throws {
        let sandbox = try FeedSandbox()
        let input = try #require(HostileInput.all.first { $0.label == "nul-in-body" })
        try sandbox.maildir.deliver(input.bytes, name: "1700000001.damaged.host")
        _ = FileManager.default.createFile(atPath: sandbox.path + "/not-a-folder", contents: Data())
        let blocked = MaildirFeed(maildir: sandbox.maildir, quarantine: Quarantine(path: sandbox.path + "/not-a-folder/held"),
                                  ingester: try sandbox.ingester())
        let pass = blocked.runOnce()
        #expect(pass.counts.failed == 1)
        #expect(pass.problems.first?.reason.contains("damaged input") == true, "\(pass.problems)")
        #expect(sandbox.names("new") == ["1700000001.damaged.host"], "left where it was")
        #expect(try storeCount(sandbox.dbPath) == 1)
        let retry = MaildirFeed(maildir: sandbox.maildir, ingester: try sandbox.ingester()).runOnce()
        #expect(retry.counts.duplicate == 1 && retry.counts.damaged == 1)
        #expect(sandbox.names("cur") == ["1700000001.damaged.host:2,S"])
        #expect(try storeCount(sandbox.dbPath) == 1)
    }

    @Test(arguments: [
        ("1700000000.M1P2.host", "1700000000.M1P2.host:2,S"),
        ("1700000000.M1P2.host:2,", "1700000000.M1P2.host:2,S"),
        ("1700000000.M1P2.host:2,FT", "1700000000.M1P2.host:2,FST"),
        ("1700000000.M1P2.host:2,S", "1700000000.M1P2.host:2,S"),
    ])
    func curNamesCarryTheSeenFlagInOrder(name: String, expected: String) {
        #expect(Maildir.curName(for: name) == expected)
    }

    @Test func newMessagesAreListedInDeliveryOrderWithoutDotFiles() throws {
        let sandbox = try FeedSandbox()
        for name in ["1700000100.c.host", "999.a.host", "1700000002.b.host", ".hidden"] {
            try sandbox.deliver("Subject: x\n\nbody\n", name: name)
        }
        #expect(try sandbox.maildir.newMessages() == ["999.a.host", "1700000002.b.host", "1700000100.c.host"])
    }
}
