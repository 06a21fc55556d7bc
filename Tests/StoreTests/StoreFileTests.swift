// StoreFileTests.swift -- a store connection notices when its path no longer names its file.

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreFileTests {
    let directory = TemporaryDirectory()

    @Test func theOpenedFileIsCurrent() throws {
        let store = try Store(path: directory.file("rbld.sqlite"))
        #expect(store.fileState() == .current)
    }

    @Test func aDeletedFileIsMissing() throws {
        let path = directory.file("rbld.sqlite")
        let store = try Store(path: path)
        try FileManager.default.removeItem(atPath: path)
        #expect(store.fileState() == .missing)
        #expect(try store.changeSerial() >= 0, "the connection still reads the deleted file")
    }

    @Test func aFileRenamedOverThePathIsReplaced() throws {
        let path = directory.file("rbld.sqlite")
        let store = try Store(path: path)
        do { _ = try Store(path: directory.file("backup.sqlite")) }
        #expect(rename(directory.file("backup.sqlite"), path) == 0)
        #expect(store.fileState() == .replaced)
    }

    @Test func theSameFileRenamedBackIsCurrent() throws {
        let path = directory.file("rbld.sqlite")
        let store = try Store(path: path)
        #expect(rename(path, directory.file("moved.sqlite")) == 0)
        #expect(store.fileState() == .missing)
        #expect(rename(directory.file("moved.sqlite"), path) == 0)
        #expect(store.fileState() == .current)
    }

    /// SQLite leaves the log of a deleted database beside its path; it is removed only once
    /// no connection has it open.
    @Test func theLogOfADeletedFileIsRemovedOnceClosed() throws {
        let path = directory.file("rbld.sqlite")
        var store: Store? = try Store(path: path)
        let log = try #require(store?.logIdentity)
        _ = try store?.list(prefix("81.2.69.1"), zone: "bl.example.org", actor: "test", reason: "a commit in the log")
        try FileManager.default.removeItem(atPath: path)
        #expect(Store.removeLeftoverLog(of: path, left: log) == .inUse, "the connection still has it open")
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        store = nil
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "SQLite keeps the log of a deleted file")
        #expect(Store.removeLeftoverLog(of: path, left: log) == .clear)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(Store.removeLeftoverLog(of: path, left: log) == .clear, "nothing there is clear too")
    }

    /// Once the old log is gone and a connection opened the new file, the log beside the
    /// path is the new file's: it stays, though it may have the old one's inode number.
    @Test func theNewFilesLogIsLeftAlone() throws {
        let path = directory.file("rbld.sqlite")
        var old: Store? = try Store(path: path)
        let oldLog = try #require(old?.logIdentity)
        try FileManager.default.removeItem(atPath: path)
        old = nil
        #expect(Store.removeLeftoverLog(of: path, left: oldLog) == .clear)
        let new = try Store(path: path)
        _ = try new.list(prefix("81.2.69.1"), zone: "bl.example.org", actor: "test", reason: "a commit in the new log")
        #expect(new.logIdentity != nil && new.logIdentity != oldLog)
        #expect(Store.removeLeftoverLog(of: path, left: oldLog) == .clear)
        #expect(FileManager.default.fileExists(atPath: path + "-wal") && FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(try hasManualEntry(new, "81.2.69.1"))
    }

    /// A backup renamed over the path: the next use opens it, and writes go into it.
    @Test func aReopeningStoreFollowsAReplacedFile() throws {
        let path = directory.file("rbld.sqlite")
        let connection = ReopeningStore(try Store(path: path))
        _ = try connection.current().list(prefix("81.2.69.1"), zone: "bl.example.org", actor: "test", reason: "old file")
        do { _ = try Store(path: directory.file("backup.sqlite")) }
        #expect(rename(directory.file("backup.sqlite"), path) == 0)
        let store = try connection.current()
        #expect(connection.reopenings == 1)
        #expect(!(try hasManualEntry(store, "81.2.69.1")), "the backup's content")
        _ = try store.list(prefix("81.2.69.2"), zone: "bl.example.org", actor: "test", reason: "new file")
        let reader = try Store(path: path, readOnly: true)
        #expect(try hasManualEntry(reader, "81.2.69.2"))
        #expect(try connection.current() === store, "the same file is not opened again")
    }

    /// Two connections of one process see the file replaced: the first waits while the
    /// second still has the old log open, and neither is kept waiting by the new file's.
    @Test func twoReopeningStoresBothFollow() throws {
        let path = directory.file("rbld.sqlite")
        let first = ReopeningStore(try Store(path: path))
        let second = ReopeningStore(try Store(path: path))
        _ = try first.current().list(prefix("81.2.69.1"), zone: "bl.example.org", actor: "test", reason: "old file")
        do { _ = try Store(path: directory.file("backup.sqlite")) }
        #expect(rename(directory.file("backup.sqlite"), path) == 0)
        #expect(throws: StoreError.self, "the second connection has the old log open") { _ = try first.current() }
        let opened = try second.current()
        _ = try opened.list(prefix("81.2.69.2"), zone: "bl.example.org", actor: "test", reason: "new file")
        let again = try first.current()
        #expect(try hasManualEntry(again, "81.2.69.2"))
        #expect(!(try hasManualEntry(again, "81.2.69.1")))
    }

    /// A deleted file: unavailable until a file is at the path, and no empty store is made.
    @Test func aReopeningStoreWaitsForADeletedFile() throws {
        let path = directory.file("rbld.sqlite")
        let connection = ReopeningStore(try Store(path: path))
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: StoreError.self) { _ = try connection.current() }
        #expect(!FileManager.default.fileExists(atPath: path))
        do { _ = try Store(path: directory.file("backup.sqlite")) }
        #expect(rename(directory.file("backup.sqlite"), path) == 0)
        #expect(try connection.current().fileState() == .current)
    }
}

/// Whether `store` holds a manual listing of `address` in the test zone.
private func hasManualEntry(_ store: Store, _ address: String) throws -> Bool {
    !(try store.report(for: prefix(address), zone: "bl.example.org", now: Store.systemClock()).manual.isEmpty)
}
