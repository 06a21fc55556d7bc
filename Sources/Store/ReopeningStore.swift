// ReopeningStore.swift -- a store connection that follows the file at its path.

import Glibc

/// A long-lived connection that notices when the file at its path is deleted or replaced
/// (a backup restored by copy and rename) and opens the file that is there now.
///
/// SQLite goes on reading and writing a deleted or renamed-over file through its open
/// descriptor without a word: a daemon would record hits in a file nobody will ever read
/// again. ``current()`` looks at the path first (one `stat`), and when it no longer names
/// the open file, closes the connection and throws until the new file can be opened
/// safely: after the old file's `-wal` and `-shm` are gone (see
/// ``Store/removeLeftoverLog(of:left:)``), which waits for every other connection to the
/// old file, in this process or another, to close. Meanwhile callers report the store as
/// unavailable, so mail is kept and retried, never written to the old file.
///
/// Not thread-safe, as a `Store` is not: one owner at a time.
public final class ReopeningStore {
    /// The store's path.
    public let path: String
    private let readOnly: Bool
    private let clock: @Sendable () -> Int64
    /// Run on each file opened at the path after the first, before it is handed out.
    private let prepare: ((Store) throws(StoreError) -> Void)?
    private var store: Store?
    /// Set while the old file's log has to go before the path is opened again: the
    /// closed connection's `-shm` (nil inside when it was not known).
    private var leftoverLog: StoreFileIdentity??
    /// How many times a file was opened at the path after the first; a caller that keeps
    /// values read from one file (the trap-key secret) compares it to forget them.
    public private(set) var reopenings = 0

    /// Follows the file `store` has open, opening its replacement the same way (read-only
    /// or writable, with the same clock) and passing it to `prepare` (which may write to
    /// it, as publication writes the configured zone definitions) before handing it out.
    public init(_ store: Store, prepare: ((Store) throws(StoreError) -> Void)? = nil) {
        path = store.path
        readOnly = store.readOnly
        clock = store.clock
        self.prepare = prepare
        self.store = store
    }

    /// Whether the open connection is to the file at the path now (one `stat`); false
    /// when none is open. An owner that keeps the ``current()`` store in other objects lets
    /// go of them when this turns false: the old file's log is removed only after every
    /// connection to it closed.
    public var isCurrent: Bool { store?.fileState() == .current }

    /// The connection to the file at the path now.
    ///
    /// - Throws: `StoreError` `.io` while nothing is at the path, `.busy` while another
    ///   connection still has the old file's log open, or whatever opening the new file
    ///   or `prepare` throws (`.corrupt`, `.notADatabase`, ...). Nothing was read or
    ///   written through this connection; try again later.
    public func current() throws(StoreError) -> Store {
        if let store {
            if isCurrent { return store }
            leftoverLog = .some(store.logIdentity)
            self.store = nil  // closes the connection to the old file
        }
        if let left = leftoverLog {
            guard Store.removeLeftoverLog(of: path, left: left) == .clear else {
                throw StoreError(.busy, "\(path): the store file was replaced; the old file's -wal and -shm files are still "
                    + "open in another connection (another rbld process, an sqlite3 shell), and the new file is not opened "
                    + "until they close")
            }
            leftoverLog = nil
        }
        // A writable open would create an empty store at the path.
        guard StoreFileIdentity.exists(path) else {
            throw StoreError(.io, "\(path): no store file at the path (deleted or moved away)")
        }
        let opened = try Store(path: path, readOnly: readOnly, clock: clock)
        try prepare?(opened)
        store = opened
        reopenings += 1
        return opened
    }
}
