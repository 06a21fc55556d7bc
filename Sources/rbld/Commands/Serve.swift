// Serve.swift -- `rbld serve`: the authoritative DNSBL server over a store (`rbld run` without ingest).

import ArgumentParser
import Foundation
import DNSBL
import Logging
import Store

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the store's listings as an authoritative DNSBL zone over UDP and TCP.",
        discussion: """
            Answers A, TXT, ANY, SOA and NS queries per RFC 5782 for every zone given with \
            --zone, on every --listen address, UDP and TCP. Without these flags the \
            configuration decides (--config, else zones/rbld.yaml when present: its db, zones, \
            dns section; a file given with --config also writes the zones' SOA, NS, TTL and \
            TXT settings and policies to the store, and its metrics address applies); without \
            a configuration: every zone in the store (else bl.example.org) on 127.0.0.1:5300. \
            Changes committed to the store (imports, listings, delistings, hits) are served \
            within a second, without restart. This is `rbld run` with ingest switched off: \
            the same start-up, services and signals. With --web (or the configuration's \
            web section) it also serves the public pages, the JSON API and /admin \
            (docs/WEB.md). SIGHUP re-applies the --config file (zones, log level, dns.listen \
            and the metrics address apply at once; a flag keeps winning over the file), or \
            reloads every zone from the store; SIGTERM and SIGINT stop cleanly. \
            Abuse controls (docs/ABUSE.md): --rrl-rate limits UDP responses per client network; \
            the configuration's dns.clients refuses networks, answers open resolvers \
            127.255.255.254 and clients over a daily quota 127.255.255.255, never as listings. \
            Zone transfer (AXFR, IXFR over TCP) to standard secondaries: --allow-transfer, --notify, \
            or the configuration's keys: and per-zone transfer: (docs/MIRRORS.md). Files for \
            rsync mirrors: the configuration's exports: are rewritten whenever their zone changed. \
            Exit status: 0 after a clean stop; 64 usage; 65 bad data in the store; 69 an \
            address cannot be bound; 74 the store cannot be opened; 78 the configuration is invalid.
            """)

    @Option(help: "The SQLite store to serve (default: the configuration's db, else ./rbld.sqlite).")
    var db: String?

    @Option(name: .customLong("zone"), help: "A zone to serve (repeatable).")
    var zones: [String] = []

    @Option(help: "An address to serve on, HOST:PORT or [V6]:PORT (repeatable).")
    var listen: [String] = []

    @Option(help: ArgumentHelp("Configuration file (default: zones/rbld.yaml when present); flags take precedence.", valueName: "FILE"))
    var config: String?

    @Option(help: "UDP sockets (one thread each) per address (default: the configuration's, else one per core).")
    var threads: Int?

    @Option(help: "Seconds before an idle TCP connection is closed (RFC 7766 §6.2.3; default: the configuration's, else 10).")
    var tcpIdleTimeout: Double?

    @Option(help: "Concurrent TCP connections; more are closed at once (default: the configuration's, else 256).")
    var tcpMaxConnections: Int?

    @Option(help: "Seconds between checks of the store for changes (default: the configuration's, else 0.2).")
    var pollInterval: Double?

    @Option(help: ArgumentHelp("""
        Response rate limiting: UDP responses per second to one client network (/24, /56) in \
        one answer class; 0 = off (default: the configuration's dns.rrl.rate, else 0).
        """, valueName: "N"))
    var rrlRate: Int?

    @Option(help: ArgumentHelp("""
        Every Nth rate-limited response is sent truncated (TC=1) so resolvers retry over TCP; \
        0 = drop them all (default: the configuration's dns.rrl.slip, else 2).
        """, valueName: "N"))
    var rrlSlip: Int?
    @Option(help: ArgumentHelp(
        "Offer every served zone for transfer (AXFR, IXFR over TCP) to these client networks; adds to the configuration's transfer.allow.",
        valueName: "CIDR[,CIDR...]"))
    var allowTransfer: [String] = []

    @Option(help: ArgumentHelp("Send NOTIFY to this secondary when a zone changes (repeatable); adds to the configuration's transfer.notify.",
                               valueName: "HOST:PORT"))
    var notify: [String] = []

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (default: a --config file's, else none).", valueName: "HOST:PORT"))
    var metrics: String?

    @Option(help: ArgumentHelp("Serve the web pages and JSON API at http://HOST:PORT/ (default: a --config file's web.listen, else none).", valueName: "HOST:PORT"))
    var web: String?

    func validate() throws {
        guard (tcpIdleTimeout ?? 1) > 0, (pollInterval ?? 1) > 0, (tcpMaxConnections ?? 1) > 0, (threads ?? 1) > 0 else {
            throw ValidationError("--tcp-idle-timeout, --poll-interval, --tcp-max-connections and --threads must be positive")
        }
        guard (0...1_000_000).contains(rrlRate ?? 0), (0...100).contains(rrlSlip ?? 0) else {
            throw ValidationError("--rrl-rate must be 0 to 1000000 and --rrl-slip 0 to 100")
        }
    }

    func run() async throws {
        let configuration = try serving()
        let logger = Logger.daemon(label: "rbld.serve", level: configuration.logLevel)
        let command = self
        let role = Daemon.Role(ingests: false, appliesZoneDefinitions: config != nil, overlay: { try command.serving(from: $0) })
        let daemon = try await Daemon.start(configuration, role: role, logger: logger)
        daemon.summary.forEach { print($0) }
        flushStandardOutput()
        try await daemon.run()
    }

    /// The configuration in effect, the flags laid over it: the file's (--config, else the
    /// implicit zones/rbld.yaml) or the built-in defaults, serving on 127.0.0.1:5300 and
    /// without metrics unless told.
    func serving() throws -> Configuration {
        try serving(from: try Configuration.resolve(config))
    }

    /// `loaded` (the file, or the built-in defaults) with the flags laid over it; SIGHUP
    /// lays them over the file it reads again, so a flag keeps winning.
    func serving(from loaded: Configuration) throws -> Configuration {
        var configuration = loaded
        let file = configuration.source != nil
        if let db { configuration.db = db }
        let names: [String]
        if !zones.isEmpty {
            names = zones.map(ZoneSettings.normalizedName)
        } else if file {
            names = configuration.zoneNames
        } else {
            let known = try storeCall { () throws(StoreError) in try Store(path: configuration.db).zoneNames() }
            names = known.isEmpty ? ["bl.example.org"] : known
        }
        configuration.zones = names.map { name in configuration.zones.first { $0.settings.name == name } ?? .init(name: name) }
        do {
            if !listen.isEmpty {
                configuration.dns.listen = try listen.map { text throws(ServerError) in try ListenAddress(parsing: text) }
            } else if !file {
                configuration.dns.listen = [try ListenAddress(parsing: "127.0.0.1:5300")]
            }
            if let metrics {
                configuration.metrics = try ListenAddress(parsing: metrics)
            } else if config == nil {
                configuration.metrics = nil
            }
            if let web {
                configuration.web.listen = try ListenAddress(parsing: web)
            } else if config == nil {
                configuration.web.listen = nil
            }
        } catch {
            throw Failure(.usage, "\(error)")
        }
        if let threads { configuration.dns.udpThreads = threads }
        if let tcpIdleTimeout { configuration.dns.tcpIdleTimeout = Duration(secondsArgument: tcpIdleTimeout) }
        if let tcpMaxConnections { configuration.dns.tcpMaxConnections = tcpMaxConnections }
        if let pollInterval { configuration.dns.pollInterval = Duration(secondsArgument: pollInterval) }
        if let rrlRate { configuration.dns.rrl.rate = rrlRate }
        if let rrlSlip { configuration.dns.rrl.slip = rrlSlip }
        try applyTransferFlags(to: &configuration)
        return configuration
    }

    /// `--allow-transfer` and `--notify` for every served zone, over the configuration's rules.
    private func applyTransferFlags(to configuration: inout Configuration) throws {
        let networks = try allowTransfer.flatMap { $0.split(separator: ",") }.map { text throws(Failure) in
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            switch IPPrefix.parse(trimmed) {
            case .success(let prefix): return ClientNetwork(prefix)
            case .failure(let problem): throw Failure(.usage, "--allow-transfer: '\(trimmed)': \(problem)")
            }
        }
        let secondaries: [ListenAddress]
        do {
            secondaries = try notify.map { text throws(ServerError) in try ListenAddress(parsing: text) }
        } catch {
            throw Failure(.usage, "--notify: \(error)")
        }
        guard !networks.isEmpty || !secondaries.isEmpty else { return }
        for index in configuration.zones.indices {
            var rule = configuration.zones[index].transfer ?? ZoneTransferRule()
            rule.allow += networks
            rule.notify += secondaries
            configuration.zones[index].transfer = rule
        }
        do {
            _ = try configuration.transferPolicy()
        } catch {
            throw Failure(.usage, "--notify: \(error.reason)")
        }
    }
}
