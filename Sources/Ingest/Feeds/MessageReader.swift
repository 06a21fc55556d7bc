// MessageReader.swift -- reading one message file or stream, capped at the parser's limit.

import Glibc

/// Reads message files and standard input with the size cap of `MessageLimits`.
public enum MessageReader {
    /// Bytes read at most: one past the parser's cap, so the parser notes the truncation.
    public static let maxByteCount = MessageLimits.maxMessageByteCount + 1

    /// A file's bytes and modification time (the Maildir delivery time).
    ///
    /// - Throws: `.unreadable` naming the path (missing, a directory, permissions, I/O).
    public static func read(file path: String) throws(IngestError) -> (bytes: [UInt8], modified: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw IngestError(.unreadable, "\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw IngestError(.unreadable, "\(path): cannot stat: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw IngestError(.unreadable, "\(path): not a regular file") }
        let expected = min(Int(info.st_size), maxByteCount)
        let bytes = try read(fd: fd, expected: expected, name: path)
        return (bytes, Int64(info.st_mtim.tv_sec))
    }

    /// Reads a descriptor to its end (or the cap).
    public static func read(fd: Int32, expected: Int = 64 << 10, name: String) throws(IngestError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(expected, 1))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < maxByteCount {
            let want = min(chunk.count, maxByteCount - bytes.count)
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if got < 0 {
                if errno == EINTR { continue }
                throw IngestError(.unreadable, "\(name): read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return bytes
    }
}
