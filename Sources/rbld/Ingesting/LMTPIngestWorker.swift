// LMTPIngestWorker.swift -- commits LMTP deliveries to the store on one thread of its own.

import Glibc
import Ingest
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Ingests LMTP deliveries off the event loops, one at a time, on a dedicated thread that
/// owns the store connection; the reply says what happened.
///
/// 250 only after the store commit (or after the message was deliberately not stored, or
/// kept in quarantine; a damaged message only after its hit was committed and its copy
/// kept); 451 when the store is busy or unavailable, or the quarantine cannot keep what it
/// must, so the MTA keeps the message queued and retries (RFC 2033 §4.2; docs/ARCHITECTURE.md,
/// "Bad input"): a retry of a committed hit is a duplicate by digest, counted once.
final class LMTPIngestWorker: Sendable {
    private let pool = NIOThreadPool(numberOfThreads: 1)
    private let ingester: Mutex<Ingester>
    private let trustedNetworks: TrustedNetworks
    private let quarantine: Quarantine
    private let logger: Logger
    private let metrics: RBLDMetrics?
    private let counts = Mutex(IngestCounts())

    /// - Parameter metrics: where each message's outcome and each commit's time go, if anywhere.
    init(ingester: consuming sending Ingester, quarantine: Quarantine, logger: Logger, metrics: RBLDMetrics? = nil) {
        trustedNetworks = ingester.trustedNetworks
        self.ingester = Mutex(ingester)
        self.quarantine = quarantine
        self.logger = logger
        self.metrics = metrics
        pool.start()
    }

    /// The delivery function for ``LMTPServer``.
    var deliver: LMTPDeliver {
        { [self] delivery, peer, eventLoop in
            pool.runIfActive(eventLoop: eventLoop) { [self] in process(delivery, peer: peer) }
        }
    }

    /// What this worker has done so far.
    var totals: IngestCounts { counts.withLock { $0 } }

    /// Has the worker's thread look whether the store's file was replaced (see
    /// `Ingester.followStoreFile`), between deliveries.
    func followStoreFile() {
        pool.submit { [self] state in
            guard state == .active else { return }
            ingester.withLock { $0.followStoreFile() }
        }
    }

    /// Finishes the delivery in progress and stops the thread.
    func shutdown() async {
        try? await pool.shutdownGracefully()
    }

    func process(_ delivery: LMTPSession.Delivery, peer: String) -> LMTPSession.DeliveryStatus {
        let message = FeedMessage(bytes: delivery.message, origin: "lmtp from \(peer)", recipients: delivery.recipients)
        // Classified apart from the commit (as `Ingester.ingest` does), so the commit alone is timed.
        let prepared = Ingester.prepare(message, trustedNetworks: trustedNetworks, now: unixNow())
        let outcome: IngestOutcome
        do {
            outcome = try ingester.withLock { ingester throws(IngestError) -> IngestOutcome in
                let start = ContinuousClock.now
                let committed = try ingester.commit([prepared])[0]
                metrics?.storeCommit(ContinuousClock.now - start)  // successful commits only, as for Maildir batches
                return committed
            }
        } catch {
            counts.withLock { $0.deferred += 1 }
            logger.warning("LMTP message not stored, 451 sent", metadata: ["origin": "\(message.origin)", "error": "\(error.reason)"])
            return .temporaryFailure("store unavailable, try again later")
        }
        // Not a message (the whole message goes to quarantine), or damaged (a copy goes
        // there, the hit is kept): either way the 250 waits until it is kept.
        let result = IngestResult(origin: message.origin, classification: prepared.classification, outcome: outcome,
                                  damage: prepared.damage)
        if let problem = result.quarantineReason {
            let path: String
            do {
                path = try quarantine.keep(bytes: message.bytes, origin: message.origin, reason: problem.reason)
            } catch {
                counts.withLock { $0.failed += 1 }
                logger.error("LMTP message could not be kept in quarantine, 451 sent",
                             metadata: ["origin": "\(message.origin)", "reason": "\(problem.reason)", "error": "\(error.reason)"])
                return .temporaryFailure("cannot keep the message, try again later")
            }
            counts.withLock {
                $0.add(outcome)
                if result.damage != nil { $0.damaged += 1 }
            }
            metrics?.recordIngest(outcome, classification: prepared.classification)
            if case .quarantine = outcome {
                logger.warning("LMTP message quarantined", metadata: ["origin": "\(message.origin)", "reason": "\(problem.reason)", "path": "\(path)"])
                return .accepted("kept in quarantine: \(problem.reason)")
            }
            logger.warning("LMTP message damaged, a copy kept in quarantine",
                           metadata: ["origin": "\(message.origin)", "reason": "\(problem.reason)", "path": "\(path)"])
            return .accepted(IngestLog.summary(outcome) + "; damaged input, a copy kept in quarantine")
        }
        counts.withLock { $0.add(outcome) }
        metrics?.recordIngest(outcome, classification: prepared.classification)
        IngestLog.result(origin: message.origin, outcome: outcome, classification: prepared.classification, logger: logger)
        return .accepted(IngestLog.summary(outcome))
    }
}
