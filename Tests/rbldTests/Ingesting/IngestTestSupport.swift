// IngestTestSupport.swift -- temp folders, trap mail, a tiny LMTP client and subprocess helpers.

import Foundation
import Glibc
@testable import Ingest
@testable import Store

/// A temporary folder removed at the end.
final class IngestSandbox {
    let path: String
    var dbPath: String { path + "/rbld.sqlite" }

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("rbld-ingest-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func maildir(_ name: String = "trap") throws -> Maildir {
        let maildir = Maildir(path: path + "/" + name)
        try maildir.create()
        return maildir
    }

    func count(_ folder: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + folder)) ?? []).count
    }

    func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + folder)) ?? []).sorted()
    }
}

/// One number from the store (a restarted process's view).
func storeValue(_ dbPath: String, _ sql: StaticString = "SELECT count(*) FROM hits") throws -> Int {
    let store = try Store(path: dbPath)
    let statement = try store.db.statement(sql)
    defer { statement.reset() }
    _ = try statement.step()
    return statement.int(0)
}

/// Trap messages with public source addresses (nothing is sent anywhere).
enum IngestMail {
    static func dsn(source: String, id: String) -> String {
        """
        Return-Path: <>
        Delivered-To: trap.one@trap.example.net
        Received: from mx.bouncer.example (mx.bouncer.example [\(source)])
        \tby mx.trap.example.net (Postfix) with ESMTP id \(id)
        \tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
        Date: Tue, 11 Mar 2025 09:14:01 +0100
        From: MAILER-DAEMON@bouncer.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: trap.one@trap.example.net
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b-\(id)"
        Message-Id: <\(id)@bouncer.example>

        --b-\(id)
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.bouncer.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

        --b-\(id)
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.bouncer.example

        Final-Recipient: rfc822; nobody@example.org
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: User unknown

        --b-\(id)
        Content-Type: text/rfc822-headers

        From: trap.one@trap.example.net
        To: nobody@example.org
        Subject: cheap watches \(id)

        --b-\(id)--

        """
    }

    /// A DSN as an LMTP client sends it: no Return-Path (the envelope carries it), CRLF.
    static func lmtpDSN(source: String, id: String) -> String {
        dsn(source: source, id: id).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("Return-Path:") && !$0.hasPrefix("Delivered-To:") }
            .joined(separator: "\r\n")
    }

    static func ham(source: String, id: String) -> String {
        """
        Return-Path: <alice@shop.example>
        Received: from mail.shop.example (mail.shop.example [\(source)])
        \tby mx.trap.example.net (Postfix) with ESMTP id \(id)
        \tfor <trap.one@trap.example.net>; Tue, 11 Mar 2025 09:14:02 +0100 (CET)
        From: Alice Example <alice@shop.example>
        To: trap.one@trap.example.net
        Subject: Notes from Tuesday \(id)
        Date: Tue, 11 Mar 2025 09:14:01 +0100
        Message-Id: <\(id)@shop.example>

        Hi Bob, here are my notes from Tuesday's meeting about the garden project.

        """
    }

    static func source(_ index: Int) -> String { "81.2.\(index / 250 % 250).\(index % 250 + 1)" }
}

/// A blocking LMTP/SMTP client for tests: loopback only, every read bounded by a timeout.
final class LineClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// The next line without CRLF, nil on timeout or close.
    func line() -> String? {
        for _ in 0..<100_000 {
            if let end = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got <= 0 { return nil }
            buffer += chunk[..<got]
        }
        return nil
    }

    /// A whole reply (continuation lines `250-...` up to the last `250 ...`).
    func reply() -> [String] {
        var lines: [String] = []
        for _ in 0..<100 {
            guard let line = line() else { break }
            lines.append(line)
            if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { break }
        }
        return lines
    }
}

/// The built `rbld` executable (next to the test bundle).
func rbldExecutable() -> String? {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    var candidates = [here.appendingPathComponent("rbld").path]
    if let selfPath = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: selfPath).deletingLastPathComponent().appendingPathComponent("rbld").path)
    }
    var directory = here
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("rbld").path)
        directory = directory.deletingLastPathComponent()
    }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}
