// Checkpointer.swift -- copies the write-ahead log back into the database file on a thread
// of its own, so that a writer's commit does not wait for it.

import Foundation
internal import CSQLite

/// Runs WAL checkpoints for one writable connection in the background.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the
/// writer stops and copies every page of the log back into the database file. Here the
/// writer's WAL hook only tells this object how long the log is; above `threshold` frames
/// a thread with its own connection runs a PASSIVE checkpoint (it takes no lock a writer
/// or reader waits for) while the writer goes on. Only when the log outgrows `limit`
/// frames, because the thread cannot keep up, does the writer checkpoint itself, as SQLite
/// would. The log restarts from its beginning at the first write after a checkpoint that
/// caught up, and `journal_size_limit` then truncates it.
///
/// The thread starts at the first checkpoint needed, so a short-lived writer (an admin
/// command) never starts one; `stop()` ends it (the owner's deinit).
final class Checkpointer: @unchecked Sendable {  // state guarded by `condition`
    let path: String
    /// Log length (frames) at which the background thread checkpoints.
    let threshold: Int32
    /// Log length (frames) at which the writer checkpoints itself.
    let limit: Int32
    private let condition = NSCondition()
    private var requested = false
    private var stopping = false
    private var running = false
    /// Set when the thread could not open its connection: writers then checkpoint at `limit`.
    private var disabled = false
    private var runs = (background: 0, writer: 0)
    private var error: String?

    /// Checkpoints run by the thread and by writers, and the last error (diagnostics, tests).
    var backgroundRuns: Int { condition.withLock { runs.background } }
    var writerRuns: Int { condition.withLock { runs.writer } }
    var lastError: String? { condition.withLock { error } }

    init(path: String, threshold: Int32, limit: Int32) {
        self.path = path
        self.threshold = threshold
        self.limit = limit
    }

    /// Installs this checkpointer as `connection`'s WAL hook (replacing the automatic
    /// checkpoint). The connection must not outlive the checkpointer.
    func attach(to connection: OpaquePointer) {
        sqlite3_wal_hook(connection, { context, connection, schema, frames in
            let checkpointer = Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue()
            checkpointer.committed(frames: frames, connection: connection, schema: schema)
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Removes the hook (before the connection or this object goes away).
    static func detach(from connection: OpaquePointer) {
        sqlite3_wal_hook(connection, nil, nil)
    }

    /// Called after every commit with the number of frames now in the log.
    private func committed(frames: Int32, connection: OpaquePointer?, schema: UnsafePointer<CChar>?) {
        if frames >= limit {
            // A hook may checkpoint on its own connection (SQLite's default hook does).
            let rc = sqlite3_wal_checkpoint_v2(connection, schema, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            condition.withLock {
                runs.writer += 1
                if !Self.succeeded(rc) { error = "writer checkpoint: result code \(rc)" }
            }
        } else if frames >= threshold {
            request()
        }
    }

    private func request() {
        condition.withLock {
            requested = true
            if !running, !stopping, !disabled {
                running = true
                let thread = Thread { [self] in run() }
                thread.name = "rbld-checkpoint"
                thread.start()
            }
            condition.broadcast()
        }
    }

    /// SQLITE_BUSY from a PASSIVE checkpoint means another checkpoint (the thread's or a
    /// writer's) is running: the log is being copied, nothing failed.
    private static func succeeded(_ rc: Int32) -> Bool { rc == SQLITE_OK || rc == SQLITE_BUSY }

    /// Ends the thread after the checkpoint it is running, if any; returns when it is gone.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
            while running { condition.wait() }
        }
    }

    private func run() {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        // A connection opens the WAL with its first read; before that a checkpoint does nothing.
        if sqlite3_open_v2(path, &connection, flags, nil) != SQLITE_OK
            || sqlite3_exec(connection, "SELECT count(*) FROM sqlite_schema", nil, nil, nil) != SQLITE_OK {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(connection)
            connection = nil
            condition.withLock {
                disabled = true
                error = "cannot open a checkpoint connection: \(message)"
            }
        }
        while true {
            let proceed = condition.withLock { () -> Bool in
                while !requested && !stopping { condition.wait() }
                requested = false
                return !stopping
            }
            guard proceed, let connection else { break }
            let rc = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            condition.withLock {
                runs.background += 1
                if !Self.succeeded(rc) { error = "background checkpoint: \(String(cString: sqlite3_errmsg(connection)))" }
            }
        }
        sqlite3_close_v2(connection)
        condition.withLock {
            running = false
            condition.broadcast()
        }
    }
}
