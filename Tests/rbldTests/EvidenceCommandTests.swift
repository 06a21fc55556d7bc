// EvidenceCommandTests.swift -- `rbld hits --weak`, `confirm`, `reject` and `show` on weak evidence, as processes.

import Foundation
import Testing
import TestSupport
@testable import Store

@Suite(.serialized) struct EvidenceCommandTests {
    static let rbld = rbldExecutable()
    let sandbox = IngestSandbox()

    /// Runs `rbld ARGS --db … --zone bl.example.org`.
    func rbld(_ arguments: [String]) throws -> (code: Int32?, output: String) {
        let result = try ChildProcess.run(try #require(Self.rbld), arguments + ["--db", sandbox.dbPath, "--zone", "bl.example.org"])
        guard case .exited(let code) = result.termination else { return (nil, result.output) }
        return (code, result.output)
    }

    /// A weak hit from `address` at trap number `trap`, recorded as ingest would.
    func recordWeakHit(_ address: String, trap: UInt8 = 1, kind: HitKind = .challenge) throws {
        let store = try Store(path: sandbox.dbPath)
        _ = try store.recordHit(Hit(source: IPPrefix(address)!, kind: kind, strength: .weak, time: Int64(Date().timeIntervalSince1970) - 60,
                                    trap: "…@trap.example.net", trapKey: [trap], reporter: "mx.trap.example.net",
                                    digest: Array("\(address)-\(trap)-\(kind)".utf8)), zone: "bl.example.org")
    }

    @Test func heldBackSourcesAreListedShownConfirmedAndRejected() throws {
        try recordWeakHit("81.2.69.70")

        var result = try rbld(["hits", "--weak"])
        #expect(result.code == 0, "\(result.output)")
        #expect(result.output.contains("ADDRESS") && result.output.contains("81.2.69.70"), "\(result.output)")
        #expect(result.output.contains("1 weak hit(s), 1 more trap(s), or a strong hit"), "\(result.output)")
        result = try rbld(["hits", "--weak", "--json"])
        let held = try JSONDecoder().decode([HeldBackSource].self, from: Data(result.output.utf8))
        #expect(held.map(\.address) == ["81.2.69.70"] && held.first?.weakHits == 1 && held.first?.traps == 1)

        result = try rbld(["show", "81.2.69.70"])
        #expect(result.output.hasPrefix("81.2.69.70 in bl.example.org: HELD-BACK"), "\(result.output)")
        #expect(result.output.contains("EVIDENCE") && result.output.contains(" weak "), "each hit's strength: \(result.output)")
        #expect(result.output.contains("needs 1 more weak hit from 1 more trap within 1w, or a strong hit"), "\(result.output)")
        #expect(result.output.contains("weak hits weigh ×1.0 and count once 2 from 2 traps fall within 1w"), "the policy: \(result.output)")

        result = try rbld(["hits"])
        #expect(result.output.contains("81.2.69.70") && result.output.contains("challenge") && result.output.contains("weak"),
                "\(result.output)")

        result = try rbld(["confirm", "81.2.69.70", "--reason", "a real challenge system"])
        #expect(result.code == 0 && result.output.contains("confirmed 1 weak hit of 81.2.69.70: listed until"), "\(result.output)")
        #expect(try rbld(["show", "81.2.69.70"]).output.hasPrefix("81.2.69.70 in bl.example.org: LISTED 127.0.0.10"))
        #expect(try rbld(["hits", "--weak"]).output.contains("no source held back"))
        result = try rbld(["confirm", "81.2.69.70", "--reason", "again"])
        #expect(result.code == 65 && result.output.contains("not held back for lack of corroboration: it is listed"), "\(result.output)")

        result = try rbld(["reject", "81.2.69.70", "--reason", "it was a newsletter after all", "--json"])
        let rejected = try JSONDecoder().decode(AdminResult.self, from: Data(result.output.utf8))
        #expect(result.code == 0 && rejected.action == "reject" && rejected.message == "rejected 1 weak hit of 81.2.69.70: not listed")
        #expect(try rbld(["show", "81.2.69.70"]).output.hasPrefix("81.2.69.70 in bl.example.org: NOT-LISTED"))
        result = try rbld(["reject", "81.2.69.70", "--reason", "again"])
        #expect(result.code == 65 && result.output.contains("has no weak evidence to reject"), "\(result.output)")

        #expect(try storeValue(sandbox.dbPath, "SELECT count(*) FROM audit WHERE action IN ('confirm', 'reject') AND actor != ''") == 2)
    }

    @Test func judgementsNeedAReasonAndAnAddress() throws {
        #expect(try rbld(["confirm", "81.2.69.71"]).code == 64)
        #expect(try rbld(["reject", "81.2.69.71", "--reason", " "]).code == 64)
        let result = try rbld(["confirm", "81.2.69.71", "--reason", "x"])
        #expect(result.code == 65 && result.output.contains("no hits from 81.2.69.71"), "\(result.output)")
        #expect(try rbld(["confirm", "81.2.69.0/24", "--reason", "x"]).code == 65)
    }
}
