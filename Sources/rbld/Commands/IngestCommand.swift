// IngestCommand.swift -- `rbld ingest`: feed trap mail (Maildir, mbox, stdin, LMTP) into the store.
import ArgumentParser
import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import ServiceLifecycle
import Store
import UnixSignals

/// `rbld ingest [--maildir DIR]... [--lmtp HOST:PORT] [--watch] [PATH|-]...`
///
/// Every feed classifies each message, records a hit (with its evidence) for backscatter,
/// and marks the input done only after the store commit; messages that cannot be
/// processed go to a quarantine Maildir with the reason beside them, and so does a copy
/// of each damaged message (``MessageDefects/severe``), whose hit is recorded all the same.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Feed trap mail into the store: Maildirs, mbox files, standard input, LMTP.",
        discussion: """
            Each message is classified and attributed as `rbld classify` does; backscatter \
            with a public source becomes a hit in the store (the same message twice, by \
            digest, counts once). \
            Maildir (--maildir, or a PATH that is a Maildir): messages in new/ move to cur/ \
            (flag S) only after the store commit; not-backscatter and unattributable \
            messages are processed too. Messages that cannot be processed (unreadable, not \
            a mail message) go to the quarantine Maildir (--quarantine, else the \
            configuration's ingest.quarantine, else DIR/.quarantine) with the reason in its \
            reasons/ folder; nothing is deleted. Damaged messages (cut at a parse limit: \
            size, header size, header fields, MIME depth or parts; NUL bytes; a header cut \
            off mid-line) are processed all the same (their hit is recorded) and a copy goes \
            to the quarantine with the reason, with a warning naming the input and the \
            defects; from every feed alike. \
            PATH may also be an mbox file (split on From_ lines, >From unquoted) or one \
            message file; '-' reads one message from standard input for an MTA pipe \
            transport: exit 0 when stored or not backscatter (bad input is quarantined), 75 \
            when the store is busy, locked or unavailable (or a damaged message's copy \
            cannot be kept) so the MTA retries, 65 when input that is not a message cannot \
            be kept anywhere. \
            --lmtp HOST:PORT listens for LMTP (RFC 2033, e.g. Postfix's lmtp: transport): \
            one reply per recipient after DATA, 250 only after the commit (and the \
            quarantine copy), 451 when the store is unavailable or the quarantine cannot \
            keep the message. --watch (or --lmtp) keeps running: Maildirs are watched \
            (inotify, else a 200 ms poll), bad messages never stop the daemon, SIGTERM \
            finishes the messages in flight and stops. \
            Exit status: 0 ok; 64 usage; 65 bad stdin input not kept; 66 a PATH is missing \
            or not readable; 69 the LMTP address cannot be bound; 74 a message could be \
            neither processed nor quarantined; 75 store busy or unavailable (retry later).
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: .customLong("trusted-networks"),
            help: ArgumentHelp("Comma-separated CIDRs of the trap's own relays (127.0.0.0/8 always; default: the configuration's).", valueName: "CIDR[,CIDR...]"))
    var trustedNetworks: [String] = []

    @Option(name: .customLong("maildir"), help: ArgumentHelp("A trap Maildir to ingest (repeatable).", valueName: "DIR"))
    var maildirs: [String] = []

    @Option(help: ArgumentHelp("Quarantine Maildir for messages that cannot be processed and copies of damaged ones (default: the configuration's ingest.quarantine, else DIR/.quarantine of each Maildir; for other inputs the first Maildir's, else 'quarantine' next to the store).", valueName: "DIR"))
    var quarantine: String?

    @Option(help: ArgumentHelp("Listen for LMTP on this address (loopback or a private address of the trap MX).", valueName: "HOST:PORT"))
    var lmtp: String?

    @Flag(help: "Keep running: watch the Maildirs for new messages until SIGTERM.")
    var watch = false

    @Option(help: ArgumentHelp("Messages committed per store transaction (Maildir, mbox).",
                               discussion: "Small batches list a source soon after its mail arrives; a backlog loads fastest in large ones (100000: 1M hits in about 17 s of store time, with the batch's messages held in memory)."))
    var batch = 256

    @Option(name: .customLong("lmtp-idle-timeout"), help: "Seconds without input before an LMTP connection is closed with 421.")
    var lmtpIdleTimeout: Double = 300

    @Option(name: .customLong("lmtp-max-connections"), help: "Concurrent LMTP connections; more get 421.")
    var lmtpMaxConnections = 64

    @Option(name: .customLong("lmtp-hostname"), help: "Name in the LMTP greeting (default: the host name).")
    var lmtpHostname: String?

    @Option(name: .customLong("max-message-size"), help: "Largest LMTP message accepted, in bytes (SIZE).")
    var maxMessageSize = MessageLimits.maxMessageByteCount

    @Option(help: ArgumentHelp("With --watch or --lmtp: serve Prometheus metrics at http://HOST:PORT/metrics (default: none).", valueName: "HOST:PORT"))
    var metrics: String?

    @Flag(help: "Print one line per message (one-shot runs) or log each message (daemon).")
    var verbose = false

    @Flag(name: .customLong("phase-times"),
          help: "Also print the time spent inside store commits, apart from reading and classifying (mbox files; scripts/bench-store).")
    var phaseTimes = false

    @Argument(help: ArgumentHelp("Maildirs, mbox files or message files; '-' reads one message from standard input.", valueName: "PATH"))
    var paths: [String] = []

    func validate() throws {
        _ = try networks()
        if maildirs.isEmpty, paths.isEmpty, lmtp == nil {
            throw ValidationError("nothing to ingest: give --maildir DIR, --lmtp HOST:PORT or a PATH ('-' for standard input)")
        }
        if paths.contains("-") {
            guard paths == ["-"], maildirs.isEmpty, lmtp == nil, !watch else {
                throw ValidationError("'-' (one message from standard input, for an MTA pipe) cannot be combined with other inputs or --watch")
            }
        }
        if watch, maildirs.isEmpty, lmtp == nil, !paths.contains(where: Maildir.isMaildir) {
            throw ValidationError("--watch needs a Maildir (--maildir DIR) or --lmtp HOST:PORT")
        }
        if metrics != nil, !watch, lmtp == nil {
            throw ValidationError("--metrics needs a long run: --watch or --lmtp HOST:PORT")
        }
        guard batch > 0, lmtpIdleTimeout > 0, lmtpMaxConnections > 0, maxMessageSize > 0 else {
            throw ValidationError("--batch, --lmtp-idle-timeout, --lmtp-max-connections and --max-message-size must be positive")
        }
    }

    /// --trusted-networks, else the configuration's (with its trust-loopback), else loopback only.
    private func networks() throws -> TrustedNetworks {
        do {
            if trustedNetworks.isEmpty, let configuration = store.configuration { return try configuration.trustedNetworks() }
            return try TrustedNetworks(parsing: trustedNetworks.joined(separator: ","))
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let networks = try networks()
        if paths == ["-"] { return try runStandardInput(networks: networks) }

        var logger = Logger(label: "rbld.ingest")
        logger.logLevel = verbose ? .info : .notice
        let openedStore = try store.openStore(readOnly: false)
        let zone = try store.zoneName(in: openedStore)
        let ingester = Ingester(store: openedStore, zone: zone, trustedNetworks: networks)
        let start = ContinuousClock.now
        let startCPU = processCPUSeconds()

        // Inputs named on the command line: Maildirs, mbox files, message files.
        var traps = try maildirs.map(trapMaildir)
        var files: [String] = []
        var missing = 0
        for path in paths {
            if Maildir.isMaildir(path) {
                traps.append(Maildir(path: path))
            } else if access(path, R_OK) == 0, !Self.isDirectory(path) {
                files.append(path)
            } else {
                missing += 1
                printError("rbld ingest: \(path): \(access(path, F_OK) == 0 ? "not a readable file or Maildir" : "no such file or Maildir")")
            }
        }
        let sideQuarantine = Quarantine(path: DefaultQuarantine.path(configured: configuredQuarantine, maildirs: traps, db: store.db))

        var totals = IngestCounts()
        var storeFailure: IngestError?
        let commitTimer = CommitTimer()
        for file in files where storeFailure == nil {
            let (counts, failure) = ingestFile(file, ingester: ingester, quarantine: sideQuarantine, timer: commitTimer)
            totals.add(counts)
            storeFailure = failure
        }

        let daemon = watch || lmtp != nil
        if daemon {
            if let failure = storeFailure { throw Failure(.tempFail, failure.reason) }
            let daemonCounts = try await runDaemon(traps: traps, zone: zone, networks: networks,
                                                   sideQuarantine: sideQuarantine, logger: logger)
            totals.add(daemonCounts)
        } else if storeFailure == nil, !traps.isEmpty {
            let watchLoop = MaildirWatch(feeds: makeFeeds(traps, ingester: ingester), logger: logger)
            if watchLoop.runOnce(stop: StopFlag()) {
                storeFailure = IngestError(.storeUnavailable, "\(store.db): store busy or unavailable; messages left in new/")
            }
            totals.add(watchLoop.totals)
        }

        let seconds = (ContinuousClock.now - start).seconds
        let cpu = processCPUSeconds() - startCPU
        let rate = seconds > 0 ? Int(Double(totals.processed) / seconds) : 0
        let timing = daemon ? "ran \(String(format: "%.1f", seconds)) s"
            : "in \(String(format: "%.2f", seconds)) s (\(rate) msg/s, \(String(format: "%.2f", cpu)) s CPU)"
        printError("rbld ingest: \(totals) \(timing)")
        if phaseTimes {
            printError("rbld ingest: store commits (mbox): \(commitTimer.commits), \(String(format: "%.2f", commitTimer.seconds)) s wall, "
                       + "\(String(format: "%.2f", commitTimer.cpuSeconds)) s CPU; the rest is reading, parsing and classifying")
        }
        if let storeFailure { throw Failure(.tempFail, storeFailure.reason) }
        if totals.failed > 0 { throw ExitCode(.ioError) }
        if missing > 0 { throw ExitCode(.noInput) }
    }

    /// The quarantine Maildir named by --quarantine, else by the configuration's
    /// `ingest.quarantine`; nil: the defaults of each input (see --quarantine).
    private var configuredQuarantine: String? { quarantine ?? store.configuration?.ingest.quarantine }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private func makeFeeds(_ traps: [Maildir], ingester: Ingester) -> [MaildirFeed] {
        traps.map { trap in
            let feed = MaildirFeed(maildir: trap, quarantine: configuredQuarantine.map(Quarantine.init(path:)), ingester: ingester,
                                   batchLimit: batch)
            if verbose { feed.onResult = { print("\($0.origin): \(IngestLog.summary($0.outcome))") } }
            return feed
        }
    }

    // MARK: - Files: mbox or one message

    /// Ingests an mbox file (batched) or one message file; the file itself is never changed.
    private func ingestFile(_ path: String, ingester: Ingester, quarantine: Quarantine, timer: CommitTimer) -> (IngestCounts, IngestError?) {
        var counts = IngestCounts()
        var head = [UInt8](repeating: 0, count: 5)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        let got = fd >= 0 ? head.withUnsafeMutableBytes { read(fd, $0.baseAddress, 5) } : -1
        if fd >= 0 { close(fd) }
        guard got >= 0 else {
            printError("rbld ingest: \(path): cannot read: \(String(cString: strerror(errno)))")
            counts.failed += 1
            return (counts, nil)
        }
        if Mbox.looksLikeMbox(head.prefix(got)) {
            do {
                let failed = try ingester.ingestMbox(
                    at: path, batch: batch, now: unixNow(),
                    commit: { body throws(IngestError) in try timer.time(body) },
                    record: { result, bytes in record(result, bytes: bytes, quarantine: quarantine, counts: &counts) })
                if let failed { counts.deferred += failed.messages }
                return (counts, failed?.failure)
            } catch {
                printError("rbld ingest: \(error)")
                counts.failed += 1
                return (counts, nil)
            }
        }
        do {
            let read = try MessageReader.read(file: path)
            let result = try ingester.ingest(FeedMessage(bytes: read.bytes, origin: path))
            record(result, bytes: read.bytes, file: path, quarantine: quarantine, counts: &counts)
            return (counts, nil)
        } catch where error.isTemporary {
            counts.deferred += 1
            return (counts, error)
        } catch {
            printError("rbld ingest: \(error.reason)")
            counts.failed += 1
            return (counts, nil)
        }
    }

    /// Counts an outcome. A message that is not processable is copied to quarantine, and so
    /// is a damaged one (with a warning; its outcome counts as usual). The input itself
    /// (an mbox or message file) stays as it is; a message file is copied whole, even
    /// beyond the size read for parsing.
    private func record(_ result: IngestResult, bytes: [UInt8], file: String? = nil, quarantine: Quarantine,
                        counts: inout IngestCounts) {
        if let problem = result.quarantineReason {
            let kept: String
            do {
                if let file {
                    kept = try quarantine.keep(copyOf: file, reason: problem.reason, link: false)
                } else {
                    kept = try quarantine.keep(bytes: bytes, origin: result.origin, reason: problem.reason)
                }
            } catch {
                printError("rbld ingest: \(problem.reason); and \(error.reason)")
                counts.failed += 1
                return
            }
            if case .quarantine = result.outcome {
                printError("rbld ingest: \(problem.reason); kept in \(kept)")
                counts.quarantined += 1
                return
            }
            printError("rbld ingest: warning: \(problem.reason): \(kept)")
            counts.damaged += 1
        }
        counts.add(result.outcome)
        if verbose { print("\(result.origin): \(IngestLog.summary(result.outcome))") }
    }

    /// Wall and CPU time spent inside store commits (`--phase-times`); single-threaded use.
    final class CommitTimer {
        private(set) var commits = 0
        private(set) var seconds = 0.0
        private(set) var cpuSeconds = 0.0

        func time<T>(_ body: () throws(IngestError) -> T) throws(IngestError) -> T {
            let start = ContinuousClock.now
            let startCPU = processCPUSeconds()
            defer {
                seconds += (ContinuousClock.now - start).seconds
                cpuSeconds += processCPUSeconds() - startCPU
                commits += 1
            }
            return try body()
        }
    }

    // MARK: - Standard input (MTA pipe)

    /// One message from standard input: 0 stored/processed/quarantined, 75 store busy or
    /// unavailable, whatever the store's problem (the MTA retries; a pipe transport bounces
    /// on 74 or 65), 65 bad input that cannot be kept anywhere.
    private func runStandardInput(networks: TrustedNetworks) throws {
        let bytes: [UInt8]
        do {
            bytes = try MessageReader.read(fd: 0, name: "stdin")
        } catch {
            throw Failure(.tempFail, error.reason)
        }
        let opened: Store
        do {
            opened = try Store(path: store.db)
        } catch {
            throw Failure(.tempFail, "\(store.db): store unavailable: \(error.reason)")
        }
        let zone: String
        do {
            zone = try store.zoneName(in: opened)
        } catch let failure as Failure where failure.code != .usage {
            // A store error while reading its zones (busy, I/O): temporary like any other.
            throw Failure(.tempFail, "\(store.db): store unavailable: \(failure.message)")
        }
        let ingester = Ingester(store: opened, zone: zone, trustedNetworks: networks)
        let result: IngestResult
        do {
            result = try ingester.ingest(FeedMessage(bytes: bytes, origin: "stdin"))
        } catch {
            throw Failure(.tempFail, error.reason)
        }
        if let problem = result.quarantineReason {
            let place = Quarantine(path: DefaultQuarantine.path(configured: configuredQuarantine,
                                                                maildirs: maildirs.map(Maildir.init(path:)), db: store.db))
            let kept: String
            do {
                kept = try place.keep(bytes: bytes, origin: "stdin", reason: problem.reason)
            } catch {
                // Not a message and nowhere to keep it: 65 (retrying cannot help). A damaged
                // message whose copy cannot be kept: 75, the MTA keeps it (its hit, if
                // any, is a duplicate on the retry).
                throw Failure(problem.code == .notAMessage ? .dataError : .tempFail, "\(problem.reason); and \(error.reason)")
            }
            if case .quarantine = result.outcome {
                printError("rbld ingest: \(problem.reason); kept in \(kept)")
                return
            }
            printError("rbld ingest: warning: \(problem.reason): \(kept)")
        }
        if verbose { print("stdin: \(IngestLog.summary(result.outcome))") }
    }

    // MARK: - Daemon

    /// Watches the Maildirs and serves LMTP until SIGTERM/SIGINT.
    private func runDaemon(traps: [Maildir], zone: String, networks: TrustedNetworks, sideQuarantine: Quarantine,
                           logger: Logger) async throws -> IngestCounts {
        var configuration = IngestDaemon.Configuration(db: store.db, zone: zone, trustedNetworks: networks)
        configuration.maildirs = traps
        configuration.quarantine = configuredQuarantine
        configuration.sideQuarantine = sideQuarantine
        configuration.batch = batch
        configuration.verbose = verbose
        if let lmtp {
            do { configuration.lmtp = try ListenAddress(parsing: lmtp) } catch { throw Failure(.usage, "--lmtp \(lmtp): \(error)") }
            configuration.lmtpOptions.session.hostname = lmtpHostname ?? hostName()
            configuration.lmtpOptions.session.maxMessageByteCount = maxMessageSize
            configuration.lmtpOptions.idleTimeout = Duration(secondsArgument: lmtpIdleTimeout)
            configuration.lmtpOptions.maxConnections = lmtpMaxConnections
        }
        var endpoint: MetricsEndpoint?
        if let metrics {
            let address: ListenAddress
            do { address = try ListenAddress(parsing: metrics) } catch { throw Failure(.usage, "--metrics \(metrics): \(error)") }
            let started = RBLDMetrics.process.endpoint(address: address, logger: logger)
            print("rbld: metrics on http://\(try await started.start())/metrics")
            endpoint = started
        }
        let daemon = IngestDaemon(configuration: configuration, logger: logger, metrics: endpoint == nil ? nil : RBLDMetrics.process)
        let bound: ListenAddress?
        do {
            bound = try await daemon.start()
        } catch {
            await endpoint?.stop()
            throw error
        }
        if let bound { print("rbld: LMTP listening on \(bound)") }
        if !traps.isEmpty { print("rbld: watching \(traps.map(\.path).joined(separator: ", "))") }
        flushStandardOutput()

        // The same shutdown as `rbld run`'s: SIGTERM or SIGINT finishes the messages in
        // flight, then the metrics endpoint stops.
        let ingest = IngestService(daemon: daemon, logger: logger)
        var group = ServiceGroupConfiguration(services: [
            .init(service: MetricsService(endpoint: endpoint), serviceName: "metrics"),
            .init(service: ingest, serviceName: "ingest"),
        ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.logging.keys.serviceKey = "service"
        try await ServiceGroup(configuration: group).run()
        return ingest.totals
    }
}
