// StorePool.swift -- SQLite connections for the web side, one request at a time each.

import Store
import Synchronization

/// A few connections to the store, each used by one request at a time.
///
/// SQLite connections must not be shared between threads at once; requests pick a
/// connection round-robin and hold its lock for one short call. Reads and writes use
/// separate connections, so a delisting that waits for the write lock (another process
/// committing) never holds up lookups.
final class StorePool: Sendable {
    /// One connection and the lock that gives it to one request at a time.
    private final class Connection: Sendable {
        let store: Mutex<Store>
        init(_ store: sending Store) { self.store = Mutex(store) }
    }

    private let readers: [Connection]
    private let writer: Connection
    private let next = Atomic<Int>(0)

    /// Opens `readerCount` read connections and one write connection to `path`.
    ///
    /// - Throws: `StoreError` when the store cannot be opened.
    init(path: String, readerCount: Int, clock: @escaping @Sendable () -> Int64 = Store.systemClock) throws(StoreError) {
        var readers: [Connection] = []
        for _ in 0..<max(1, readerCount) {
            readers.append(Connection(try Store(path: path, readOnly: true, clock: clock)))
        }
        self.readers = readers
        writer = Connection(try Store(path: path, clock: clock))
    }

    /// Runs `body` with a read connection.
    func read<T: Sendable>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        return try readers[index % readers.count].store.withLock { store throws(StoreError) -> T in try body(store) }
    }

    /// Runs `body` with the write connection.
    func write<T: Sendable>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T {
        try writer.store.withLock { store throws(StoreError) -> T in try body(store) }
    }
}
