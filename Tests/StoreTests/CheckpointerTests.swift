// CheckpointerTests.swift -- the WAL is copied back by a thread of its own, or by the writer past the limit.

import Foundation
import Testing
import TestSupport
@testable import Store

struct CheckpointerTests {
    let directory = TemporaryDirectory()

    /// A WAL-mode database without automatic checkpoints, and a table to write to.
    func open(_ name: String) throws -> SQLiteDatabase {
        let db = try SQLiteDatabase(path: directory.file(name), readOnly: false, create: true)
        let mode = try db.statement("PRAGMA journal_mode = WAL")
        _ = try mode.step()
        mode.reset()
        try db.execute("PRAGMA wal_autocheckpoint = 0")
        try db.execute("CREATE TABLE t(x BLOB)")
        return db
    }

    func write(_ db: SQLiteDatabase, rows: Int) throws {
        try db.writeTransaction { () throws(StoreError) in
            let insert = try db.statement("INSERT INTO t(x) VALUES (?1)")
            for _ in 0..<rows {
                insert.reset()
                insert.bind(1, [UInt8](repeating: 7, count: 3000))  // about a page a row
                try insert.run()
            }
        }
    }

    @Test func backgroundThreadCopiesTheLogAfterTheThreshold() throws {
        let (db, checkpointer) = try attached("background.sqlite", threshold: 20, limit: 1_000_000)
        defer { detach(db, checkpointer) }
        try write(db, rows: 5)
        #expect(checkpointer.backgroundRuns == 0, "below the threshold nothing starts")
        #expect(fileSize(db.path) < 10_000)
        try write(db, rows: 40)
        // Wait (bounded) for the thread's checkpoint to finish: an event, not a timing.
        for _ in 0..<500 where checkpointer.backgroundRuns == 0 { usleep(10_000) }
        #expect(checkpointer.backgroundRuns >= 1 && checkpointer.writerRuns == 0)
        #expect(checkpointer.lastError == nil)
        #expect(fileSize(db.path) > 100_000, "the rows' pages are in the database file, not only in the log")
    }

    @Test func writerCheckpointsItselfPastTheLimit() throws {
        let (db, checkpointer) = try attached("limit.sqlite", threshold: 1_000_000, limit: 30)
        defer { detach(db, checkpointer) }
        try write(db, rows: 15)
        #expect(fileSize(db.path) < 10_000, "below the limit the rows stay in the log")
        try write(db, rows: 40)
        #expect(checkpointer.writerRuns == 1 && checkpointer.backgroundRuns == 0)
        #expect(fileSize(db.path) > 100_000, "the writer copied the log back")
    }

    @Test func onlyWritableStoresHaveOne() throws {
        let path = directory.file("store.sqlite")
        #expect(try Store(path: path).checkpointer != nil)
        #expect(try Store(path: path, readOnly: true).checkpointer == nil, "read-only stores write no log")
    }

    /// A database as `open` makes it, with a checkpointer attached.
    func attached(_ name: String, threshold: Int32, limit: Int32) throws -> (SQLiteDatabase, Checkpointer) {
        let db = try open(name)
        let checkpointer = Checkpointer(path: db.path, threshold: threshold, limit: limit)
        checkpointer.attach(to: db.handle)
        return (db, checkpointer)
    }

    func detach(_ db: SQLiteDatabase, _ checkpointer: Checkpointer) {
        checkpointer.stop()
        Checkpointer.detach(from: db.handle)
    }

    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? -1
    }
}
