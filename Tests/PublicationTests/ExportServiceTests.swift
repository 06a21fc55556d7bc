// ExportServiceTests.swift -- export files kept current from the served snapshots, for rsync mirrors.

import DNSBL
import Foundation
import Logging
import Store
import Testing
import TestSupport
@testable import Publication

@Suite(.serialized) struct ExportServiceTests {
    let zone = RunningPublication.zone

    func service(_ running: RunningPublication, _ exports: [ExportConfiguration]) -> ExportService {
        let recorded = running.log
        return ExportService(exports: exports, snapshots: running.publication.snapshots,
                             logger: Logger(label: "test.exports") { _ in recorded },
                             observer: running.observer, clock: running.clock.function)
    }

    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func inode(_ path: String) throws -> UInt64 {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber).uint64Value
    }

    /// Waits (up to 5 s) until the zone is served at the store's current change serial.
    func caughtUp(_ running: RunningPublication) async throws -> Bool {
        let serial = UInt32(truncatingIfNeeded: try running.admin.changeSerial())
        for _ in 0..<250 {
            if running.publication.snapshots.load().zone(named: zone)?.config.soa.serial == serial { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Waits (up to 5 s) until the served snapshot of the zone is another one than `before`.
    func republished(_ running: RunningPublication, since before: ZoneSnapshot?) async -> Bool {
        for _ in 0..<250 {
            if running.publication.snapshots.load().zone(named: zone) !== before { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Lists `address` as an operator would and waits until the zone is published again.
    func list(_ address: String, in running: RunningPublication) async throws -> Bool {
        let before = running.publication.snapshots.load().zone(named: zone)
        _ = try running.admin.list(IPPrefix(address)!, zone: zone, actor: "alice", reason: "test")
        return await republished(running, since: before)
    }

    /// A running publication with one rbldnsd export, written once; and what it holds.
    func withOneExport() async throws -> (running: RunningPublication, exports: ExportService, path: String, old: String) {
        let running = try await RunningPublication()
        let path = running.directory.file("bl.rbldnsd")
        let exports = service(running, [ExportConfiguration(zone: zone, format: .rbldnsd, path: path)])
        exports.writeChanged()
        return (running, exports, path, try contents(path))
    }

    @Test func aFileIsWrittenAtStartAndThenOnlyWhenTheZoneChanged() async throws {
        let running = try await RunningPublication()
        let v4 = running.directory.file("bl.rbldnsd"), zoneFile = running.directory.file("bl.zone")
        // A day's interval: however slowly a loaded machine runs the test, no look is due again.
        let exports = service(running, [ExportConfiguration(zone: zone, format: .rbldnsd, family: .v4, path: v4, interval: .seconds(86400)),
                                        ExportConfiguration(zone: zone, format: .zone, path: zoneFile, interval: .seconds(86400))])
        #expect(exports.writeChanged() == [v4, zoneFile], "the first look writes every export")
        #expect(try contents(v4).hasSuffix("\n127.0.0.2\n!127.0.0.1\n"))
        #expect(exports.writeChanged(force: true).isEmpty, "nothing changed: nothing written")

        #expect(try await list("81.2.69.1", in: running))
        #expect(exports.writeChanged().isEmpty, "not due before the interval")
        #expect(exports.writeChanged(force: true) == [v4, zoneFile])
        #expect(try contents(v4).contains("\n81.2.69.1 :127.0.0.34:"))
        #expect(try contents(zoneFile).contains("\n1.69.2.81 2100 IN A 127.0.0.34\n"))
        #expect(running.observer.exportsWritten == [v4, zoneFile, v4, zoneFile])
        await running.stop()
    }

    /// The new file is written beside the old one and renamed over it: a reader holding
    /// the old file keeps reading all of it, and no temporary file is left behind.
    @Test func aFileIsReplacedByRenameNeverRewrittenInPlace() async throws {
        let (running, exports, path, old) = try await withOneExport()
        let reader = try #require(FileHandle(forReadingAtPath: path))
        defer { try? reader.close() }
        let oldInode = try inode(path)

        #expect(try await list("81.2.69.0/24", in: running))
        #expect(exports.writeChanged(force: true) == [path])
        let newInode = try inode(path)
        #expect(newInode != oldInode, "a new file took the name")
        #expect(String(decoding: try #require(try reader.readToEnd()), as: UTF8.self) == old, "the old file is whole")
        #expect(try contents(path).contains("\n81.2.69.0/24 :127.0.0.34:"))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        await running.stop()
    }

    /// The same zone gives the same bytes, whatever order the entries came in and however
    /// often it is written (after a reload, every snapshot is a new one).
    @Test func theSameZoneGivesTheSameBytesInAddressOrder() async throws {
        let running = try await RunningPublication()
        var generator = SplitMix64(seed: 1996)
        var addresses = (0..<200).map { "81.\(2 + $0 % 7).\($0 % 251).\(1 + $0 % 199)" }
        addresses += (0..<50).map { "2a00:1450:\($0 % 9)::\(1 + $0)" }
        addresses.shuffle(using: &generator)
        for address in addresses {
            _ = try running.admin.list(IPPrefix(address)!, zone: zone, actor: "alice", reason: "test")
        }
        _ = try running.admin.exclude(IPPrefix("81.3.3.0/24")!, zone: zone, actor: "bob", reason: "ours")
        #expect(try await caughtUp(running))

        let first = running.directory.file("first.rbldnsd"), second = running.directory.file("second.rbldnsd")
        let v6 = running.directory.file("v6.rbldnsd"), zoneFile = running.directory.file("bl.zone")
        let exports = service(running, [ExportConfiguration(zone: zone, format: .rbldnsd, path: first),
                                        ExportConfiguration(zone: zone, format: .rbldnsd, family: .v6, path: v6),
                                        ExportConfiguration(zone: zone, format: .zone, path: zoneFile)])
        exports.writeChanged()
        let (v4Text, v6Text, zoneText) = (try contents(first), try contents(v6), try contents(zoneFile))
        let entries = v4Text.split(separator: "\n").filter { $0.first?.isNumber == true && $0.hasPrefix("81.") }
            .map { IPPrefix(String($0.split(separator: " ")[0]))! }
        #expect(entries.count == 200 && entries == entries.sorted(), "in address order")
        #expect(v4Text.contains("\n!81.3.3.0/24\n"))
        #expect(v6Text.contains("\n2a00:1450::1 :127.0.0.34:"))

        let before = running.publication.snapshots.load().zone(named: zone)
        running.publication.service.requestReload(zones: [zone])
        #expect(await republished(running, since: before))
        let again = service(running, [ExportConfiguration(zone: zone, format: .rbldnsd, path: second),
                                      ExportConfiguration(zone: zone, format: .rbldnsd, family: .v6, path: v6),
                                      ExportConfiguration(zone: zone, format: .zone, path: zoneFile)])
        #expect(exports.writeChanged(force: true).count == 3, "a reload publishes new snapshots")
        again.writeChanged()
        #expect(try contents(second) == v4Text && contents(v6) == v6Text && contents(zoneFile) == zoneText)
        await running.stop()
    }

    /// A file that cannot be written is logged and counted, keeps its last contents, and
    /// is written at a later look once it can be.
    @Test func aFailedWriteKeepsTheOldFileAndIsRetried() async throws {
        let (running, exports, path, old) = try await withOneExport()

        // The temporary file's name taken by a directory: not writable, even for root.
        try FileManager.default.createDirectory(atPath: path + ".tmp", withIntermediateDirectories: false)
        #expect(try await list("81.2.69.9", in: running))
        #expect(exports.writeChanged(force: true).isEmpty)
        #expect(exports.writeChanged(force: true).isEmpty)
        #expect(try contents(path) == old)
        #expect(running.observer.exportsFailed == [path, path], "every failed attempt is counted")
        #expect(running.log.all.filter { $0.contains("export not written") && $0.contains(path) }.count == 1,
                "a failure that lasts is logged once, naming the file")

        try FileManager.default.removeItem(atPath: path + ".tmp")
        #expect(exports.writeChanged(force: true) == [path])
        #expect(try contents(path).contains("\n81.2.69.9 :127.0.0.34:"))

        // A missing directory fails the same way.
        let missing = running.directory.file("gone/bl.rbldnsd")
        let lost = service(running, [ExportConfiguration(zone: zone, format: .rbldnsd, path: missing)])
        #expect(lost.writeChanged().isEmpty)
        #expect(running.log.all.contains { $0.contains("export not written") && $0.contains(missing) })
        await running.stop()
    }
}
