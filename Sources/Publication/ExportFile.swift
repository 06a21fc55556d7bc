// ExportFile.swift -- a file replaced whole or not at all: a temporary file beside it, fsync, rename.

import Glibc

/// A buffered text sink that replaces a file atomically, or writes standard output (`-`).
///
/// The text goes to `PATH.tmp` in the same directory (so the rename never crosses a file
/// system), is flushed to disk with fsync, and is renamed over `PATH`; the directory is
/// synced after the rename, so that the new name survives a crash. A reader (rsync,
/// rbldnsd, a name server loading the file) sees the old file or the new one, never a
/// part of one. When anything fails, the temporary file is removed and `PATH` is left as
/// it was.
///
/// ```swift
/// var file = try ExportFile(path: "/srv/mirror/bl.zone")
/// file.write("...")
/// try file.commit()
/// ```
public struct ExportFile: TextOutputStream {
    /// The path that means standard output.
    public static let standardOutput = "-"

    public let path: String
    private let temporary: String?
    private let fd: Int32
    private var buffer: [UInt8] = []
    /// The first write error (errno); later writes are dropped.
    private var failed: Int32 = 0

    /// Creates `PATH.tmp` (or takes standard output for `-`).
    ///
    /// - Throws: `PublicationError` `.cannotWrite` naming the temporary file when it
    ///   cannot be created (a missing or unwritable directory).
    public init(path: String) throws(PublicationError) {
        self.path = path
        if path == Self.standardOutput {
            fd = 1
            temporary = nil
        } else {
            let temporary = path + ".tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw PublicationError(.cannotWrite, "\(temporary): \(Self.describe(errno))") }
            self.temporary = temporary
        }
        buffer.reserveCapacity(1 << 20)
    }

    public mutating func write(_ string: String) {
        buffer.append(contentsOf: string.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private mutating func flush() {
        var offset = 0
        while offset < buffer.count, failed == 0 {
            // In bounds: offset < buffer.count, and the pointer covers the whole buffer.
            let count = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                failed = errno
            } else {
                offset += count
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, syncs it and renames the temporary file over the path.
    ///
    /// - Throws: `PublicationError` `.cannotWrite` naming the path (a full disk, an I/O
    ///   error); the temporary file is gone then, and the old file untouched.
    public mutating func commit() throws(PublicationError) {
        flush()
        guard let temporary else {
            if failed != 0 { throw PublicationError(.cannotWrite, "standard output: \(Self.describe(failed))") }
            return
        }
        if failed == 0, fsync(fd) != 0 { failed = errno }
        Glibc.close(fd)
        if failed == 0, rename(temporary, path) != 0 { failed = errno }
        guard failed == 0 else {
            unlink(temporary)
            throw PublicationError(.cannotWrite, "\(path): \(Self.describe(failed))")
        }
        Self.syncDirectory(of: path)
    }

    /// Closes and removes the temporary file, leaving the path as it was.
    public mutating func discard() {
        guard let temporary else { return }
        Glibc.close(fd)
        unlink(temporary)
    }

    /// Syncs the directory holding `path`, so a rename in it is on disk; best effort (some
    /// file systems refuse fsync on a directory, and the data itself is already synced).
    private static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        Glibc.close(fd)
    }

    private static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
