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
        _ = try store?.list(prefix("81.2.69.1"), zone: "bl.example.org", actor: "test", reason: "a commit in the log")
        try FileManager.default.removeItem(atPath: path)
        #expect(Store.removeLeftoverLog(of: path) == .inUse, "the connection still has it open")
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        store = nil
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "SQLite keeps the log of a deleted file")
        #expect(Store.removeLeftoverLog(of: path) == .clear)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(Store.removeLeftoverLog(of: path) == .clear, "nothing there is clear too")
    }
}
