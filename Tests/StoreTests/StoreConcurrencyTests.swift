// StoreConcurrencyTests.swift -- writers and readers on one file at once: no "database is locked".

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreConcurrencyTests {
    @Test func twoWritersAndAReaderNeverSeeBusy() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("shared.sqlite")
        _ = try Store(path: path)
        let errors = ErrorBox()
        let group = DispatchGroup()
        let zone = "bl.example.org"
        // Writer 1: ingest, one transaction per hit (the LMTP pattern).
        DispatchQueue.global().async(group: group) {
            do {
                let store = try Store(path: path)
                for index in 0..<300 {
                    _ = try store.recordHit(Hit(source: .host(v4: 0x3000_0000 + UInt32(index % 50)), kind: .dsn, time: 1_750_000_000 + Int64(index),
                                                trap: "t", digest: Array("w1-\(index)".utf8)), zone: zone)
                }
            } catch { errors.add("writer 1: \(error)") }
        }
        // Writer 2: admin actions and imports.
        DispatchQueue.global().async(group: group) {
            do {
                let store = try Store(path: path)
                for index in 0..<60 {
                    let entries = (0..<2000).map { ImportEntry(prefix: .host(v4: 0x3100_0000 + UInt32(index * 7 + $0))) }
                    _ = try store.importEntries(entries, zone: zone, replace: true, actor: "w2", reason: "round \(index)")
                    _ = try store.list(.host(v4: 0x3200_0000 + UInt32(index)), zone: zone, actor: "w2", reason: "r")
                }
            } catch { errors.add("writer 2: \(error)") }
        }
        // Reader: the DNS side's polling.
        DispatchQueue.global().async(group: group) {
            do {
                let store = try Store(path: path, readOnly: true)
                var serial: Int64 = 0
                for _ in 0..<200 {
                    if let batch = try store.changes(zone: zone, after: serial) {
                        _ = try store.listings(for: batch.changes.map(\.prefix), zone: zone, now: 1_750_000_000)
                        serial = batch.serial
                    } else {
                        let snapshot = try store.activeSnapshot(zone: zone, now: 1_750_000_000)
                        serial = snapshot.serial
                    }
                }
            } catch { errors.add("reader: \(error)") }
        }
        group.wait()
        #expect(errors.all.isEmpty, "\(errors.all)")
        let store = try Store(path: path)
        #expect(try store.integrityCheck().isEmpty)
        #expect(try store.statistics(zone: zone, now: 1_750_000_000).hits == 300)
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: String) { lock.lock(); errors.append(error); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return errors }
}
