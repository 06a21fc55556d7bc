// ExportService.swift -- keeps export files of the served zones current, for mirrors fed by rsync.

public import DNSBL
public import Logging
public import ServiceLifecycle
public import Store
import Synchronization

/// One export file kept current by ``ExportService`` (the configuration's `exports:`).
public struct ExportConfiguration: Sendable, Equatable {
    /// The served zone written.
    public var zone: String
    public var format: ExportFormat
    /// The address family of an rbldnsd file (one per file, as rbldnsd datasets are);
    /// nil for a master file, which holds both.
    public var family: IPPrefix.Family?
    /// The file replaced at each write.
    public var path: String
    /// How often the zone is looked at; the file is written only when it changed.
    public var interval: Duration

    public static let defaultInterval: Duration = .seconds(60)

    public init(zone: String, format: ExportFormat, family: IPPrefix.Family? = nil, path: String,
                interval: Duration = ExportConfiguration.defaultInterval) {
        self.zone = zone
        self.format = format
        self.family = format == .rbldnsd ? family ?? .v4 : nil
        self.path = path
        self.interval = interval
    }
}

/// Writes each configured export when its zone has changed since the last write, for
/// mirrors that copy the files (rsync) and load them (rbldnsd, NSD, Knot, BIND).
///
/// Every `interval` the export's zone is looked at in the served snapshots: when the
/// snapshot is another one than the one last written (a publication happened: a change, an
/// expiry, a reload), the file is written whole beside the path and renamed over it
/// (``ExportFile``). The first look after start writes every export. The contents come
/// from ``ZoneExport``, in address order, so an unchanged zone gives the same bytes.
///
/// - Important: A failure (a directory that is missing or not writable, a full disk) is
///   logged naming the file and reported to the observer (a metric); the file keeps its
///   last good contents and the next look tries again. The server is never affected.
public final class ExportService: Service, Sendable {
    private let exports: [ExportConfiguration]
    private let snapshots: SnapshotStore
    private let logger: Logger
    private let observer: (any PublicationObserver)?
    private let clock: @Sendable () -> Int64
    private let slots: Mutex<[Slot]>

    /// What is known of one export between looks.
    private struct Slot {
        /// The snapshot last written; weak, so that a replaced table is freed as soon as
        /// the server is done with it. Nil: never written, or replaced since.
        weak var written: ZoneSnapshot?
        /// When the export is looked at next.
        var due: ContinuousClock.Instant
        /// Whether the last attempt failed, so a failure that lasts is logged once.
        var failing = false
    }

    public init(exports: [ExportConfiguration], snapshots: SnapshotStore, logger: Logger,
                observer: (any PublicationObserver)?, clock: @escaping @Sendable () -> Int64 = Publication.systemClock) {
        self.exports = exports
        self.snapshots = snapshots
        self.logger = logger
        self.observer = observer
        self.clock = clock
        let now = ContinuousClock.now
        slots = Mutex(exports.map { _ in Slot(due: now) })
    }

    /// Writes what is due and changed, then again at each export's interval, until shutdown.
    public func run() async throws {
        guard !exports.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully {
            writeChanged()
            let next = slots.withLock { $0.map(\.due).min() } ?? ContinuousClock.now
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(until: next, clock: .continuous) }
            } catch {
                return  // cancelled, or shutting down
            }
        }
    }

    /// Looks at every export that is due: writes those whose zone changed since their last
    /// write, and schedules the next look.
    ///
    /// - Parameter force: look at every export, due or not (tests).
    /// - Returns: the paths written.
    @discardableResult
    public func writeChanged(force: Bool = false) -> [String] {
        let served = snapshots.load()
        var written: [String] = []
        for (index, export) in exports.enumerated() {
            let start = ContinuousClock.now
            let (due, last) = slots.withLock { ($0[index].due <= start || force, $0[index].written) }
            guard due else { continue }
            defer { slots.withLock { $0[index].due = start + export.interval } }
            guard let snapshot = served.zone(named: export.zone) else {
                fail(index, export, PublicationError(.badData, "zone \(export.zone) is not served"))
                continue
            }
            if snapshot === last { continue }
            do throws(PublicationError) {
                let now = clock()
                var file = try ExportFile(path: export.path)
                let count = ZoneExport.write(snapshot, format: export.format, family: export.family, now: now, to: &file)
                try file.commit()
                let recovered = slots.withLock { slot in
                    defer { slot[index].written = snapshot; slot[index].failing = false }
                    return slot[index].failing
                }
                written.append(export.path)
                observer?.exportWritten(zone: export.zone, path: export.path, at: now)
                logger.log(level: recovered ? .notice : .info, "export written", metadata: [
                    "zone": "\(export.zone)", "file": "\(export.path)", "format": "\(export.format.rawValue)",
                    "serial": "\(snapshot.config.soa.serial)", "entries": "\(count)",
                    "duration": "\(ContinuousClock.now - start)"])
            } catch {
                fail(index, export, error)
            }
        }
        return written
    }

    private func fail(_ index: Int, _ export: ExportConfiguration, _ error: PublicationError) {
        observer?.exportFailed(zone: export.zone, path: export.path, error)
        let first = slots.withLock { slot in
            defer { slot[index].failing = true }
            return !slot[index].failing
        }
        // A failure that lasts is logged once; the metric counts every attempt.
        if first {
            logger.warning("export not written; the file keeps its last contents, retried every interval", metadata: [
                "zone": "\(export.zone)", "file": "\(export.path)", "error": "\(error)"])
        }
    }
}
