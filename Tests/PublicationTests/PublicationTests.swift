// PublicationTests.swift -- what an operator or ingest commits reaches a running server.
//
// Each test starts publication for real (store → zones → snapshots → a DNS server bound to
// 127.0.0.1 with a kernel-chosen port) and runs its service, then changes the store through
// a second connection, as `rbld list` or ingest would, and asks the server over UDP.

import DNSBL
import DNSTestSupport
import Foundation
import Logging
import Store
import Synchronization
import Testing
import TestSupport
@testable import Publication

/// A running publication over a fresh store, with a clock the test moves.
final class RunningPublication: @unchecked Sendable {
    static let zone = "bl.example.org"

    let directory = TemporaryDirectory()
    let clock = TestClock()
    let observer = RecordingObserver()
    let log = RecordedLog()
    /// The second connection: what an admin command or ingest writes through.
    var admin: Store { adminConnection! }
    private var adminConnection: Store?
    let publication: Publication
    let port: UInt16
    private let task: Task<Void, any Error>

    /// - Parameters:
    ///   - before: what the store holds when publication starts (written through `admin`).
    ///   - cacheInterval: how often changed zones' snapshot caches are written.
    ///   - source: wraps the publication's own store connection (a test's failing store);
    ///     without it publication opens the store itself and follows the file at the path.
    ///   - configure: changes the publication's configuration (transfers, NOTIFY).
    init(before: ((Store) throws -> Void)? = nil, cacheInterval: Duration = .seconds(600),
         source: ((Store) -> any ListingSource)? = nil,
         configure: (inout PublicationConfiguration) throws -> Void = { _ in }) async throws {
        let path = directory.file("rbld.sqlite")
        let admin = try Store(path: path, clock: clock.function)
        adminConnection = admin
        try before?(admin)
        let time = clock.function
        let wrapped = try source.map { try $0(Store(path: path, clock: time)) }
        var configuration = PublicationConfiguration(db: path, zones: [Self.zone],
                                                     listen: [try ListenAddress(parsing: "127.0.0.1:0")])
        configuration.udp.socketsPerAddress = 1
        configuration.pollInterval = .milliseconds(20)
        configuration.cacheInterval = cacheInterval
        try configure(&configuration)
        let recorded = log
        let logger = Logger(label: "test.publication") { _ in recorded }
        publication = try await Publication.start(configuration, logger: logger, observer: observer,
                                                  source: wrapped, clock: clock.function)
        port = try #require(publication.server.boundAddresses.first).port
        let service = publication.service
        task = Task { try await service.run() }
    }

    /// Closes the second connection, as an admin command ends; ``admin`` is gone after.
    func closeAdmin() { adminConnection = nil }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await publication.server.stop()
    }

    /// The return code answered for `address` (X of 127.0.0.X), nil for NXDOMAIN.
    func answer(_ address: String) throws -> UInt8? {
        let name = address.split(separator: ".").reversed().joined(separator: ".") + "." + Self.zone
        let bytes = try #require(exchangeUDP(makeQuery(name), port: port), "no answer from the server")
        let reply = try #require(DecodedResponse(bytes))
        if reply.rcode == 3 { return nil }
        #expect(reply.rcode == 0, "rcode \(reply.rcode)")
        let a = try #require(reply.answers.first { $0.type == 1 }, "no A record")
        #expect(a.rdata.prefix(3) == [127, 0, 0])
        return a.rdata.last
    }

    /// Waits (up to 5 s) until the server answers `expected` for `address`.
    func answers(_ address: String, _ expected: UInt8?) async -> Bool {
        for _ in 0..<250 {
            if (try? answer(address)) == expected { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}

/// Observes publication as the metrics would.
final class RecordingObserver: PublicationObserver {
    private let state = Mutex((published: 0, reads: 0, failures: [String](), exportsWritten: [String](), exportsFailed: [String]()))
    var published: Int { state.withLock { $0.published } }
    var reads: Int { state.withLock { $0.reads } }
    var failures: [String] { state.withLock { $0.failures } }
    /// The paths of exports written, and of exports that failed, in order.
    var exportsWritten: [String] { state.withLock { $0.exportsWritten } }
    var exportsFailed: [String] { state.withLock { $0.exportsFailed } }

    func published(lag: Duration) { state.withLock { $0.published += 1 } }
    func storeRead(at time: Int64) { state.withLock { $0.reads += 1 } }
    func storeReadFailed(_ error: any Error) { state.withLock { $0.failures.append("\(error)") } }
    func exportWritten(zone: String, path: String, at time: Int64) { state.withLock { $0.exportsWritten.append(path) } }
    func exportFailed(zone: String, path: String, _ error: any Error) { state.withLock { $0.exportsFailed.append(path) } }
}

/// Keeps every log line, for tests that check what was logged.
final class RecordedLog: LogHandler, @unchecked Sendable {
    private let lines = Mutex<[String]>([])
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var all: [String] { lines.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}

/// A store that fails every read while `failing` is set, as a store does when its disk
/// goes away or its file is damaged; it counts the reads of whole zones (full builds).
final class FailingSource: ListingSource {
    let store: Store
    let failing = Atomic<Bool>(false)
    let zoneBuilds = Atomic<Int>(0)

    init(_ store: Store) { self.store = store }

    private func check() throws(StoreError) {
        if failing.load(ordering: .relaxed) { throw StoreError(.io, "\(store.path): disk I/O error (test)") }
    }

    var path: String { store.path }
    var readOnly: Bool { store.readOnly }
    func changeSerial() throws(StoreError) -> Int64 { try check(); return try store.changeSerial() }
    func zoneSettings(_ zone: String) throws(StoreError) -> ZoneSettings? { try check(); return try store.zoneSettings(zone) }
    func forEachActiveListing(zone: String, now: Int64, reserve: (Int) -> Void,
                              _ body: (Listing) throws(StoreError) -> Void) throws(StoreError) -> (serial: Int64, settings: ZoneSettings) {
        try check()
        zoneBuilds.add(1, ordering: .relaxed)
        return try store.forEachActiveListing(zone: zone, now: now, reserve: reserve, body)
    }
    func changes(zone: String, after serial: Int64, limit: Int) throws(StoreError) -> ChangeBatch? {
        try check(); return try store.changes(zone: zone, after: serial, limit: limit)
    }
    func listings(for prefixes: [IPPrefix], zone: String, now: Int64) throws(StoreError) -> [Listing?] {
        try check(); return try store.listings(for: prefixes, zone: zone, now: now)
    }
    func logExpiries(_ prefixes: [IPPrefix], zone: String) throws(StoreError) {
        try check(); try store.logExpiries(prefixes, zone: zone)
    }
    func readSnapshotCache<T>(
        zone: String,
        _ body: (_ serial: Int64, _ size: Int, _ read: @escaping (Int, UnsafeMutableRawBufferPointer) throws -> Void) -> T
    ) throws(StoreError) -> T? {
        try check(); return try store.readSnapshotCache(zone: zone, body)
    }
    func saveSnapshotCache(
        zone: String, serial: Int64, size: Int,
        _ write: (_ sink: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) -> Void
    ) throws(StoreError) {
        try check(); try store.saveSnapshotCache(zone: zone, serial: serial, size: size, write)
    }
    func shrinkMemory() throws(StoreError) { try store.shrinkMemory() }
}

private func prefix(_ text: String) -> IPPrefix { IPPrefix(text)! }

private func hit(_ address: String, at time: Int64, kind: HitKind = .dsn, strength: EvidenceStrength = .strong,
                 trap: UInt8 = 1) -> Hit {
    Hit(source: prefix(address), kind: kind, strength: strength, time: time, trap: "…@trap.example.net", trapKey: [trap],
        digest: Array("\(address)-\(time)-\(trap)".utf8))
}

@Suite(.serialized) struct PublicationTests {
    let zone = RunningPublication.zone

    @Test func aManualListingAndItsDelistingReachTheServer() async throws {
        let running = try await RunningPublication()
        #expect(try running.answer("81.2.69.1") == nil)
        _ = try running.admin.list(prefix("81.2.69.1"), zone: zone, actor: "alice", reason: "test")
        #expect(await running.answers("81.2.69.1", 34), "2 + 32 manual")
        _ = try running.admin.delist(prefix("81.2.69.1"), zone: zone, actor: "alice", reason: "fixed")
        #expect(await running.answers("81.2.69.1", nil))
        #expect(running.observer.published >= 2)
        await running.stop()
    }

    @Test func anExclusionAndItsRemovalReachTheServer() async throws {
        let running = try await RunningPublication()
        _ = try running.admin.list(prefix("81.2.69.0/24"), zone: zone, actor: "alice", reason: "spam run")
        #expect(await running.answers("81.2.69.7", 34))
        _ = try running.admin.exclude(prefix("81.2.69.7"), zone: zone, actor: "bob", reason: "our relay")
        #expect(await running.answers("81.2.69.7", nil))
        #expect(try running.answer("81.2.69.8") == 34, "the rest of the network stays listed")
        _ = try running.admin.unexclude(prefix("81.2.69.7"), zone: zone, actor: "bob", reason: "not ours")
        #expect(await running.answers("81.2.69.7", 34))
        await running.stop()
    }

    @Test func aHitReachesTheServer() async throws {
        let running = try await RunningPublication()
        _ = try running.admin.recordHit(hit("81.2.69.20", at: running.clock.now, kind: .autoreply), zone: zone)
        #expect(await running.answers("81.2.69.20", 6), "2 + 4 autoreply")
        await running.stop()
    }

    /// A source held back for lack of corroboration is not answered; an operator's confirm
    /// lists it, and a reject of its weak evidence takes it out again, each within the poll.
    @Test func aConfirmAndARejectReachTheServer() async throws {
        let running = try await RunningPublication()
        _ = try running.admin.recordHit(hit("81.2.69.60", at: running.clock.now, strength: .weak), zone: zone)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try running.answer("81.2.69.60") == nil, "held back")
        _ = try running.admin.confirm(prefix("81.2.69.60"), zone: zone, actor: "alice", reason: "seen the logs")
        #expect(await running.answers("81.2.69.60", 2))
        _ = try running.admin.reject(prefix("81.2.69.60"), zone: zone, actor: "bob", reason: "it was a newsletter")
        #expect(await running.answers("81.2.69.60", nil))
        await running.stop()
    }

    /// When a manual listing's time runs out, the scored listing under it takes over: not a
    /// change in the store, but the publisher re-resolves the prefix at that time.
    @Test func anExpiryReachesTheServer() async throws {
        let running = try await RunningPublication()
        _ = try running.admin.recordHit(hit("81.2.69.30", at: running.clock.now), zone: zone)
        _ = try running.admin.list(prefix("81.2.69.30"), zone: zone, kinds: [.virus], expires: running.clock.now + 600,
                                   actor: "alice", reason: "an hour's worth")
        #expect(await running.answers("81.2.69.30", 50), "2 + 16 virus + 32 manual")
        running.clock.advance(600)
        #expect(await running.answers("81.2.69.30", 2), "the scored listing answers once the manual one ran out")
        running.clock.advance(28 * 86400)
        #expect(await running.answers("81.2.69.30", nil), "and nothing once that expired too")
        await running.stop()
    }

    /// An expiry alone (no other change in the store) moves the served SOA serial and is
    /// announced with NOTIFY, so secondaries transfer it; the store's change log holds it.
    @Test func anExpiryMovesTheSerialAndIsNotified() async throws {
        let secondary = try #require(FakeSecondary())
        let running = try await RunningPublication(configure: { configuration in
            let rule = ZoneTransferRule(allow: [ClientNetwork(isIPv6: false, address: 0x7F00_0000, prefixLength: 8)!],
                                        notify: [try ListenAddress(parsing: "127.0.0.1:\(secondary.port)")])
            configuration.transfers = try TransferPolicy(zones: [RunningPublication.zone: rule], keys: [])
        })
        /// The SOA serial of the next NOTIFY that arrives within 5 s.
        func notifiedSerial() throws -> UInt32? {
            guard let message = secondary.receive(within: 5, answer: true) else {
                Issue.record("no NOTIFY within 5 s")
                return nil
            }
            let answer = try #require(try LDNSMessage.parse(message).get().answer.first).split(whereSeparator: \.isWhitespace)
            return answer.firstIndex(of: "SOA").flatMap { $0 + 3 < answer.count ? UInt32(answer[$0 + 3]) : nil }
        }
        func served() -> UInt32? { running.publication.snapshots.load().zone(named: zone)?.config.soa.serial }

        #expect(try notifiedSerial() == served(), "announced at start")
        _ = try running.admin.list(prefix("81.2.69.40"), zone: zone, expires: running.clock.now + 600, actor: "alice", reason: "ten minutes")
        #expect(await running.answers("81.2.69.40", 34))
        let listed = try #require(served())
        #expect(try notifiedSerial() == listed)
        let storeSerial = try running.admin.changeSerial()

        running.clock.advance(600)
        #expect(await running.answers("81.2.69.40", nil))
        for _ in 0..<250 where served() == listed { try await Task.sleep(for: .milliseconds(20)) }
        let expired = try #require(served())
        #expect(SerialNumber.isGreater(expired, than: listed), "the expiry moved the serial")
        #expect(try running.admin.changeSerial() > storeSerial, "the expiry is in the change log")
        #expect(try notifiedSerial() == expired, "and was announced")
        await running.stop()
    }

    /// A store that cannot be read: the server keeps answering from the last good snapshot,
    /// the failure is logged and counted, and publishing resumes when the store is back.
    @Test func aStoreReadErrorKeepsTheLastGoodSnapshotAndIsReported() async throws {
        var failing: FailingSource?
        let running = try await RunningPublication(source: { store in
            let source = FailingSource(store)
            failing = source
            return source
        })
        let source = try #require(failing)
        _ = try running.admin.list(prefix("81.2.69.40"), zone: zone, actor: "alice", reason: "before")
        #expect(await running.answers("81.2.69.40", 34))

        source.failing.store(true, ordering: .relaxed)
        _ = try running.admin.list(prefix("81.2.69.41"), zone: zone, actor: "alice", reason: "during")
        _ = try running.admin.delist(prefix("81.2.69.40"), zone: zone, actor: "alice", reason: "during")
        try await Task.sleep(for: .milliseconds(300))  // many ticks, each failing
        #expect(try running.answer("81.2.69.40") == 34, "the last good snapshot is still served")
        #expect(try running.answer("81.2.69.41") == nil)
        #expect(running.observer.failures.count >= 5, "every failed look is counted: \(running.observer.failures.count)")
        #expect(running.observer.failures.allSatisfy { $0.contains("disk I/O error") })
        let warnings = running.log.all.filter { $0.hasPrefix("warning store not readable") }
        #expect(warnings.count == 1, "logged once per outage, not per tick: \(running.log.all)")
        #expect(warnings.first?.contains("failed_reads=1") == true)

        source.failing.store(false, ordering: .relaxed)
        #expect(await running.answers("81.2.69.41", 34), "the changes made meanwhile are served once the store reads")
        #expect(await running.answers("81.2.69.40", nil))
        #expect(running.log.all.contains { $0.hasPrefix("notice store readable again") })
        await running.stop()
    }

    /// A store file deleted under the server, and then another restored at its path by
    /// copy and rename: meanwhile the last good snapshot is served and every failed look is
    /// counted; then the new file is opened (after the old one's log is removed) and every
    /// zone is loaded from it.
    @Test func aStoreFileReplacedAtThePathIsFollowed() async throws {
        let running = try await RunningPublication(before: { store in
            _ = try store.list(prefix("81.2.69.40"), zone: zone, actor: "alice", reason: "old file")
        })
        #expect(await running.answers("81.2.69.40", 34))
        let path = running.directory.file("rbld.sqlite"), backup = running.directory.file("backup.sqlite")
        do {
            let other = try Store(path: backup, clock: running.clock.function)
            _ = try other.list(prefix("81.2.69.50"), zone: zone, actor: "bob", reason: "backup")
        }
        running.closeAdmin()

        try FileManager.default.removeItem(atPath: path)
        try await Task.sleep(for: .milliseconds(300))  // many ticks, each failing
        #expect(try running.answer("81.2.69.40") == 34, "the last good snapshot is served while no file is there")
        #expect(running.observer.failures.contains { $0.contains("no store file at the path") }, "\(running.observer.failures)")
        #expect(running.log.all.contains { $0.hasPrefix("warning the store file at the path is not the one being read") })
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the deleted file's log is removed")

        #expect(rename(backup, path) == 0)
        #expect(await running.answers("81.2.69.50", 34), "the restored file is served")
        #expect(await running.answers("81.2.69.40", nil))
        #expect(running.log.all.contains { $0.hasPrefix("notice store file at the path opened again") })
        let reread = try Store(path: path)
        #expect(try reread.zoneSettings(zone) != nil, "the zone definitions are written to the new file")
        await running.stop()
    }

    /// A restart after a crash: the snapshot cache is older than the store (changes came
    /// after it was written). Publication loads it and follows the change log from its
    /// serial, without building the zone from the store, and answers as the store says.
    @Test func aRestartLoadsAnOlderCacheAndFollowsTheLogFromIt() async throws {
        var counting: FailingSource?
        let running = try await RunningPublication(before: { store in
            _ = try store.list(prefix("81.2.69.50"), zone: RunningPublication.zone, actor: "alice", reason: "old")
            _ = try store.list(prefix("81.2.69.51"), zone: RunningPublication.zone, actor: "alice", reason: "old")
            _ = try Publication.cacheSnapshot(of: RunningPublication.zone, in: store, logger: Logger(label: "test"))
            // After the cache: what a crashed server had not cached yet.
            _ = try store.delist(prefix("81.2.69.50"), zone: RunningPublication.zone, actor: "alice", reason: "new")
            _ = try store.list(prefix("81.2.69.52"), zone: RunningPublication.zone, kinds: [.virus], actor: "alice", reason: "new")
        }, source: { store in
            let source = FailingSource(store)
            counting = source
            return source
        })
        let source = try #require(counting)
        #expect(try running.answer("81.2.69.50") == nil, "delisted after the cache")
        #expect(try running.answer("81.2.69.51") == 34)
        #expect(try running.answer("81.2.69.52") == 50, "listed after the cache")
        #expect(source.zoneBuilds.load(ordering: .relaxed) == 0, "no full build: \(running.log.all)")
        #expect(running.log.all.contains { $0.hasPrefix("info zone loaded from snapshot cache") && $0.contains("cache_serial=") })
        await running.stop()
    }

    /// A damaged cache (a flipped byte in the store's blob) is refused, said so, and the
    /// zone is built from the store instead.
    @Test func aDamagedCacheIsRebuilt() async throws {
        var counting: FailingSource?
        let running = try await RunningPublication(before: { store in
            _ = try store.list(prefix("81.2.69.60"), zone: RunningPublication.zone, actor: "alice", reason: "listed")
            _ = try Publication.cacheSnapshot(of: RunningPublication.zone, in: store, logger: Logger(label: "test"))
            let cached = try #require(try store.snapshotCache(zone: RunningPublication.zone))
            var bytes = cached.bytes
            bytes[bytes.count - 3] ^= 0x40
            try store.saveSnapshotCache(zone: RunningPublication.zone, serial: cached.serial, bytes: bytes)
        }, source: { store in
            let source = FailingSource(store)
            counting = source
            return source
        })
        let source = try #require(counting)
        #expect(try running.answer("81.2.69.60") == 34)
        #expect(source.zoneBuilds.load(ordering: .relaxed) == 1)
        #expect(running.log.all.contains { $0.hasPrefix("warning snapshot cache refused") }, "\(running.log.all)")
        await running.stop()
    }

    /// While serving, a changed zone's cache is written again (here at every tick), so the
    /// cache in the store follows the served serial.
    @Test func theCacheFollowsTheServedZone() async throws {
        let running = try await RunningPublication(cacheInterval: .zero)
        _ = try running.admin.list(prefix("81.2.69.70"), zone: zone, actor: "alice", reason: "listed")
        #expect(await running.answers("81.2.69.70", 34))
        let serial = try running.admin.changeSerial()
        var cachedSerial: Int64?
        for _ in 0..<250 where cachedSerial != serial {
            cachedSerial = try running.admin.snapshotCache(zone: zone)?.serial
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(cachedSerial == serial)
        await running.stop()
    }

    /// An import of tens of thousands of entries reaches a running server as a merge into
    /// its table, not a rebuild of the zone (which would hold every entry twice).
    @Test func aLargeImportIsMergedNotRebuilt() async throws {
        var counting: FailingSource?
        let running = try await RunningPublication(before: { store in
            try store.saveZoneSettings(.defaults(zone: RunningPublication.zone))  // creating a zone is a reset
        }, source: { store in
            let source = FailingSource(store)
            counting = source
            return source
        })
        let source = try #require(counting)
        let builds = source.zoneBuilds.load(ordering: .relaxed)
        let entries = (0..<20_000).map { ImportEntry(prefix: .host(v4: 0x5102_0000 + UInt32($0))) }  // 81.2.0.0 ...
        _ = try running.admin.importEntries(entries, zone: zone, replace: false, actor: "t", reason: "bulk")
        #expect(await running.answers("81.2.78.31", 2), "the last of them")
        #expect(try running.answer("81.2.0.0") == 2)
        #expect(source.zoneBuilds.load(ordering: .relaxed) == builds, "merged, not rebuilt")
        await running.stop()
    }
}
