// StorePool.swift -- SQLite connections for the web side, one request at a time each.

import ServiceLifecycle
import Store
import Synchronization

/// A few connections to the store, each used by one request at a time.
///
/// SQLite connections must not be shared between threads at once; requests pick a
/// connection round-robin and hold its lock for one short call. Reads and writes use
/// separate connections, so a delisting that waits for the write lock (another process
/// committing) never holds up lookups. Each connection follows the file at the store's
/// path (``ReopeningStore``): after a backup is restored there, requests fail as the store
/// being unavailable until the new file is opened, never read or write the old one.
final class StorePool: Sendable {
    /// One connection and the lock that gives it to one request at a time, with when it
    /// last forgot its cached zone settings.
    private final class Connection: Sendable {
        struct State {
            var store: ReopeningStore
            var zonesRead: Int64?
        }

        let state: Mutex<State>
        init(_ store: sending Store) { state = Mutex(State(store: ReopeningStore(store), zonesRead: nil)) }
    }

    /// Seconds a read connection keeps a zone's settings and policy before reading them
    /// again: a SIGHUP that changes them reaches the pages within this.
    static let zoneSettingsLifetime: Int64 = 5

    private let readers: [Connection]
    private let writer: Connection
    private let next = Atomic<Int>(0)
    private let clock: @Sendable () -> Int64
    private let opened = ContinuousClock.now
    /// When the write connection last committed, in nanoseconds since `opened` (.min: never).
    private let lastWrite = Atomic<Int64>(.min)

    /// Opens `readerCount` read connections and one write connection to `path`.
    ///
    /// - Throws: `StoreError` when the store cannot be opened.
    init(path: String, readerCount: Int, clock: @escaping @Sendable () -> Int64 = Store.systemClock) throws(StoreError) {
        self.clock = clock
        var readers: [Connection] = []
        for _ in 0..<max(1, readerCount) {
            readers.append(Connection(try Store(path: path, readOnly: true, clock: clock)))
        }
        self.readers = readers
        writer = Connection(try Store(path: path, clock: clock))
    }

    /// Runs `body` with a read connection, whose zone settings are at most
    /// ``zoneSettingsLifetime`` seconds old.
    func read<T: Sendable>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        let now = clock()
        return try readers[index % readers.count].state.withLock { state throws(StoreError) -> T in
            let store = try state.store.current()
            let fresh = state.zonesRead.map { now >= $0 && now - $0 < Self.zoneSettingsLifetime } ?? false
            if !fresh {
                store.reloadZones()
                state.zonesRead = now
            }
            return try body(store)
        }
    }

    /// Runs `body` with the write connection.
    func write<T: Sendable>(_ body: (Store) throws(StoreError) -> T) throws(StoreError) -> T {
        defer { lastWrite.store(Self.nanoseconds(ContinuousClock.now - opened), ordering: .relaxed) }
        return try writer.state.withLock { state throws(StoreError) -> T in
            let store = try state.store.current()
            store.reloadZones()
            return try body(store)
        }
    }

    /// Has every connection look whether the store's file was replaced, and follow it (see
    /// ``ReopeningStore``). Called now and then: an idle connection left open on the old
    /// file would keep its log in use, and no connection of any process would open the new
    /// file until it closed.
    func followStoreFile() {
        for connection in readers + [writer] {
            connection.state.withLock { state in _ = try? state.store.current() }
        }
    }

    /// Whether the write connection was used within `interval` (so a published table may
    /// not show what it wrote yet).
    func wrote(within interval: Duration) -> Bool {
        let written = lastWrite.load(ordering: .relaxed)
        return written != .min && Self.nanoseconds(ContinuousClock.now - opened) - written < Self.nanoseconds(interval)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds &* 1_000_000_000 &+ duration.components.attoseconds / 1_000_000_000
    }
}

/// Has the pool's connections follow a replaced store file once a second, requests or not
/// (a service under the application).
struct StoreFollowService: Service {
    let pool: StorePool

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) } } catch { return }
            pool.followStoreFile()
        }
    }
}
