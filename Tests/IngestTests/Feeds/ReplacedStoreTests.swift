// ReplacedStoreTests.swift -- an ingester follows a store file restored at its path.

import Foundation
import Glibc
@testable import Store
import Testing
@testable import Ingest

struct ReplacedStoreTests {
    let sandbox: FeedSandbox

    init() throws { sandbox = try FeedSandbox() }

    private func message(_ source: String, _ id: String) -> FeedMessage {
        FeedMessage(bytes: Array(TrapMail.dsn(source: source, id: id).utf8), origin: id)
    }

    /// Restores a backup (made before the first hit) at the store's path by rename.
    private func restoreEmptyBackup() throws {
        let backup = sandbox.path + "/backup.sqlite"
        do { _ = try Store(path: backup) }
        #expect(rename(backup, sandbox.dbPath) == 0)
    }

    @Test func hitsAfterARestoreGoIntoTheRestoredFile() throws {
        let ingester = try sandbox.ingester()
        _ = try ingester.ingest(message("81.2.69.160", "R1"))
        try restoreEmptyBackup()
        let result = try ingester.ingest(message("81.2.69.161", "R2"))
        guard case .recorded = result.outcome else { Issue.record("not recorded: \(result.outcome)"); return }
        #expect(try storeCount(sandbox.dbPath) == 1, "the restored file holds the hit made after the restore alone")
    }

    /// While another connection has the old file open, nothing is written anywhere and the
    /// caller is told to retry; once it closes, the hit goes into the new file.
    @Test func aConnectionOnTheOldFileHoldsIngestBack() throws {
        let ingester = try sandbox.ingester()
        var other: Store? = try Store(path: sandbox.dbPath)
        _ = try ingester.ingest(message("81.2.69.162", "R3"))
        try restoreEmptyBackup()
        #expect(throws: IngestError.self) { _ = try ingester.ingest(message("81.2.69.163", "R4")) }
        other = nil
        _ = try ingester.ingest(message("81.2.69.163", "R4"))
        #expect(try storeCount(sandbox.dbPath) == 1)
        #expect(other == nil)
    }

    /// An idle ingester closes its connection to a replaced file when asked, so that it
    /// does not hold another connection back.
    @Test func anIdleIngesterLetsGoOfTheOldFile() throws {
        let idle = try sandbox.ingester()
        let busy = try sandbox.ingester()
        _ = try idle.ingest(message("81.2.69.164", "R5"))
        try restoreEmptyBackup()
        #expect(throws: IngestError.self, "the idle one still has the old log open") {
            _ = try busy.ingest(message("81.2.69.165", "R6"))
        }
        idle.followStoreFile()
        _ = try busy.ingest(message("81.2.69.165", "R6"))
        #expect(try storeCount(sandbox.dbPath) == 1)
    }
}
