// ImportCommandTests.swift -- `rbld import` as a subprocess: it leaves the frozen table in the snapshot cache.

import Foundation
import Store
import Testing
import TestSupport
@testable import Ingest

@Suite struct ImportCommandTests {
    static let rbld = rbldExecutable()

    /// The first `rbld serve` after a bulk import must not rebuild the table from a million
    /// rows: import writes the snapshot cache at the serial it committed, and a merge that
    /// changes the store writes it again at the new serial.
    @Test func importLeavesTheSnapshotCacheAtItsSerial() throws {
        let rbld = try #require(Self.rbld)
        let sandbox = IngestSandbox()
        let list = sandbox.path + "/list.txt"
        for (round, text) in ["192.0.2.1\n198.51.100.0/24\n!198.51.100.7\n", "203.0.113.9\n"].enumerated() {
            try Data(text.utf8).write(to: URL(fileURLWithPath: list))
            let merge = round == 0 ? [] : ["--merge"]
            let (termination, output) = try ChildProcess.run(
                rbld, ["import", "--db", sandbox.dbPath, "--zone", "bl.example.org"] + merge + [list])
            #expect(termination == .exited(0), "\(output)")
            let store = try Store(path: sandbox.dbPath, readOnly: true)
            let cache = try #require(try store.snapshotCache(zone: "bl.example.org"), "round \(round): no snapshot cache")
            #expect(cache.serial == (try store.changeSerial()), "round \(round)")
            #expect(!cache.bytes.isEmpty)
        }
    }

    /// Like every other command, import takes its store and zone from the configuration
    /// when no flag names them; `--json` prints the summary as one object.
    @Test func importTakesDbAndZoneFromTheConfiguration() throws {
        let rbld = try #require(Self.rbld)
        let sandbox = IngestSandbox()
        let config = sandbox.path + "/rbld.yaml"
        try Data("""
            db: \(sandbox.dbPath)
            zones:
              - name: dnsbl.config.example
            """.utf8).write(to: URL(fileURLWithPath: config))
        let list = sandbox.path + "/list.txt"
        try Data("192.0.2.1\n198.51.100.0/24\n!198.51.100.7\nnot-an-address\n".utf8).write(to: URL(fileURLWithPath: list))

        let (refused, refusal) = try ChildProcess.run(rbld, ["import", "--config", config, list])
        #expect(refused == .exited(65), "a bad line changes nothing: \(refusal)")
        #expect(refusal.contains("list.txt:4"), "the bad line is named: \(refusal)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath), "nothing written before the input is good")

        let (termination, output) = try ChildProcess.run(rbld, ["import", "--config", config, "--skip-bad", "--json", list])
        #expect(termination == .exited(0), "\(output)")
        let json = try #require(output.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n").data(using: .utf8))
        let summary = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(summary["zone"] as? String == "dnsbl.config.example")
        #expect(summary["added"] as? Int == 3)
        #expect(summary["badLinesSkipped"] as? Int == 1)
        #expect(summary["servedV4"] as? Int == 3)
        let store = try Store(path: sandbox.dbPath, readOnly: true)
        #expect(try store.zoneNames() == ["dnsbl.config.example"])
    }
}
