// Quarantine.swift -- keeping messages ingest cannot process, with the reason beside them.

import Foundation
import Glibc

/// A quarantine Maildir: messages that could not be processed (unreadable, not a mail
/// message, refused by the store) are kept here unchanged, never deleted; so are copies
/// of damaged messages (``MessageDefects/severe``) that were processed all the same.
///
/// The message goes into the quarantine's `new/` with its original bytes (so its digest
/// is unchanged and it can be fed again with `rbld ingest FILE` once the cause is fixed);
/// the reason goes into a side file `reasons/<name>` (origin, time, reason), written
/// before the message is moved. A mail reader sees an ordinary Maildir.
public struct Quarantine: Sendable {
    public let maildir: Maildir

    public init(path: String) {
        maildir = Maildir(path: path)
    }

    public var reasonsPath: String { maildir.path + "/reasons" }

    /// Creates the quarantine Maildir and its `reasons/` folder when missing.
    public func create() throws(IngestError) {
        try maildir.create()
        if !Maildir.isDirectory(reasonsPath) {
            do {
                try FileManager.default.createDirectory(atPath: reasonsPath, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw IngestError(.folder, "\(reasonsPath): cannot create: \(error.localizedDescription)")
            }
        }
    }

    /// Moves a message file into quarantine (a rename: atomic, no copy; across file
    /// systems: copied durably, then the original removed).
    ///
    /// - Returns: the path of the quarantined message.
    @discardableResult
    public func keep(file path: String, reason: String) throws(IngestError) -> String {
        try create()
        let base = path.split(separator: "/").last.map(String.init) ?? "message"
        let name = uniqueName(base: base.split(separator: ":").first.map(String.init) ?? base)
        try writeReason(name: name, origin: path, reason: reason)
        let target = maildir.newPath + "/" + name
        if rename(path, target) == 0 {
            Maildir.syncDirectory(maildir.newPath)
            return target
        }
        guard errno == EXDEV else {
            throw IngestError(.folder, "\(path): cannot move into quarantine \(maildir.newPath): \(String(cString: strerror(errno)))")
        }
        let bytes: [UInt8]
        do {
            bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw IngestError(.unreadable, "\(path): cannot copy into quarantine: \(error.localizedDescription)")
        }
        try maildir.deliver(bytes, name: name)
        unlink(path)
        return target
    }

    /// Keeps a copy of a message file in quarantine; the file itself stays where it is.
    ///
    /// With `link` (Maildir messages, which are never rewritten) the copy is a hard link
    /// when the quarantine is on the same file system: no time or memory for a large
    /// message. Otherwise the file is copied in pieces into `tmp/`, synced and renamed into
    /// `new/`.
    ///
    /// - Returns: the path of the copy.
    @discardableResult
    public func keep(copyOf path: String, reason: String, link: Bool = true) throws(IngestError) -> String {
        try create()
        let base = path.split(separator: "/").last.map(String.init) ?? "message"
        let name = uniqueName(base: base.split(separator: ":").first.map(String.init) ?? base)
        try writeReason(name: name, origin: path, reason: reason)
        let target = maildir.newPath + "/" + name
        if link, Glibc.link(path, target) == 0 {
            Maildir.syncDirectory(maildir.newPath)
            return target
        }
        let temporary = maildir.tmpPath + "/" + name
        try Self.copyDurably(from: path, to: temporary)
        guard rename(temporary, target) == 0 else {
            let failure = String(cString: strerror(errno))
            unlink(temporary)
            throw IngestError(.folder, "\(target): cannot keep a copy of \(path): \(failure)")
        }
        Maildir.syncDirectory(maildir.newPath)
        return target
    }

    /// Writes a message held in memory (standard input, LMTP, an mbox entry) into quarantine.
    ///
    /// - Returns: the path of the quarantined message.
    @discardableResult
    public func keep(bytes: [UInt8], origin: String, reason: String) throws(IngestError) -> String {
        try create()
        let name = Maildir.uniqueName()
        try writeReason(name: name, origin: origin, reason: reason)
        try maildir.deliver(bytes, name: name)
        return maildir.newPath + "/" + name
    }

    /// The reason recorded for a quarantined message (by its name in `new/` or `cur/`).
    public func reason(for name: String) -> String? {
        let unique = name.split(separator: ":").first.map(String.init) ?? name
        return try? String(contentsOfFile: reasonsPath + "/" + unique, encoding: .utf8)
    }

    private func uniqueName(base: String) -> String {
        var name = base
        var attempt = 0
        while attempt < 1000, access(maildir.newPath + "/" + name, F_OK) == 0 || access(reasonsPath + "/" + name, F_OK) == 0 {
            attempt += 1
            name = "\(base).q\(attempt)"
        }
        return attempt < 1000 ? name : Maildir.uniqueName()
    }

    private func writeReason(name: String, origin: String, reason: String) throws(IngestError) {
        let text = "origin: \(Self.oneLine(origin))\ntime: \(Self.timestamp())\nreason: \(Self.oneLine(reason))\n"
        let temporary = maildir.tmpPath + "/" + name + ".reason"
        try Maildir.writeDurably(Array(text.utf8), to: temporary)
        guard rename(temporary, reasonsPath + "/" + name) == 0 else {
            let failure = String(cString: strerror(errno))
            unlink(temporary)
            throw IngestError(.folder, "\(reasonsPath)/\(name): cannot write reason: \(failure)")
        }
    }

    /// Copies a file in 64 KiB pieces (memory stays bounded whatever its size) and syncs it.
    private static func copyDurably(from source: String, to target: String) throws(IngestError) {
        let input = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard input >= 0 else { throw IngestError(.unreadable, "\(source): cannot open for a quarantine copy: \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw IngestError(.folder, "\(target): cannot create: \(String(cString: strerror(errno)))") }
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var failure: String?
        copying: while true {
            let got = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                failure = "\(source): read failed: \(String(cString: strerror(errno)))"
                break
            }
            if got == 0 { break }
            var offset = 0
            while offset < got {
                let written = chunk.withUnsafeBytes { write(output, $0.baseAddress! + offset, got - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = "\(target): cannot write: \(String(cString: strerror(errno)))"
                    break copying
                }
                offset += written
            }
        }
        if failure == nil, fsync(output) != 0 { failure = "\(target): cannot sync: \(String(cString: strerror(errno)))" }
        close(output)
        if let failure {
            unlink(target)
            throw IngestError(.folder, failure)
        }
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 }.prefix(2000))
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }
}
