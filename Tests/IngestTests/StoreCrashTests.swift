// StoreCrashTests.swift -- a writer killed mid-transaction leaves the store consistent.

import Foundation
import Testing
@testable import Ingest

#if canImport(Glibc)
import Glibc

@Suite(.serialized)
struct StoreCrashTests {
    /// Two lists the writer alternates between; after a kill the zone holds exactly one.
    static func list(_ which: Int) -> [ImportEntry] {
        (0..<20_000).map { ImportEntry(prefix: .host(v4: UInt32(0x2E00_0000 + which * 0x10_0000 + $0 * 3))) }
    }

    /// The child: commits imports and hit batches forever, writing one byte to `pipe`
    /// after each commit, until SIGKILL.
    static func writerLoop(path: String, pipe: Int32) -> Never {
        guard let store = try? Store(path: path) else { _exit(3) }
        var round = 0
        while true {
            do {
                _ = try store.importEntries(list(round % 2), zone: "bl.example.org", replace: true, actor: "child", reason: "round \(round)")
                let hits = (0..<500).map { index in
                    Hit(source: .host(v4: UInt32(0x2F00_0000 + (round * 500 + index) % 3000)), kind: .dsn,
                        time: 1_750_000_000 + Int64(round), trap: "…@trap", digest: Array("r\(round)-\(index)".utf8))
                }
                _ = try store.recordHits(hits, zone: "bl.example.org")
            } catch {
                _exit(4)
            }
            var byte: UInt8 = 1
            _ = write(pipe, &byte, 1)
            round += 1
        }
    }

    @Test(arguments: [0, 5, 20, 60, 150])
    func killedWriterLeavesAConsistentStore(delayMilliseconds: Int) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("crash.sqlite")
        do { _ = try Store(path: path) }  // create + migrate before forking
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let child = fork()
        if child == 0 {
            close(fds[0])
            Self.writerLoop(path: path, pipe: fds[1])
        }
        close(fds[1])
        // Wait for two commits, then kill at a moment inside the next transactions.
        var byte: UInt8 = 0
        for _ in 0..<2 { #expect(read(fds[0], &byte, 1) == 1, "the writer committed") }
        usleep(UInt32(delayMilliseconds * 1000))
        kill(child, SIGKILL)
        var status: Int32 = 0
        waitpid(child, &status, 0)
        close(fds[0])
        #expect(status & 0x7F == SIGKILL, "killed, not exited (status \(status))")

        let store = try Store(path: path)
        #expect(try store.integrityCheck() == [])
        let listed = Set(try store.activeListings(zone: "bl.example.org", now: 1_750_000_000).filter { $0.prefix.address >> 24 == 0x2E }.map(\.prefix))
        #expect(listed == Set(Self.list(0).map(\.prefix)) || listed == Set(Self.list(1).map(\.prefix)),
                "the manual list is one whole import, not a mix (\(listed.count) entries)")
        let stats = try store.statistics(zone: "bl.example.org", now: 1_750_000_000)
        #expect(stats.hits % 500 == 0, "hit batches are whole")
        // And the store still takes writes.
        _ = try store.importEntries([], zone: "bl.example.org", replace: true, actor: "t", reason: "after crash")
    }
}
#endif
