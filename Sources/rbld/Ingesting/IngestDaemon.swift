// IngestDaemon.swift -- the long-running ingest: Maildir watch on its own thread plus the LMTP listener.

import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import Store

/// The ingest daemon of `rbld ingest --watch`/`--lmtp` (and of `rbld run`): watches trap
/// Maildirs and serves LMTP until asked to stop.
///
/// Each feed has its own store connection: the Maildir loop on a dedicated thread (its
/// reads and commits block), LMTP deliveries on the worker's thread. SQLite's WAL and busy
/// timeout let them, `rbld serve` and admin commands share the store.
///
/// ```swift
/// let daemon = IngestDaemon(configuration: configuration, logger: logger)
/// let bound = try await daemon.start()        // binds LMTP; errors before "ready"
/// let counts = await daemon.run(until: stop)  // returns after stop.raise(), in-flight work done
/// ```
final class IngestDaemon {
    struct Configuration: Sendable {
        var db: String
        var zone: String
        var trustedNetworks: TrustedNetworks
        var maildirs: [Maildir] = []
        /// Quarantine for every Maildir (nil: each Maildir's `.quarantine`).
        var quarantine: String?
        /// Quarantine for LMTP messages that cannot be processed.
        var sideQuarantine: Quarantine
        var lmtp: ListenAddress?
        var lmtpOptions = LMTPServer.Options()
        var batch = 256
        var verbose = false

        init(db: String, zone: String, trustedNetworks: TrustedNetworks) {
            self.db = db
            self.zone = zone
            self.trustedNetworks = trustedNetworks
            sideQuarantine = Quarantine(path: DefaultQuarantine.besideStore(db))
        }
    }

    let configuration: Configuration
    let logger: Logger
    /// Where each message's outcome (and each LMTP commit's time) is counted, if anywhere.
    let metrics: RBLDMetrics?
    private var server: LMTPServer?
    private var worker: LMTPIngestWorker?

    init(configuration: Configuration, logger: Logger, metrics: RBLDMetrics? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Opens the LMTP listener when configured.
    ///
    /// - Returns: the bound LMTP address (with the kernel's port for port 0), or nil.
    /// - Throws: `Failure` 74 when the store cannot be opened, 69 when the address cannot be bound.
    func start() async throws -> ListenAddress? {
        guard let address = configuration.lmtp else { return nil }
        let store: Store
        do { store = try Store(path: configuration.db) } catch { throw Failure(error) }
        let newWorker = LMTPIngestWorker(
            ingester: Ingester(store: store, zone: configuration.zone, trustedNetworks: configuration.trustedNetworks),
            quarantine: configuration.sideQuarantine, logger: logger, metrics: metrics)
        let newServer = LMTPServer(address: address, options: configuration.lmtpOptions, logger: logger, deliver: newWorker.deliver)
        do {
            try await newServer.start()
        } catch {
            await newWorker.shutdown()
            throw Failure(.unavailable, "LMTP \(address): cannot listen: \(error)")
        }
        server = newServer
        worker = newWorker
        return newServer.boundAddress
    }

    /// Runs the Maildir watch until `stop` is raised, then stops the LMTP listener after
    /// its deliveries in flight; returns what was ingested.
    func run(until stop: StopFlag) async -> IngestCounts {
        var totals = IngestCounts()
        // An idle LMTP worker would keep a replaced store file's log open, and with it every
        // connection from opening the new file: it looks now and then, not only per delivery.
        let follower = Task { [worker] in
            while !stop.isRaised {
                worker?.followStoreFile()
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        if !configuration.maildirs.isEmpty {
            let setup = MaildirSetup(configuration: configuration, logger: logger, metrics: metrics)
            totals = await withCheckedContinuation { (continuation: CheckedContinuation<IngestCounts, Never>) in
                let thread = Thread { continuation.resume(returning: setup.watch(stop: stop)) }
                thread.name = "rbld-maildir"
                thread.start()
            }
        } else {
            while !stop.isRaised { try? await Task.sleep(for: .milliseconds(100)) }
        }
        await follower.value
        if let server, let worker {
            await server.stop()
            await worker.shutdown()
            totals.add(worker.totals)
        }
        server = nil
        worker = nil
        return totals
    }
}

/// What the Maildir thread needs to build its own store connection and feeds.
private struct MaildirSetup: Sendable {
    let configuration: IngestDaemon.Configuration
    let logger: Logger
    let metrics: RBLDMetrics?

    /// Runs the watch loop until `stop`; a store that cannot be opened is retried.
    func watch(stop: StopFlag) -> IngestCounts {
        // Only the ingester holds the connection, so that it can close it when the file at
        // the path is replaced (`Ingester.followStoreFile`).
        var opened: Ingester?
        while opened == nil, !stop.isRaised {
            do {
                opened = Ingester(store: try Store(path: configuration.db), zone: configuration.zone,
                                  trustedNetworks: configuration.trustedNetworks)
            } catch {
                logger.warning("store unavailable, retrying in 1 s", metadata: ["db": "\(configuration.db)", "error": "\(error.reason)"])
                sleep(1)
            }
        }
        guard let ingester = opened else { return IngestCounts() }
        let feeds = configuration.maildirs.map { trap in
            let feed = MaildirFeed(maildir: trap, quarantine: configuration.quarantine.map(Quarantine.init(path:)),
                                   ingester: ingester, batchLimit: configuration.batch)
            // Called once per message after its batch's commit, and once per commit.
            if let metrics { feed.onCommit = { metrics.storeCommit($0) } }
            let verbose = configuration.verbose
            if verbose || metrics != nil {
                feed.onResult = { [logger, metrics] result in
                    metrics?.recordIngest(result.outcome, classification: result.classification)
                    if verbose {
                        IngestLog.result(origin: result.origin, outcome: result.outcome,
                                         classification: result.classification, logger: logger)
                    }
                }
            }
            return feed
        }
        let loop = MaildirWatch(feeds: feeds, logger: logger)
        loop.watch(stop: stop)
        return loop.totals
    }
}
