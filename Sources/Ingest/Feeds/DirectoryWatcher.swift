// DirectoryWatcher.swift -- wait for new files in Maildir new/ folders (inotify, else a short poll).

import Glibc

/// Waits until something arrives in one of the watched directories, or a timeout passes.
///
/// Uses inotify (IN_MOVED_TO for Maildir deliveries, which rename from `tmp/`; IN_CLOSE_WRITE
/// for writers that create in place). Without inotify (or when a watch cannot be added)
/// ``wait(milliseconds:)`` simply sleeps, so the caller's loop degrades to a short poll.
/// Events only shorten the wait: the caller always rescans, so a missed event costs at most
/// one timeout.
public final class DirectoryWatcher {
    private var fd: Int32 = -1
    private var buffer = [UInt8](repeating: 0, count: 16 << 10)

    public init(directories: [String]) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return }
        let mask = UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE)
        for directory in directories where inotify_add_watch(fd, directory, mask) < 0 {
            close(fd)
            fd = -1
            return
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// True when inotify watches are active (false: plain polling).
    public var isNotifying: Bool { fd >= 0 }

    /// Sleeps up to `milliseconds`, returning early when a watched directory changes.
    ///
    /// - Returns: true when an event arrived.
    @discardableResult
    public func wait(milliseconds: Int32) -> Bool {
        guard fd >= 0 else {
            usleep(UInt32(max(0, milliseconds)) * 1000)
            return false
        }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return false }
        // Drain every queued event; their content does not matter (the caller rescans).
        for _ in 0..<64 {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got <= 0 { break }
        }
        return true
    }
}
