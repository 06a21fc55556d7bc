// Serve.swift -- `rbld serve`: the authoritative DNSBL server over a store.
import ArgumentParser
import CNetShim
import DNSBL
@preconcurrency import Dispatch
import Glibc
import Ingest
import Logging
import Store

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the store's listings as an authoritative DNSBL zone over UDP and TCP.",
        discussion: """
            Answers A, TXT, ANY, SOA and NS queries per RFC 5782 for every zone given with \
            --zone, on every --listen address, UDP and TCP. Without these flags the \
            configuration decides (--config, else zones/rbld.yaml when present: its db, zones \
            and dns.listen; a file given with --config also sets the zones' SOA, NS, TTL and \
            TXT settings and policies in the store); without a configuration: every zone in \
            the store (else bl.example.org) on 127.0.0.1:5300. Changes committed to the store \
            (imports, listings, delistings, hits) are served within a second, without restart. \
            SIGHUP reloads every zone from the store; SIGTERM and SIGINT stop cleanly. \
            `rbld run` serves the same way and ingests too.
            """)

    @Option(help: "The SQLite store to serve (default: the configuration's db, else ./rbld.sqlite).")
    var db: String?

    @Option(name: .customLong("zone"), help: "A zone to serve (repeatable).")
    var zones: [String] = []

    @Option(help: "An address to serve on, HOST:PORT or [V6]:PORT (repeatable).")
    var listen: [String] = []

    @Option(help: ArgumentHelp("Configuration file (default: zones/rbld.yaml when present); flags take precedence.", valueName: "FILE"))
    var config: String?

    @Option(help: "UDP sockets (one thread each) per address; default: one per core.")
    var threads: Int?

    @Option(help: "Seconds before an idle TCP connection is closed (RFC 7766 §6.2.3).")
    var tcpIdleTimeout: Double = 10

    @Option(help: "Concurrent TCP connections; more are closed at once.")
    var tcpMaxConnections = 256

    @Option(help: "Seconds between checks of the store for changes.")
    var pollInterval: Double = 0.2

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (default: none).", valueName: "HOST:PORT"))
    var metrics: String?

    func validate() throws {
        guard tcpIdleTimeout > 0, pollInterval > 0, tcpMaxConnections > 0, (threads ?? 1) > 0 else {
            throw ValidationError("--tcp-idle-timeout, --poll-interval, --tcp-max-connections and --threads must be positive")
        }
    }

    func run() async throws {
        var logger = Logger(label: "rbld.serve")
        logger.logLevel = .notice
        let clock: @Sendable () -> Int64 = { Int64(time(nil)) }

        let configured = try Configuration.resolve(config)
        let file = configured.source == nil ? nil : configured  // defaults only where there is a file
        let db = self.db ?? file?.db ?? "rbld.sqlite"
        let store: Store
        let zoneNames: [String]
        do {
            store = try Store(path: db)
            // Only a file named on the command line rewrites the store's zone settings; the
            // implicit zones/rbld.yaml gives defaults, and imported $SOA/$NS lines stand.
            if let file, config != nil { try ZoneConfigurator.apply(file, to: store, logger: logger) }
            let known = try store.zoneNames()
            zoneNames = !zones.isEmpty ? zones.map(ZoneSettings.normalizedName)
                : file?.zoneNames ?? (known.isEmpty ? ["bl.example.org"] : known)
        } catch {
            throw Failure(.ioError, "\(db): \(error)")
        }
        let publisher = Publisher(store: store, zones: zoneNames, logger: logger, clock: clock)
        let served: ServedZones
        do { served = try publisher.loadAll() } catch { throw Failure(.dataError, "\(db): \(error)") }

        // Loading copied the cache blob and built arrays from it: give the freed heap back.
        cnet_trim_heap()
        let snapshots = SnapshotStore(served)
        var dns = Configuration.DNS()
        do {
            dns.listen = try listen.isEmpty ? file?.dns.listen ?? [ListenAddress(parsing: "127.0.0.1:5300")]
                : listen.map { text throws(ServerError) in try ListenAddress(parsing: text) }
        } catch {
            throw Failure(.usage, "\(error)")
        }
        dns.udpThreads = threads
        dns.tcpIdleTimeout = .milliseconds(Int(tcpIdleTimeout * 1000))
        dns.tcpMaxConnections = tcpMaxConnections
        let metricsAddress: ListenAddress?
        do { metricsAddress = try metrics.map(ListenAddress.init(parsing:)) } catch { throw Failure(.usage, "--metrics: \(error)") }
        let server = dns.makeServer(serving: snapshots, logger: logger)
        do { try await server.start() } catch { throw Failure(.unavailable, "\(error)") }
        let processMetrics = metricsAddress == nil ? nil : RBLDMetrics.process
        var endpoint: MetricsEndpoint?
        if let metricsAddress, let processMetrics {
            do {
                let started = try await processMetrics.serve(dns: server, snapshots: snapshots, at: metricsAddress, logger: logger)
                print("rbld: metrics on http://\(started.address)/metrics")
                endpoint = started.endpoint
            } catch {
                await server.stop()
                throw error
            }
        }

        for zone in served.zones {
            print("rbld: serving \(zone.config.name) (serial \(zone.config.soa.serial), "
                  + "\(zone.table.v4Count) IPv4 + \(zone.table.v6Count) IPv6 entries)")
        }
        print("rbld: listening on \(server.boundAddresses.map(\.description).joined(separator: ", ")) (UDP and TCP)")
        fflush(nil)

        let publication = PublicationService(publisher: publisher, store: store, snapshots: snapshots,
                                             interval: .milliseconds(Int(pollInterval * 1000)), logger: logger, metrics: processMetrics)
        let follower = Task.detached { try? await publication.run() }

        for await signal in SignalStream.make([SIGTERM, SIGINT, SIGHUP]) {
            if signal == SIGHUP {
                publication.requestReload(zones: zoneNames)
                continue
            }
            logger.notice("stopping on signal \(signal)")
            break
        }
        follower.cancel()
        await follower.value  // the snapshot cache is saved for the next start
        await endpoint?.stop()
        await server.stop()
    }
}

/// Delivers Unix signals as an async sequence (Dispatch signal sources).
enum SignalStream {
    static func make(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let queue = DispatchQueue(label: "rbld.signals")
            for number in signals {
                Glibc.signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { continuation.yield(number) }
                source.setCancelHandler { _ = source }  // keeps the source alive until cancelled
                source.resume()
                continuation.onTermination = { _ in source.cancel() }
            }
        }
    }
}
