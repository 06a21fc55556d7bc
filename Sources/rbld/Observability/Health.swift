// Health.swift -- GET /healthz: can the store be read, is publication keeping up, when did the last hit arrive.

import Foundation
import Store
import Synchronization

/// What publication last said about its looks at the store, kept for `/healthz`.
final class PublicationHealth: Sendable {
    struct State: Sendable {
        /// When publication last read the store successfully (Unix seconds).
        var lastRead: Int64?
        /// The last failed read since then, and how many there were.
        var lastFailure: String?
        var failuresSinceRead = 0
        /// The last change's time from being seen in the store to being served.
        var lastLag: Duration?
    }

    private let state = Mutex(State())

    func read(at time: Int64) {
        state.withLock {
            $0.lastRead = time
            $0.lastFailure = nil
            $0.failuresSinceRead = 0
        }
    }

    func failed(_ error: any Error) {
        state.withLock {
            $0.lastFailure = "\(error)"
            $0.failuresSinceRead += 1
        }
    }

    func published(lag: Duration) { state.withLock { $0.lastLag = lag } }

    var current: State { state.withLock { $0 } }
}

/// The `/healthz` answer: `status` is `ok` (HTTP 200) or `failing` (503), with the reasons.
struct HealthReport: Encodable, Equatable {
    var status: String
    var problems: [String] = []
    var storeReadable = false
    var storeSerial: Int64?
    /// When publication last read the store, and how long ago (RFC 3339, seconds).
    var lastStoreRead: String?
    var secondsSinceStoreRead: Int64?
    var publicationFailuresSinceRead = 0
    var lastPublicationLagSeconds: Double?
    /// When ingest stored the newest hit, and how long ago.
    var lastHit: String?
    var secondsSinceLastHit: Int64?

    var isHealthy: Bool { status == "ok" }
}

/// What `/healthz` sends: 200 when healthy, else 503, with the report as JSON.
struct HealthAnswer: Sendable {
    var healthy: Bool
    var body: String
}

/// Works out the `/healthz` answer of a running `serve` or `run`.
///
/// Failing: the store cannot be read now, or publication has not read it for `staleAfter`
/// seconds (it looks every poll interval, so it is stuck or every look fails). The zones
/// then still answer from their last good snapshots; the check says they may be stale.
/// How long ago the last hit arrived is reported, never judged: a quiet trap is not a fault.
struct HealthCheck: Sendable {
    let db: String
    let staleAfter: Int64
    let publication: PublicationHealth
    let clock: @Sendable () -> Int64

    init(db: String, pollInterval: Duration, publication: PublicationHealth,
         clock: @escaping @Sendable () -> Int64 = Store.systemClock) {
        self.db = db
        // Ten looks missed, and never less than ten seconds.
        staleAfter = max(10, (pollInterval * 10).components.seconds)
        self.publication = publication
        self.clock = clock
    }

    func report() -> HealthReport {
        let now = clock()
        var report = HealthReport(status: "ok")
        do {
            let store = try Store(path: db, readOnly: true)
            let health = try store.health()
            report.storeReadable = true
            report.storeSerial = health.serial
            if let last = health.lastHitRecorded {
                report.lastHit = Store.formatRFC3339(last)
                report.secondsSinceLastHit = max(0, now - last)
            }
        } catch {
            report.problems.append("store \(db) cannot be read: \(error)")
        }
        let published = publication.current
        report.publicationFailuresSinceRead = published.failuresSinceRead
        report.lastPublicationLagSeconds = published.lastLag.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        if let read = published.lastRead {
            report.lastStoreRead = Store.formatRFC3339(read)
            report.secondsSinceStoreRead = max(0, now - read)
            if now - read > staleAfter {
                report.problems.append("publication has not read the store for \(now - read) s"
                                       + (published.lastFailure.map { "; last error: \($0)" } ?? ""))
            }
        } else if let failure = published.lastFailure {
            report.problems.append("publication has not read the store since start: \(failure)")
        }
        if !report.problems.isEmpty { report.status = "failing" }
        return report
    }

    /// The answer's HTTP status and JSON body.
    func response() -> HealthAnswer {
        let report = report()
        let body = (try? prettyJSON(report)) ?? #"{"status":"failing"}"#
        return HealthAnswer(healthy: report.isHealthy, body: body + "\n")
    }
}
