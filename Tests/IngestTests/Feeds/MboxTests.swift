// MboxTests.swift -- splitting mbox files on From_ lines and undoing >From quoting.

import Foundation
import Testing
@testable import Ingest

@Suite struct MboxTests {
    static func split(_ text: String) throws -> [MboxEntry] {
        var entries: [MboxEntry] = []
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { buffer in
            try Mbox.forEachMessage(in: buffer) { entries.append($0) }
        }
        return entries
    }

    static func text(_ entry: MboxEntry) -> String { String(decoding: entry.bytes, as: UTF8.self) }

    @Test func splitsOnFromLinesAfterAnEmptyLine() throws {
        let entries = try Self.split("""
            From MAILER-DAEMON Tue Mar 11 08:14:02 2025
            Subject: one

            body one
            From here on a body line starts with From but follows text: not a separator

            From MAILER-DAEMON Tue Mar 11 08:15:00 2025
            Subject: two

            body two

            """)
        #expect(entries.count == 2)
        #expect(Self.text(entries[0]) == "Subject: one\n\nbody one\nFrom here on a body line starts with From but follows text: not a separator\n")
        #expect(Self.text(entries[1]) == "Subject: two\n\nbody two\n")
        #expect(entries[0].separator == "From MAILER-DAEMON Tue Mar 11 08:14:02 2025")
        #expect(entries.map(\.index) == [1, 2])
    }

    @Test func unquotesFromLinesTheMboxrdWay() throws {
        let entries = try Self.split("From a@b Tue Mar 11 08:14:02 2025\nSubject: q\n\n>From the start\n>>From deeper\n> From not quoted\n>Fromage\nx\n")
        #expect(Self.text(try #require(entries.first)) == "Subject: q\n\nFrom the start\n>From deeper\n> From not quoted\n>Fromage\nx\n")
    }

    @Test func handlesCRLFFiles() throws {
        let entries = try Self.split("From a@b Tue Mar 11 08:14:02 2025\r\nSubject: one\r\n\r\nbody\r\n\r\nFrom a@b Tue Mar 11 08:14:03 2025\r\nSubject: two\r\n\r\nbody\r\n")
        #expect(entries.count == 2)
        #expect(Self.text(entries[0]) == "Subject: one\r\n\r\nbody\r\n")
        #expect(entries[0].separator == "From a@b Tue Mar 11 08:14:02 2025")
    }

    @Test(arguments: [
        ("From MAILER-DAEMON Tue Mar 11 08:14:02 2025", Int64(1_741_680_842)),
        ("From a@b  Thu Jan  1 00:00:00 1970", Int64(0)),
        ("From a@b Tue Mar 11 08:14:02 +0100 2025", Int64(1_741_680_842)),
        ("From a@b sometime", nil),
    ])
    func separatorTimes(line: String, expected: Int64?) {
        #expect(Mbox.separatorTime(line) == expected)
    }

    @Test func anEmptyOrHeadlessFileHasNoMessages() throws {
        #expect(try Self.split("").isEmpty)
        #expect(try Self.split("Subject: not an mbox\n\nbody\n").isEmpty)
        #expect(Mbox.looksLikeMbox(Array("From x".utf8)))
        #expect(!Mbox.looksLikeMbox(Array("Subject".utf8)))
    }

    @Test func aFileIsMappedAndSplit() throws {
        let sandbox = try FeedSandbox()
        let path = sandbox.path + "/traps.mbox"
        var text = ""
        for index in 0..<20 {
            text += "From MAILER-DAEMON Tue Mar 11 08:14:02 2025\n" + TrapMail.dsn(source: TrapMail.source(index), id: "M\(index)") + "\n"
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        var count = 0
        try Mbox.forEachMessage(inFile: path) { entry in
            count += 1
            #expect(String(decoding: entry.bytes, as: UTF8.self) == TrapMail.dsn(source: TrapMail.source(entry.index - 1), id: "M\(entry.index - 1)"))
        }
        #expect(count == 20)
    }
}
