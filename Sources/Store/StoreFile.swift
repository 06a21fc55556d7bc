// StoreFile.swift -- which file a store connection reads, and whether the path still names it.

import CGNUExtensions
import Glibc

/// What the store's path names now, compared with the file the connection opened.
public enum StoreFileState: Sendable, Equatable {
    /// The path names the file the connection has open.
    case current
    /// Nothing is at the path: the file was deleted or moved away. The connection still
    /// reads the old file, but no writer will ever change it again.
    case missing
    /// Another file is at the path (a backup restored by copy and rename): the connection
    /// reads the old one, so it must be closed and the path opened again.
    case replaced
}

/// A file's device, inode and creation time: two paths, or one path at two times, name the
/// same file when these are equal. The creation time tells a file from a later one that
/// got the freed inode number of the first (file systems reuse them at once); where the
/// file system keeps none, it is zero and the inode alone decides.
public struct StoreFileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let birthSeconds: Int64
    let birthNanoseconds: UInt32

    /// The file at `path` now, or nil when there is none (or it cannot be looked at).
    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        var seconds: CLongLong = 0
        var nanoseconds: CUnsignedInt = 0
        if gnu_file_birth(path, &seconds, &nanoseconds) != 0 { (seconds, nanoseconds) = (0, 0) }
        birthSeconds = Int64(seconds)
        birthNanoseconds = UInt32(nanoseconds)
    }

    /// Whether anything is at `path`.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// What `path` names now, compared with `opened` (nil: nothing was known at open,
    /// and the state is `.current` unless the path is empty now).
    static func state(of path: String, opened: StoreFileIdentity?) -> StoreFileState {
        guard let now = StoreFileIdentity(path: path) else {
            return errno == ENOENT || errno == ENOTDIR ? .missing : .current
        }
        guard let opened else { return .current }
        return now == opened ? .current : .replaced
    }
}

extension Store {
    /// Whether `path` still names the file this connection opened. A long-running reader
    /// (publication) asks before each look at the store, because SQLite goes on reading a
    /// deleted or renamed-over file through its open descriptor without a word.
    public func fileState() -> StoreFileState {
        StoreFileIdentity.state(of: path, opened: fileIdentity)
    }
}

extension Store {
    /// What `removeLeftoverLog(of:left:)` found beside a store path.
    public enum LeftoverLog: Sendable, Equatable {
        /// No `-wal` or `-shm` file was there, or they were removed.
        case clear
        /// A connection still has them open (a lock on the `-shm` file).
        case inUse
    }

    /// Removes the `-wal` and `-shm` files a closed connection's file left beside `path`,
    /// unless a connection has them open.
    ///
    /// SQLite leaves both behind when the last connection to a deleted (or renamed-over)
    /// database closes, and keeps their names: a file put at the path later would be read
    /// with the old file's log applied to it. A connection holds a lock on the `-shm` file
    /// for as long as it has it open, so the locks the kernel lists (`/proc/locks`) tell
    /// whether any process, this one included, still uses them. The locks are looked at,
    /// never taken: taking and releasing one here would drop this process's other
    /// connections' locks on the file (POSIX record locks are per process).
    ///
    /// - Parameter left: The `-shm` file the closed connection used (its ``logIdentity``).
    ///   When another file has that name now, another connection has removed the old log
    ///   already, and the one there belongs to the file at the path: it is left alone.
    ///   Nil when unknown: whatever `-shm` is there is taken for the old one.
    public static func removeLeftoverLog(of path: String, left: StoreFileIdentity?) -> LeftoverLog {
        let shm = path + "-shm", wal = path + "-wal"
        if let identity = StoreFileIdentity(path: shm) {
            if let left, identity != left { return .clear }
            if locked(identity) { return .inUse }
        }
        unlink(wal)
        unlink(shm)
        return .clear
    }

    /// Whether `/proc/locks` lists a lock on the file. Its lines read
    /// `1: POSIX  ADVISORY  READ 1234 08:01:5678 128 128`: major and minor device in hex,
    /// then the inode.
    private static func locked(_ file: StoreFileIdentity) -> Bool {
        let major = ((file.device >> 8) & 0xfff) | ((file.device >> 32) & ~0xfff)
        let minor = (file.device & 0xff) | ((file.device >> 12) & ~0xff)
        let fd = open("/proc/locks", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }  // cannot tell: assume in use
        defer { close(fd) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            text += chunk[0..<count]
        }
        for line in text.split(separator: UInt8(ascii: "\n")) {
            for field in line.split(separator: UInt8(ascii: " ")) {
                let parts = field.split(separator: UInt8(ascii: ":"))
                guard parts.count == 3,
                      let lockMajor = UInt64(String(decoding: parts[0], as: UTF8.self), radix: 16),
                      let lockMinor = UInt64(String(decoding: parts[1], as: UTF8.self), radix: 16),
                      let inode = UInt64(String(decoding: parts[2], as: UTF8.self))
                else { continue }
                if lockMajor == major, lockMinor == minor, inode == file.inode { return true }
            }
        }
        return false
    }
}
