// MboxIngestTests.swift -- an mbox file ingested a batch per transaction.

import Foundation
import Testing
@testable import Store
@testable import Ingest

@Suite("Ingester.ingestMbox")
struct MboxIngestTests {
    /// An mbox of `count` distinct bounces in the sandbox; its path.
    static func mbox(_ sandbox: FeedSandbox, count: Int) throws -> String {
        var text = ""
        for index in 0..<count {
            text += "From MAILER-DAEMON Tue Mar 11 08:14:02 2025\n" + TrapMail.dsn(source: TrapMail.source(index), id: "M\(index)") + "\n"
        }
        let path = sandbox.path + "/hits.mbox"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everyMessageIsRecordedInFileOrderOneTransactionPerBatch() throws {
        let sandbox = try FeedSandbox()
        let path = try Self.mbox(sandbox, count: 5)
        let ingester = try sandbox.ingester()
        var commits = 0
        var origins: [String] = []
        let failed = try ingester.ingestMbox(
            at: path, batch: 2, now: Store.systemClock(),
            commit: { body throws(IngestError) in commits += 1; return try body() },
            record: { result, bytes in
                origins.append(result.origin)
                #expect(String(decoding: bytes, as: UTF8.self).contains("Undelivered Mail"))
                if case .recorded = result.outcome {} else { Issue.record("\(result.origin): \(result.outcome)") }
            })
        #expect(failed == nil)
        #expect(commits == 3, "5 messages in batches of 2")
        #expect(origins == (1...5).map { "\(path)#\($0)" })
        #expect(try storeCount(sandbox.dbPath) == 5)
    }

    @Test func aStoreThatTakesNoWritesEndsTheFileAndSaysHowManyWereLeftOut() throws {
        let sandbox = try FeedSandbox()
        _ = try Store(path: sandbox.dbPath)  // create and migrate
        let path = try Self.mbox(sandbox, count: 3)
        // A read-only connection cannot write: the commit fails like an unavailable store.
        let ingester = try sandbox.ingester(Store(path: sandbox.dbPath, readOnly: true))
        var recorded = 0
        let failed = try ingester.ingestMbox(at: path, batch: 2, now: Store.systemClock(), record: { _, _ in recorded += 1 })
        #expect(failed?.failure.code == .storeUnavailable && failed?.messages == 2)
        #expect(recorded == 0)
        #expect(try storeCount(sandbox.dbPath) == 0)
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let sandbox = try FeedSandbox()
        let missing = sandbox.path + "/none.mbox"
        #expect {
            _ = try sandbox.ingester().ingestMbox(at: missing, batch: 2, now: 0, record: { _, _ in })
        } throws: { error in
            (error as? IngestError)?.code == .unreadable && "\(error)".contains(missing)
        }
    }
}
