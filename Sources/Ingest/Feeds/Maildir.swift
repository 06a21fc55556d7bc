// Maildir.swift -- a Maildir folder: list new/, mark done into cur/, deliver via tmp/.

import Foundation
import Glibc
import Synchronization

/// A Maildir folder (`tmp/`, `new/`, `cur/`), as written by Postfix, Exim, Dovecot and
/// procmail (https://cr.yp.to/proto/maildir.html).
///
/// Delivery agents write a message into `tmp/` and rename it into `new/`, so every name in
/// `new/` is a complete message. Ingest reads `new/` and, after the store commit, renames
/// each message into `cur/` with the info suffix `:2,S` (seen). Renames within one file
/// system are atomic: a message is in `new/` or in `cur/`, never lost between them.
public struct Maildir: Sendable, CustomStringConvertible {
    public let path: String

    public init(path: String) {
        var path = path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.path = path
    }

    public var newPath: String { path + "/new" }
    public var curPath: String { path + "/cur" }
    public var tmpPath: String { path + "/tmp" }
    /// The Maildir that keeps this trap's rejected mail unless another is configured.
    public var quarantinePath: String { path + "/.quarantine" }

    public var description: String { path }

    /// Whether `path` holds the three Maildir subfolders.
    public static func isMaildir(_ path: String) -> Bool {
        ["new", "cur", "tmp"].allSatisfy { isDirectory(path + "/" + $0) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Creates the folder and its subfolders when missing (mode 0700, as MDAs do).
    public func create() throws(IngestError) {
        for directory in [path, tmpPath, newPath, curPath] where !Self.isDirectory(directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw IngestError(.folder, "\(directory): cannot create Maildir folder: \(error.localizedDescription)")
            }
        }
    }

    /// Names of the messages in `new/`, oldest delivery first (Maildir names start with
    /// the delivery time), at most `limit` of them; dot files are skipped.
    public func newMessages(limit: Int = .max) throws(IngestError) -> [String] {
        guard let directory = opendir(newPath) else {
            throw IngestError(.folder, "\(newPath): cannot list: \(String(cString: strerror(errno)))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let type = entry.pointee.d_type
            guard type == UInt8(DT_REG) || type == UInt8(DT_UNKNOWN) || type == UInt8(DT_LNK) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            names.append(name)
        }
        names.sort(by: Self.deliveryOrder)
        if names.count > limit { names.removeSubrange(limit...) }
        return names
    }

    /// Orders names by their leading delivery time (seconds), then by name.
    static func deliveryOrder(_ lhs: String, _ rhs: String) -> Bool {
        let left = leadingNumber(lhs), right = leadingNumber(rhs)
        return left != right ? left < right : lhs < rhs
    }

    private static func leadingNumber(_ name: String) -> Int {
        var value = 0
        for byte in name.utf8.prefix(18) {
            guard byte >= 0x30, byte <= 0x39 else { break }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// The `cur/` name of a message from `new/`: its unique part plus `:2,` and the flags
    /// it had, with `S` (seen) added, in ASCII order as the spec requires.
    public static func curName(for name: String, adding flag: Character = "S") -> String {
        let separator = name.firstIndex(of: ":")
        let unique = separator.map { String(name[..<$0]) } ?? name
        var flags: Set<Character> = [flag]
        if let separator {
            let info = name[name.index(after: separator)...]
            if info.hasPrefix("2,") { flags.formUnion(info.dropFirst(2).filter(\.isLetter)) }
        }
        return unique + ":2," + String(flags.sorted())
    }

    /// Moves a processed message from `new/` to `cur/` with the seen flag.
    ///
    /// - Returns: false when the message is no longer in `new/` (another reader moved it).
    @discardableResult
    public func markProcessed(_ name: String) throws(IngestError) -> Bool {
        let from = newPath + "/" + name
        let to = curPath + "/" + Self.curName(for: name)
        if rename(from, to) == 0 { return true }
        let code = errno
        if code == ENOENT, access(from, F_OK) != 0 { return false }
        throw IngestError(.move, "\(from): cannot move to cur/: \(String(cString: strerror(code)))")
    }

    /// Process-wide counter for unique delivery names.
    private static let deliveryCounter = DeliveryCounter()

    /// A unique Maildir name: `time.M<usec>P<pid>Q<n>.<host>` (the spec's recommended form;
    /// `/` and `:` in the host name are escaped as `\057` and `\072`).
    public static func uniqueName() -> String {
        var now = timeval()
        gettimeofday(&now, nil)
        var host = [UInt8](repeating: 0, count: 256)
        _ = host.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), 255) }
        let hostName = String(decoding: host.prefix { $0 != 0 }, as: UTF8.self).replacingOccurrences(of: "/", with: "\\057")
            .replacingOccurrences(of: ":", with: "\\072")
        return "\(now.tv_sec).M\(now.tv_usec)P\(getpid())Q\(deliveryCounter.next()).\(hostName.isEmpty ? "localhost" : hostName)"
    }

    /// Delivers bytes as a new message: written and fsynced in `tmp/`, renamed into `new/`.
    ///
    /// - Returns: the message's name in `new/`.
    @discardableResult
    public func deliver(_ bytes: [UInt8], name: String = Maildir.uniqueName()) throws(IngestError) -> String {
        let temporary = tmpPath + "/" + name
        try Self.writeDurably(bytes, to: temporary)
        guard rename(temporary, newPath + "/" + name) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw IngestError(.folder, "\(newPath)/\(name): cannot deliver: \(reason)")
        }
        Self.syncDirectory(newPath)
        return name
    }

    /// Writes a whole file and fsyncs it (a short write or a full disk is an error).
    static func writeDurably(_ bytes: [UInt8], to path: String) throws(IngestError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IngestError(.folder, "\(path): cannot create: \(String(cString: strerror(errno)))") }
        var offset = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 {
            unlink(path)
            throw IngestError(.folder, "\(path): cannot write: \(String(cString: strerror(failure)))")
        }
    }

    /// fsyncs a directory so a rename into it survives a power loss.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// A thread-safe counter (Maildir's `Q` part: deliveries of this process).
private final class DeliveryCounter: Sendable {
    private let value = Mutex<Int>(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
