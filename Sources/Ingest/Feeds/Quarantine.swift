// Quarantine.swift -- keeping messages ingest cannot process, with the reason beside them.

import Foundation
import Glibc

/// A quarantine Maildir: messages that could not be processed (unreadable, not a mail
/// message, refused by the store) are kept here unchanged, never deleted.
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

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 }.prefix(2000))
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date())
    }
}
