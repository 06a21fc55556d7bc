// IngestCommandTests.swift -- `rbld ingest` as a subprocess: stdin exit codes, mbox, SIGTERM and kill -9.

import Foundation
import Glibc
@testable import Store
import Testing
import TestSupport
@testable import Ingest

@Suite(.serialized) struct IngestCommandTests {
    static let rbld = rbldExecutable()

    /// Runs `rbld ingest` to its end (bounded); returns the exit status and output.
    static func ingest(_ arguments: [String], stdin: [UInt8]? = nil, sandbox: IngestSandbox) throws -> (Int32?, String) {
        let process = try ChildProcess(try #require(rbld), ["ingest"] + arguments, input: stdin,
                                       logPath: sandbox.path + "/run-\(UUID().uuidString).log")
        return (process.exitCode(within: 60), process.output)
    }

    // MARK: - Standard input (MTA pipe)

    @Test func stdinBackscatterIsRecordedAndExits0() throws {
        let sandbox = IngestSandbox()
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "-"],
                                               stdin: Array(IngestMail.dsn(source: "81.2.69.50", id: "S1").utf8), sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(try storeValue(sandbox.dbPath) == 1)
        // The MTA retries a delivery it thinks failed: the same message counts once.
        let (again, _) = try Self.ingest(["--db", sandbox.dbPath, "-"],
                                         stdin: Array(IngestMail.dsn(source: "81.2.69.50", id: "S1").utf8), sandbox: sandbox)
        #expect(again == 0)
        #expect(try storeValue(sandbox.dbPath) == 1)
    }

    @Test func stdinNotBackscatterExits0AndStoresNothing() throws {
        let sandbox = IngestSandbox()
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "-"],
                                               stdin: Array(IngestMail.ham(source: "81.2.69.51", id: "H1").utf8), sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(try storeValue(sandbox.dbPath) == 0)
    }

    @Test func stdinWithTheStoreUnavailableExits75SoTheMTARetries() throws {
        let sandbox = IngestSandbox()
        let (status, output) = try Self.ingest(["--db", sandbox.path + "/no/such/folder/rbld.sqlite", "-"],
                                               stdin: Array(IngestMail.dsn(source: "81.2.69.52", id: "S2").utf8), sandbox: sandbox)
        #expect(status == 75, "\(output)")
        // A store locked by another writer for longer than the busy timeout is the same case:
        // a read-only file system or a full disk make writes fail alike.
        _ = FileManager.default.createFile(atPath: sandbox.path + "/garbage.sqlite", contents: Data(repeating: 0x41, count: 4096))
        let (corrupt, text) = try Self.ingest(["--db", sandbox.path + "/garbage.sqlite", "-"],
                                              stdin: Array(IngestMail.dsn(source: "81.2.69.52", id: "S2").utf8), sandbox: sandbox)
        #expect(corrupt == 75, "an unusable store never bounces trap mail: \(text)")
    }

    @Test func stdinGarbageIsQuarantinedAndAccepted() throws {
        let sandbox = IngestSandbox()
        let garbage = (0..<2048).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) | 0x80 }
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "--quarantine", sandbox.path + "/held", "-"],
                                               stdin: garbage, sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(output.contains("not a mail message"))
        let kept = sandbox.names("held/new")
        #expect(kept.count == 1)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: sandbox.path + "/held/new/" + kept[0]))
        #expect([UInt8](bytes) == garbage)
        #expect(sandbox.count("held/reasons") == 1)
    }

    @Test func stdinGarbageThatCannotBeKeptExits65() throws {
        let sandbox = IngestSandbox()
        _ = FileManager.default.createFile(atPath: sandbox.path + "/a-file", contents: Data())
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "--quarantine", sandbox.path + "/a-file/held", "-"],
                                               stdin: [], sandbox: sandbox)
        #expect(status == 65, "\(output)")
        #expect(output.contains("stdin: not a mail message (empty input)"))
    }

    /// Another process holds the store's write lock past the busy timeout: 75, and the
    /// error names the store, so the MTA retries; once the lock is gone the retry stores it.
    @Test func stdinWithTheStoreLockedExits75NamingTheStore() throws {
        let sandbox = IngestSandbox()
        let locker = try Store(path: sandbox.dbPath)   // created and migrated
        try locker.db.execute("BEGIN EXCLUSIVE")
        let message = Array(IngestMail.dsn(source: "81.2.69.53", id: "S3").utf8)
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "-"], stdin: message, sandbox: sandbox)
        try locker.db.execute("ROLLBACK")
        #expect(status == 75, "\(output)")
        #expect(output.contains(sandbox.dbPath), "the error names the store: \(output)")
        #expect(try storeValue(sandbox.dbPath) == 0)
        let (again, text) = try Self.ingest(["--db", sandbox.dbPath, "-"], stdin: message, sandbox: sandbox)
        #expect(again == 0, "\(text)")
        #expect(try storeValue(sandbox.dbPath) == 1)
    }

    /// Damaged input (a NUL byte) from a pipe: the hit is recorded, a copy with its reason
    /// goes to the quarantine, a warning names the input and the defect, and the exit is 0.
    @Test func stdinDamagedMessageIsRecordedAndCopiedToQuarantine() throws {
        let sandbox = IngestSandbox()
        let message = Array(IngestMail.dsn(source: "81.2.69.54", id: "S4").replacingOccurrences(of: "I'm sorry", with: "I'm\u{0} sorry").utf8)
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "--quarantine", sandbox.path + "/held", "-"],
                                               stdin: message, sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(output.contains("warning: stdin: damaged input (NUL bytes)"), "\(output)")
        #expect(try storeValue(sandbox.dbPath) == 1, "nothing lost: the hit is recorded")
        let kept = sandbox.names("held/new")
        #expect(kept.count == 1)
        let copy = try Data(contentsOf: URL(fileURLWithPath: sandbox.path + "/held/new/" + (kept.first ?? "-")))
        #expect([UInt8](copy) == message)
        let reason = try String(contentsOfFile: sandbox.path + "/held/reasons/" + (kept.first ?? "-"), encoding: .utf8)
        #expect(reason.contains("origin: stdin") && reason.contains("NUL bytes"), "\(reason)")
        // Nowhere to keep the copy: 75, so the MTA keeps the message (the retry is a duplicate).
        _ = FileManager.default.createFile(atPath: sandbox.path + "/a-file", contents: Data())
        let (blocked, text) = try Self.ingest(["--db", sandbox.dbPath, "--quarantine", sandbox.path + "/a-file/held", "-"],
                                              stdin: message, sandbox: sandbox)
        #expect(blocked == 75, "\(text)")
        #expect(text.contains("stdin: damaged input"), "\(text)")
    }

    /// Without --quarantine, the configuration's `ingest.quarantine` is where stdin keeps
    /// what it cannot process.
    @Test func stdinUsesTheConfiguredQuarantine() throws {
        let sandbox = IngestSandbox()
        let config = sandbox.path + "/rbld.yaml"
        try Data("ingest:\n  quarantine: \(sandbox.path)/configured\n".utf8).write(to: URL(fileURLWithPath: config))
        let garbage = (0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) | 0x80 }
        let (status, output) = try Self.ingest(["--config", config, "--db", sandbox.dbPath, "-"], stdin: garbage, sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(sandbox.count("configured/new") == 1, "\(output)")
    }

    // MARK: - Files

    @Test func anMboxFileAndAMessageFileAreIngestedAndLeftAsTheyWere() throws {
        let sandbox = IngestSandbox()
        var mbox = ""
        for index in 0..<30 {
            mbox += "From MAILER-DAEMON Tue Mar 11 08:14:02 2025\n" + IngestMail.dsn(source: IngestMail.source(index), id: "M\(index)") + "\n"
        }
        mbox += "From alice@shop.example Tue Mar 11 08:14:02 2025\n" + IngestMail.ham(source: "81.2.69.60", id: "MH") + "\n"
        mbox += "From nobody Tue Mar 11 08:14:02 2025\n\n"   // an empty entry: quarantined
        try Data(mbox.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/traps.mbox"))
        try Data(IngestMail.dsn(source: "81.2.69.61", id: "E1").utf8).write(to: URL(fileURLWithPath: sandbox.path + "/one.eml"))
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "--batch", "7", "--quarantine", sandbox.path + "/held",
                                                sandbox.path + "/traps.mbox", sandbox.path + "/one.eml"], sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(output.contains("33 processed: 31 recorded, 0 duplicate, 0 ignored, 1 not-backscatter, 0 unattributable, 1 quarantined"), "\(output)")
        #expect(try storeValue(sandbox.dbPath) == 31)
        #expect(sandbox.count("held/new") == 1)
        #expect(FileManager.default.fileExists(atPath: sandbox.path + "/one.eml"))
        // Again: everything is a duplicate.
        let (second, text) = try Self.ingest(["--db", sandbox.dbPath, sandbox.path + "/traps.mbox"], sandbox: sandbox)
        #expect(second == 0)
        #expect(text.contains("30 duplicate"), "\(text)")
        #expect(try storeValue(sandbox.dbPath) == 31)
    }

    /// A damaged entry of an mbox and a damaged message file are recorded, and a copy of
    /// each (the whole file for a message file) goes to the quarantine; the inputs stay.
    @Test func damagedMboxEntriesAndFilesAreRecordedAndCopied() throws {
        let sandbox = IngestSandbox()
        let damaged = IngestMail.dsn(source: "81.2.69.63", id: "D1").replacingOccurrences(of: "I'm sorry", with: "I'm\u{0} sorry")
        let mbox = "From MAILER-DAEMON Tue Mar 11 08:14:02 2025\n" + damaged + "\n"
            + "From MAILER-DAEMON Tue Mar 11 08:14:03 2025\n" + IngestMail.dsn(source: "81.2.69.64", id: "D2") + "\n"
        try Data(mbox.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/traps.mbox"))
        let file = Array(IngestMail.dsn(source: "81.2.69.65", id: "D3").utf8) + [UInt8](repeating: 0x61, count: 16 << 20)
        try Data(file).write(to: URL(fileURLWithPath: sandbox.path + "/big.eml"))
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, "--quarantine", sandbox.path + "/held",
                                                sandbox.path + "/traps.mbox", sandbox.path + "/big.eml"], sandbox: sandbox)
        #expect(status == 0, "\(output)")
        #expect(output.contains("3 processed: 3 recorded"), "\(output)")
        #expect(output.contains("2 damaged (copied to quarantine)"), "\(output)")
        #expect(output.contains("warning: \(sandbox.path)/traps.mbox#1: damaged input (NUL bytes)"), "\(output)")
        #expect(output.contains("warning: \(sandbox.path)/big.eml: damaged input (message over the size limit"), "\(output)")
        #expect(try storeValue(sandbox.dbPath) == 3)
        let kept = sandbox.names("held/new")
        #expect(kept.count == 2)
        let copies = try kept.map { try Data(contentsOf: URL(fileURLWithPath: sandbox.path + "/held/new/" + $0)) }
        #expect(copies.contains(Data(file)), "the whole file, beyond the size that was parsed")
        #expect(copies.contains(Data(damaged.utf8)))
        #expect(FileManager.default.fileExists(atPath: sandbox.path + "/big.eml"))
    }

    @Test func aMissingPathExits66AfterTheOthers() throws {
        let sandbox = IngestSandbox()
        try Data(IngestMail.dsn(source: "81.2.69.62", id: "E2").utf8).write(to: URL(fileURLWithPath: sandbox.path + "/one.eml"))
        let (status, output) = try Self.ingest(["--db", sandbox.dbPath, sandbox.path + "/missing.mbox", sandbox.path + "/one.eml"], sandbox: sandbox)
        #expect(status == 66, "\(output)")
        #expect(output.contains("missing.mbox: no such file"))
        #expect(try storeValue(sandbox.dbPath) == 1)
    }

    // MARK: - Daemon

    /// Fills a Maildir: unique DSNs, some delivered twice, and ordinary mail.
    static func fill(_ maildir: Maildir, count: Int) throws -> (messages: Int, distinctBackscatter: Int) {
        // Written as an MDA does (tmp/, then rename into new/), without fsync: a test needs no durability.
        func deliver(_ bytes: [UInt8], name: String) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: maildir.tmpPath + "/" + name))
            guard rename(maildir.tmpPath + "/" + name, maildir.newPath + "/" + name) == 0 else { throw POSIXError(.EIO) }
        }
        var messages = 0
        var distinct = 0
        for index in 0..<count {
            let name = "\(1_700_000_000 + index).M\(index)P1.host"
            if index % 10 == 9 {
                try deliver(Array(IngestMail.ham(source: IngestMail.source(index), id: "K\(index)").utf8), name: name)
            } else if index % 10 == 8 {
                // The DSN of index - 1 again (another delivery of the same message).
                try deliver(Array(IngestMail.dsn(source: IngestMail.source(index - 1), id: "K\(index - 1)").utf8), name: name)
            } else {
                try deliver(Array(IngestMail.dsn(source: IngestMail.source(index), id: "K\(index)").utf8), name: name)
                distinct += 1
            }
            messages += 1
        }
        return (messages, distinct)
    }

    /// The source of every DSN among `cur/` names made by ``fill(_:count:)``.
    static func backscatterSources(inCur names: [String]) -> Set<String> {
        Set(names.compactMap { name -> String? in
            guard let time = Int(name.split(separator: ".")[0]) else { return nil }
            let index = time - 1_700_000_000
            if index % 10 == 9 { return nil }
            return IngestMail.source(index % 10 == 8 ? index - 1 : index)
        })
    }

    /// The source addresses of the stored hits, as dotted quads.
    static func hitSources(_ dbPath: String) throws -> Set<String> {
        let store = try Store(path: dbPath)
        let statement = try store.db.statement("SELECT addr FROM hits WHERE family = 4")
        defer { statement.reset() }
        var sources = Set<String>()
        while try statement.step() {
            sources.insert((statement.blob(0) ?? []).map(String.init).joined(separator: "."))
        }
        return sources
    }

    @Test func sigtermFinishesTheMessagesInFlightAndStops() throws {
        let sandbox = IngestSandbox()
        let maildir = try sandbox.maildir()
        _ = try Self.fill(maildir, count: 3000)
        let daemon = try ChildProcess(try #require(Self.rbld), ["ingest", "--watch", "--maildir", maildir.path, "--db", sandbox.dbPath,
                                                                 "--batch", "16"], logPath: sandbox.path + "/watch.log")
        #expect(eventually(60) { sandbox.count("trap/cur") >= 200 }, "started working: \(daemon.output)")
        daemon.signal(SIGTERM)
        let status = daemon.exitCode(within: 30)
        #expect(status == 0, "\(daemon.output)")
        // Graceful: every committed message was moved, and every moved one was committed.
        let cur = sandbox.names("trap/cur")
        #expect(cur.count + sandbox.count("trap/new") == 3000, "nothing lost")
        #expect(sandbox.count("trap/new") > 0, "stopped before the end of the backlog")
        #expect(try Self.hitSources(sandbox.dbPath) == Self.backscatterSources(inCur: cur))
    }

    @Test func killMinus9MidBatchLosesNothingAndCountsNothingTwice() throws {
        let sandbox = IngestSandbox()
        let maildir = try sandbox.maildir()
        let (messages, distinct) = try Self.fill(maildir, count: 4000)
        let rbld = try #require(Self.rbld)
        let arguments = ["ingest", "--watch", "--maildir", maildir.path, "--db", sandbox.dbPath, "--batch", "16"]
        // Kill it three times at different points of the backlog, then let it finish.
        var kills = 0
        for (round, threshold) in [300, 1200, 2400].enumerated() {
            let daemon = try ChildProcess(rbld, arguments, logPath: sandbox.path + "/kill-\(round).log")
            let reached = eventually(90) { sandbox.count("trap/cur") >= threshold }
            usleep(UInt32(round * 7_000 + 3_000))   // land somewhere inside a batch
            daemon.signal(SIGKILL)
            daemon.wait(seconds: 10)
            #expect(reached, "round \(round): \(daemon.output)")
            if sandbox.count("trap/new") > 0 { kills += 1 }
            // After each kill: nothing lost, and no message moved without its commit.
            #expect(sandbox.count("trap/new") + sandbox.count("trap/cur") == messages)
            #expect(try storeValue(sandbox.dbPath) <= distinct)
            let recorded = try Self.hitSources(sandbox.dbPath)
            let movedWithoutHit = Self.backscatterSources(inCur: sandbox.names("trap/cur")).subtracting(recorded)
            #expect(movedWithoutHit.isEmpty, "round \(round): moved to cur/ before the commit: \(movedWithoutHit.prefix(5))")
        }
        #expect(kills == 3, "every kill landed before the end of the backlog")
        let last = try ChildProcess(rbld, arguments, logPath: sandbox.path + "/final.log")
        let drained = eventually(120) { sandbox.count("trap/new") == 0 }
        last.signal(SIGTERM)
        #expect(last.exitCode(within: 30) == 0, "\(last.output)")
        #expect(drained)
        #expect(sandbox.count("trap/new") == 0)
        #expect(sandbox.count("trap/cur") == messages, "every message processed, none lost")
        #expect(sandbox.count("trap/.quarantine/new") == 0)
        #expect(try storeValue(sandbox.dbPath) == distinct, "each distinct backscatter message counted exactly once")
        #expect(try storeValue(sandbox.dbPath, "SELECT sum(hit_count) FROM sources") == distinct)
        #expect(try Store(path: sandbox.dbPath).integrityCheck().isEmpty)
    }
}
