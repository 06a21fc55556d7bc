// StoreTests.swift -- opening, refusing and migrating store files; import, listings, change log.

import Foundation
import Testing
import TestSupport
@testable import Store

func prefix(_ text: String) -> IPPrefix { IPPrefix(text)! }

struct StoreTests {
    let directory = TemporaryDirectory()
    let clock = TestClock()

    func open(_ name: String = "rbld.sqlite", readOnly: Bool = false) throws -> Store {
        try Store(path: directory.file(name), readOnly: readOnly, clock: clock.function)
    }

    @Test func createsAndReopens() throws {
        do {
            let store = try open()
            #expect(try store.changeSerial() == 0)
            #expect(try store.zoneNames().isEmpty)
            try store.saveZoneSettings(.defaults(zone: "BL.Example.org."))
        }
        let again = try open(readOnly: true)
        #expect(try again.zoneNames() == ["bl.example.org"])
        #expect(try again.zoneSettings("bl.example.org") == .defaults(zone: "bl.example.org"))
        #expect(try again.zoneSettings("other.example") == nil)
        #expect(try again.changeSerial() == 1)
    }

    @Test func readOnlyOfMissingFileFails() {
        #expect(throws: StoreError(.io, "")) { try open("missing.sqlite", readOnly: true) }
        #expect(!FileManager.default.fileExists(atPath: directory.file("missing.sqlite")))
    }

    struct RefusedCase: CustomTestStringConvertible, Sendable {
        let name: String
        let code: StoreError.Code
        let make: @Sendable (String) throws -> Void
        var testDescription: String { name }
    }

    static let refused: [RefusedCase] = [
        .init(name: "text file", code: .notADatabase) { path in
            try Data("this is not a database\n".utf8 + [UInt8](repeating: 0x41, count: 4096)).write(to: URL(fileURLWithPath: path))
        },
        .init(name: "foreign sqlite", code: .foreignDatabase) { path in try sqlite3(path, "CREATE TABLE people(name TEXT); INSERT INTO people VALUES ('x');") },
        .init(name: "newer schema", code: .newerSchema) { path in
            try sqlite3(path, "PRAGMA application_id = 1919052900; PRAGMA user_version = 99; CREATE TABLE future(x);")
        },
        .init(name: "corrupt header", code: .notADatabase) { path in
            try sqlite3(path, "PRAGMA application_id = 1919052900; CREATE TABLE t(x);")
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            for index in 16..<100 { bytes[index] = 0xEE }
            try bytes.write(to: URL(fileURLWithPath: path))
        },
    ]

    @Test(arguments: refused)
    func refusesWithoutModifying(_ c: RefusedCase) throws {
        let path = directory.file("other.sqlite")
        try c.make(path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for readOnly in [false, true] {
            do {
                _ = try Store(path: path, readOnly: readOnly)
                Issue.record("opened \(c.name)")
            } catch {
                #expect(error.code == c.code, "\(error)")
                #expect(error.description.contains(path), "the error names the file: \(error)")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "file unchanged")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func importThenServe() throws {
        let store = try open()
        let file = ListFileParser.parse(Array("""
            $SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
            $NS 3600 ns1.example.org
            :127.0.0.2:Listed, see https://example.org/?ip=$
            127.0.0.2
            192.0.2.0/24
            !192.0.2.7
            198.51.100.9 :127.0.0.4:Autoreply $
            2001:db8::/32
            """.utf8), format: .rbldnsd, fileName: "t.zone")
        let summary = try store.importListFile(file, zone: "bl.example.org", replace: true, skipBad: false, actor: "test", reason: "t.zone")
        #expect(summary.added == 5 && summary.removed == 0 && summary.settingsChanged)
        let settings = try #require(try store.zoneSettings("bl.example.org"))
        #expect(settings.mname == "ns1.example.org" && settings.nameservers == ["ns1.example.org"])
        #expect(settings.txtTemplate == "Listed, see https://example.org/?ip=$")
        let listings = try store.activeListings(zone: "bl.example.org", now: clock.now).sorted { $0.prefix < $1.prefix }
        #expect(listings == [
            Listing(prefix: prefix("127.0.0.2"), code: 2),
            Listing(prefix: prefix("192.0.2.0/24"), code: 2),
            Listing(prefix: prefix("192.0.2.7"), excluded: true, code: 0),
            Listing(prefix: prefix("198.51.100.9"), code: 4, text: "Autoreply $"),
            Listing(prefix: prefix("2001:db8::/32"), code: 2),
        ])
        for listing in listings {
            #expect(try store.listing(for: listing.prefix, zone: "bl.example.org", now: clock.now) == listing)
        }
        #expect(try store.listing(for: prefix("192.0.2.8"), zone: "bl.example.org", now: clock.now) == nil)
    }

    @Test func importWithBadLinesChangesNothingUnlessSkipped() throws {
        let store = try open()
        let file = ListFileParser.parse(Array("1.2.3.4\n1.2.3.4/33\n5.6.7.8\n".utf8), format: .plain, fileName: "list.txt")
        #expect(throws: StoreError(.invalidInput, "")) {
            try store.importListFile(file, zone: "bl.example.org", replace: true, skipBad: false, actor: "t", reason: "r")
        }
        #expect(try store.changeSerial() == 0)
        #expect(try store.zoneNames().isEmpty)
        do {
            _ = try store.importListFile(file, zone: "bl.example.org", replace: true, skipBad: false, actor: "t", reason: "r")
        } catch {
            #expect(error.description.contains("list.txt:2: bad CIDR '1.2.3.4/33'"))
        }
        let summary = try store.importListFile(file, zone: "bl.example.org", replace: true, skipBad: true, actor: "t", reason: "r")
        #expect(summary.added == 2)
    }

    @Test func replaceAndChangeLog() throws {
        let store = try open()
        let zone = "bl.example.org"
        func entries(_ list: [String]) -> [ImportEntry] {
            list.map { $0.hasPrefix("!") ? ImportEntry(prefix: prefix(String($0.dropFirst())), excluded: true) : ImportEntry(prefix: prefix($0)) }
        }
        let first = try store.importEntries(entries(["1.1.1.1", "2.2.2.0/24", "3.3.3.3", "!2.2.2.2"]), zone: zone, replace: true, actor: "t", reason: "one")
        #expect(first.added == 4)
        let serial = try store.changeSerial()
        #expect(serial > 0)
        #expect(try store.changes(zone: zone, after: serial)?.changes == [])

        // Same file again: nothing written but the audit row, serial unchanged.
        let same = try store.importEntries(entries(["1.1.1.1", "2.2.2.0/24", "3.3.3.3", "!2.2.2.2"]), zone: zone, replace: true, actor: "t", reason: "again")
        #expect(same.unchanged == 4 && same.added == 0 && same.removed == 0)
        #expect(try store.changeSerial() == serial)

        // Replace: 3.3.3.3 and the exclusion go, 4.4.4.4 comes, 1.1.1.1 gets a code.
        var next = entries(["1.1.1.1", "2.2.2.0/24", "4.4.4.4"])
        next[0].code = 3
        let second = try store.importEntries(next, zone: zone, replace: true, actor: "t", reason: "two")
        #expect(second.added == 1 && second.updated == 1 && second.removed == 2 && second.unchanged == 1)
        let batch = try #require(try store.changes(zone: zone, after: serial))
        #expect(Set(batch.changes.map(\.prefix.description)) == ["1.1.1.1", "3.3.3.3", "4.4.4.4", "2.2.2.2"])
        #expect(batch.serial == (try store.changeSerial()))
        let now = clock.now
        #expect(try store.listing(for: prefix("3.3.3.3"), zone: zone, now: now) == nil)
        #expect(try store.listing(for: prefix("1.1.1.1"), zone: zone, now: now)?.code == 3)
        #expect(try store.listing(for: prefix("2.2.2.2"), zone: zone, now: now) == nil)

        // Without replace: entries are added, nothing removed.
        let third = try store.importEntries(entries(["5.5.5.5"]), zone: zone, replace: false, actor: "t", reason: "three")
        #expect(third.added == 1 && third.removed == 0)
        #expect(try store.activeListings(zone: zone, now: now).count == 4)

        // Other zones are independent.
        #expect(try store.activeListings(zone: "other.example", now: now).isEmpty)
        #expect(try store.changes(zone: "other.example", after: 0)?.changes == [])
    }

    /// Expiries the publisher logs are changes like any other: the serial moves, and they
    /// come back from `changes(after:)`; nothing else in the store changes.
    @Test func loggedExpiriesMoveTheSerial() throws {
        let store = try open()
        _ = try store.list(prefix("81.2.69.1"), zone: "bl.example.org", expires: clock.now + 60, actor: "t", reason: "r")
        let serial = try store.changeSerial()
        clock.advance(60)
        try store.logExpiries([prefix("81.2.69.1")], zone: "bl.example.org")
        #expect(try store.changeSerial() == serial + 1)
        #expect(try store.changes(zone: "bl.example.org", after: serial)?.changes.map(\.prefix) == [prefix("81.2.69.1")])
        #expect(try store.listing(for: prefix("81.2.69.1"), zone: "bl.example.org", now: clock.now) == nil)
        try store.logExpiries([prefix("81.2.69.1")], zone: "other.example")
        try store.logExpiries([], zone: "bl.example.org")
        #expect(try store.changeSerial() == serial + 1, "nothing logged for a zone the store does not hold, or for nothing")
    }

    @Test func bulkImportLogsOneRebuildMarker() throws {
        let store = try open()
        let entries = (0..<(Store.changeLogBulkLimit + 1)).map { ImportEntry(prefix: .host(v4: 0x0B00_0000 + UInt32($0))) }
        let before = try store.changeSerial()
        _ = try store.importEntries(entries, zone: "bl.example.org", replace: true, actor: "t", reason: "bulk")
        #expect(try store.changes(zone: "bl.example.org", after: before) == nil, "too many changes: rebuild")
        #expect(try store.activeListings(zone: "bl.example.org", now: clock.now).count == entries.count)
    }

    @Test func snapshotCacheRoundTrip() throws {
        let store = try open()
        #expect(try store.snapshotCache(zone: "bl.example.org") == nil)
        try store.saveZoneSettings(.defaults(zone: "bl.example.org"))
        let serial = try store.changeSerial()
        try store.saveSnapshotCache(zone: "bl.example.org", serial: 7, bytes: [1, 2, 3])
        let cached = try #require(try store.snapshotCache(zone: "bl.example.org"))
        #expect(cached.serial == 7 && cached.bytes == [1, 2, 3])
        #expect(try store.changeSerial() == serial, "caching is not a served change")
    }

    /// A cache written in pieces reads back the same, from any offset; a writer that
    /// passes more or fewer bytes than it announced stores nothing.
    @Test func snapshotCacheInPieces() throws {
        let store = try open()
        try store.saveZoneSettings(.defaults(zone: "bl.example.org"))
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        /// `withUnsafeBytes` rethrows untyped: the sink's own error is carried out.
        func pass(_ piece: ArraySlice<UInt8>, to sink: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) {
            var failure: StoreError?
            piece.withUnsafeBytes { buffer in
                do throws(StoreError) { try sink(buffer) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try store.saveSnapshotCache(zone: "bl.example.org", serial: 9, size: bytes.count) { sink throws(StoreError) in
            for start in stride(from: 0, to: bytes.count, by: 7_777) {
                try pass(bytes[start..<min(start + 7_777, bytes.count)], to: sink)
            }
        }
        let middle = try store.readSnapshotCache(zone: "bl.example.org") { serial, size, read -> (Int64, Int, [UInt8]) in
            var part = [UInt8](repeating: 0, count: 1_000)
            try? part.withUnsafeMutableBytes { try read(50_000, $0) }
            return (serial, size, part)
        }
        #expect(middle?.0 == 9 && middle?.1 == bytes.count && middle?.2 == Array(bytes[50_000..<51_000]))
        #expect(try store.snapshotCache(zone: "bl.example.org")?.bytes == bytes)

        for written in [bytes.count - 1, bytes.count + 1] {
            #expect(throws: StoreError.self) {
                try store.saveSnapshotCache(zone: "bl.example.org", serial: 10, size: bytes.count) { sink throws(StoreError) in
                    try pass([UInt8](repeating: 1, count: written)[...], to: sink)
                }
            }
        }
        #expect(try store.snapshotCache(zone: "bl.example.org")?.serial == 9, "a failed write keeps the old cache")
    }

    @Test func readerSeesWritersCommits() throws {
        let writer = try open()
        let reader = try open(readOnly: false)
        _ = try writer.importEntries([ImportEntry(prefix: prefix("9.9.9.9"))], zone: "bl.example.org", replace: false, actor: "t", reason: "r")
        #expect(try reader.changeSerial() == (try writer.changeSerial()))
        #expect(try reader.activeListings(zone: "bl.example.org", now: clock.now).count == 1)
    }
}

/// Runs the sqlite3 shell (to make foreign files as another program would).
func sqlite3(_ path: String, _ sql: String) throws {
    let (termination, output) = try ChildProcess.run("/usr/bin/sqlite3", [path, sql])
    guard termination == .exited(0) else { throw StoreError(.io, "sqlite3 failed (\(termination?.description ?? "timed out")): \(output)") }
}
