// StoreCrashTests.swift -- writers killed mid-transaction leave the store consistent.
//
// The writers are real `rbld import` and `rbld ingest` processes, killed with SIGKILL at
// moments that land inside their transactions. (A fork() of the test process would be
// quicker to write, but the child of a multithreaded process may deadlock on a lock
// another thread held: that hung CI.)

import Foundation
import Glibc
import Store
import Testing
import TestSupport
@testable import Ingest

@Suite(.serialized)
struct StoreCrashTests {
    static let zone = "bl.example.org"
    static let hitsPerFile = 500

    /// The two manual lists the writer alternates between (46.0.0.0/8, 20,000 hosts each).
    static func list(_ which: Int) -> [IPPrefix] {
        (0..<20_000).map { IPPrefix.host(v4: UInt32(0x2E00_0000 + which * 0x10_0000 + $0 * 3)) }
    }

    /// A sandbox with both list files and four mbox files of distinct bounces.
    static func prepare() throws -> IngestSandbox {
        let sandbox = IngestSandbox()
        for which in 0..<2 {
            let text = list(which).map(\.description).joined(separator: "\n") + "\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/list-\(which).txt"))
        }
        for file in 0..<4 {
            var mbox = ""
            for index in 0..<hitsPerFile {
                let source = "47.0.\(file).\(index % 250 + 1)"
                mbox += "From MAILER-DAEMON Tue Mar 11 08:14:02 2025\n" + IngestMail.dsn(source: source, id: "C\(file)x\(index)") + "\n"
            }
            try Data(mbox.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/hits-\(file).mbox"))
        }
        return sandbox
    }

    /// Imports and hit batches in a loop, one line in `progress` after each commit.
    static let writerScript = """
        rbld=$1; dir=$2; round=0
        while :; do
          "$rbld" import --db "$dir/rbld.sqlite" --zone bl.example.org --reason "round $round" "$dir/list-$((round % 2)).txt" && echo import >> "$dir/progress"
          "$rbld" ingest --db "$dir/rbld.sqlite" --batch 500 "$dir/hits-$((round % 4)).mbox" && echo hits >> "$dir/progress"
          round=$((round + 1))
        done
        """

    @Test(arguments: [0, 5, 20, 60, 150])
    func killedWriterLeavesAConsistentStore(delayMilliseconds: Int) throws {
        let rbld = try #require(rbldExecutable())
        let sandbox = try Self.prepare()
        let progress = sandbox.path + "/progress"
        let writer = try ChildProcess("/bin/sh", ["-c", Self.writerScript, "sh", rbld, sandbox.path],
                                      logPath: sandbox.path + "/writer.log", newProcessGroup: true)
        // Wait for two commits, then kill somewhere inside the next transactions.
        let committed = eventually(120) { ((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2 }
        usleep(UInt32(delayMilliseconds * 1000))
        writer.signalGroup(SIGKILL)
        #expect(writer.wait(seconds: 10) == .signaled(SIGKILL), "\(writer.output)")
        try #require(committed, "the writer committed: \(writer.output)")

        let store = try Store(path: sandbox.dbPath)
        #expect(try store.integrityCheck() == [])
        let now = Int64(Date().timeIntervalSince1970)
        let listed = Set(try store.activeListings(zone: Self.zone, now: now).map(\.prefix).filter { $0.address >> 24 == 0x2E })
        #expect(listed == Set(Self.list(0)) || listed == Set(Self.list(1)),
                "the manual list is one whole import, not a mix (\(listed.count) entries)")
        #expect(try storeValue(sandbox.dbPath) % Self.hitsPerFile == 0, "hit batches are whole")
        // And the store still takes writes: the next import and ingest succeed.
        let again = try ChildProcess.run(rbld, ["import", "--db", sandbox.dbPath, "--zone", Self.zone, sandbox.path + "/list-0.txt"])
        #expect(again.termination == .exited(0), "\(again.output)")
        let ingest = try ChildProcess.run(rbld, ["ingest", "--db", sandbox.dbPath, "--batch", "500", sandbox.path + "/hits-0.mbox"])
        #expect(ingest.termination == .exited(0), "\(ingest.output)")
        #expect(try storeValue(sandbox.dbPath) % Self.hitsPerFile == 0)
    }
}
