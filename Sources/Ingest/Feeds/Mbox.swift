// Mbox.swift -- splitting an mbox file into messages (RFC 4155), undoing `>From ` quoting.

import Foundation
import Glibc

/// One message of an mbox file.
public struct MboxEntry: Sendable {
    /// 1-based position in the file.
    public var index: Int
    /// The `From ` separator line (without its line ending).
    public var separator: String
    /// The message, `>From ` unquoted, at most `MessageReader.maxByteCount` bytes.
    public var bytes: [UInt8]
    /// The time on the separator line (asctime format, taken as UTC), if it parses.
    public var time: Int64?
}

/// Reads mbox files: messages separated by `From ` lines (RFC 4155).
///
/// A separator is a line starting with `From ` at the start of the file or after an empty
/// line (mboxrd/mboxcl writers always leave one), which is how real mbox readers avoid
/// splitting on an unquoted `From ` in a body. The empty line before a separator belongs
/// to the separator, not to the message. Quoted lines are unquoted the mboxrd way: one
/// `>` is removed from every line matching `^>+From ` (this also undoes mboxo quoting).
public enum Mbox {
    /// Whether the bytes look like an mbox file (they start with a `From ` line).
    public static func looksLikeMbox(_ prefix: some Collection<UInt8>) -> Bool {
        prefix.starts(with: fromPrefix)
    }

    private static let fromPrefix: [UInt8] = Array("From ".utf8)

    /// Calls `body` for each message in the file, in order. The file is memory-mapped, and
    /// the pages behind the messages already handed out are dropped from the process as it
    /// goes, so its memory stays bounded however large the file is (a 1.2 GB mbox otherwise
    /// ends up whole in the process's RSS).
    ///
    /// - Throws: `.unreadable` when the file cannot be opened or mapped; errors of `body`.
    public static func forEachMessage(inFile path: String, _ body: (MboxEntry) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IngestError(.unreadable, "\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw IngestError(.unreadable, "\(path): not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else { return }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw IngestError(.unreadable, "\(path): cannot map: \(String(cString: strerror(errno)))")
        }
        defer { munmap(base, size) }
        madvise(base, size, MADV_SEQUENTIAL)
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        var dropped = 0
        try forEachMessage(in: UnsafeRawBufferPointer(start: base, count: size), passed: { offset in
            // Nothing before `offset` is read again (entries hold copies); a private,
            // read-only mapping refills a dropped page from the file if it ever were.
            let end = offset / page * page
            guard end - dropped >= 32 << 20 else { return }
            madvise(base + dropped, end - dropped, MADV_DONTNEED)
            dropped = end
        }, body)
    }

    /// Calls `body` for each message in `buffer`, in order.
    public static func forEachMessage(in buffer: UnsafeRawBufferPointer, _ body: (MboxEntry) throws -> Void) throws {
        try forEachMessage(in: buffer, passed: { _ in }, body)
    }

    /// Calls `body` for each message, then `passed` with the offset before which nothing is read again.
    private static func forEachMessage(in buffer: UnsafeRawBufferPointer, passed: (Int) -> Void,
                                       _ body: (MboxEntry) throws -> Void) throws {
        let count = buffer.count
        var index = 0
        var separator: (start: Int, end: Int)? = nil
        var messageStart = 0
        var lineStart = 0
        var previousEmpty = true
        while lineStart < count {
            let lineEnd = endOfLine(buffer, from: lineStart)
            let next = min(lineEnd + 1, count)
            if previousEmpty, hasFromPrefix(buffer, at: lineStart) {
                if let current = separator {
                    index += 1
                    try body(entry(buffer, index: index, separator: current, start: messageStart, end: lineStart))
                    passed(lineStart)
                }
                separator = (lineStart, lineEnd)
                messageStart = next
            }
            let contentEnd = lineEnd > lineStart && buffer[lineEnd - 1] == 0x0D ? lineEnd - 1 : lineEnd
            previousEmpty = contentEnd == lineStart
            lineStart = next
        }
        if let current = separator {
            index += 1
            try body(entry(buffer, index: index, separator: current, start: messageStart, end: count))
        }
    }

    private static func endOfLine(_ buffer: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard start < buffer.count else { return buffer.count }
        let found = memchr(buffer.baseAddress! + start, 0x0A, buffer.count - start)  // start < count: in bounds
        guard let found else { return buffer.count }
        return buffer.baseAddress!.distance(to: UnsafeRawPointer(found))
    }

    private static func hasFromPrefix(_ buffer: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + fromPrefix.count <= buffer.count else { return false }
        for (index, byte) in fromPrefix.enumerated() where buffer[offset + index] != byte { return false }
        return true
    }

    /// The message between a separator and the next: the empty line before the next
    /// separator dropped, `>From ` lines unquoted, capped at the reader's limit.
    private static func entry(_ buffer: UnsafeRawBufferPointer, index: Int, separator: (start: Int, end: Int),
                              start: Int, end: Int) -> MboxEntry {
        var end = end
        func endsWith(_ suffix: StaticString) -> Bool {
            let count = suffix.utf8CodeUnitCount
            guard end - start >= count else { return false }
            for offset in 0..<count where buffer[end - count + offset] != suffix.utf8Start[offset] { return false }
            return true
        }
        // Drop the separating empty line: "...\n\n" or "...\r\n\r\n" loses its last line ending.
        if endsWith("\r\n\r\n") || endsWith("\n\r\n") { end -= 2 } else if endsWith("\n\n") { end -= 1 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(end - start, MessageReader.maxByteCount))
        var lineStart = start
        while lineStart < end, bytes.count < MessageReader.maxByteCount {
            let lineEnd = min(endOfLine(buffer, from: lineStart), end)
            let next = min(lineEnd + 1, end)
            var from = lineStart
            if buffer[from] == UInt8(ascii: ">") {
                var probe = from
                while probe < lineEnd, buffer[probe] == UInt8(ascii: ">") { probe += 1 }
                if hasFromPrefix(buffer, at: probe) { from += 1 }
            }
            let take = min(next - from, MessageReader.maxByteCount - bytes.count)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[from..<(from + take)]))
            lineStart = next
        }
        let separatorText = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[separator.start..<separator.end]), as: UTF8.self)
        return MboxEntry(index: index, separator: separatorText.hasSuffix("\r") ? String(separatorText.dropLast()) : separatorText,
                         bytes: bytes, time: separatorTime(separatorText))
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The asctime date of `From sender Thu Nov 24 10:00:00 2023` (seconds, UTC), or nil.
    static func separatorTime(_ line: String) -> Int64? {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard words.count >= 6 else { return nil }
        for start in 2..<words.count {
            guard let month = months.firstIndex(of: words[start].lowercased()), start + 3 < words.count,
                  let day = Int(words[start + 1]) else { continue }
            let clock = words[start + 2].split(separator: ":")
            guard clock.count >= 2, let hour = Int(clock[0]), let minute = Int(clock[1]) else { continue }
            let second = clock.count > 2 ? Int(clock[2]) ?? 0 : 0
            guard let year = words[(start + 3)...].lazy.compactMap({ Int($0) }).first(where: { $0 >= 1970 && $0 < 10000 }) else { continue }
            var parts = tm()
            parts.tm_year = Int32(year - 1900)
            parts.tm_mon = Int32(month)
            parts.tm_mday = Int32(day)
            parts.tm_hour = Int32(hour)
            parts.tm_min = Int32(minute)
            parts.tm_sec = Int32(second)
            let seconds = timegm(&parts)
            return seconds >= 0 ? Int64(seconds) : nil
        }
        return nil
    }
}
