// Run.swift -- `rbld run`: the default deployment, everything in one process.
import ArgumentParser
import Glibc
import DNSBL
import Logging

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the DNSBL, ingest trap mail, expire and publish: everything in one process.",
        discussion: """
            Reads the configuration (--config, else zones/rbld.yaml when present, else the \
            built-in defaults: bl.example.org on 127.0.0.1:5300 and [::1]:5300, LMTP on \
            127.0.0.1:2424, metrics on 127.0.0.1:9153, ./rbld.sqlite). Start-up is ordered: \
            the store, the zones, the DNS sockets, then the LMTP listener; any failure exits \
            before serving. SIGTERM and SIGINT stop gracefully: messages in flight are \
            finished or left unprocessed, never lost. SIGHUP re-reads the configuration and \
            applies it without dropping a query: zones, their settings and policies, the log \
            level, dns.listen (new addresses bound before removed ones close), the ingest \
            section (Maildirs, trusted networks, LMTP address: ingest finishes its messages \
            in flight and starts anew) and the metrics address; the rest (db, other dns keys, \
            web) is logged as taking effect at the next restart. \
            Exit status: 0 after a clean stop; 64 usage; 65 bad data in the store; \
            66 a Maildir is missing; 69 an address cannot be bound; 74 the store cannot be \
            opened; 78 the configuration is invalid. The web side (pages, JSON API, \
            /admin; docs/WEB.md) runs when the configuration's web.listen or --web is set. \
            The configuration's exports: (files for rsync mirrors, docs/MIRRORS.md) are \
            rewritten whenever their zone changed.
            """)

    @Option(help: ArgumentHelp("Configuration file (default: zones/rbld.yaml when present).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("The SQLite store, instead of the configuration's db.", valueName: "PATH"))
    var db: String?

    @Option(help: ArgumentHelp("Serve the web pages and JSON API at http://HOST:PORT/, instead of the configuration's web.listen.", valueName: "HOST:PORT"))
    var web: String?

    func run() async throws {
        var configuration = try Configuration.resolve(config)
        if let db { configuration.db = db }
        if let web {
            do { configuration.web.listen = try ListenAddress(parsing: web) } catch { throw Failure(.usage, "--web: \(error)") }
        }
        let logger = Logger.daemon(label: "rbld", level: configuration.logLevel)
        let (db, web) = (self.db, self.web)
        let role = Daemon.Role(overlay: { loaded in
            var configuration = loaded
            if let db { configuration.db = db }
            if let web { configuration.web.listen = try ListenAddress(parsing: web) }
            return configuration
        })
        let daemon = try await Daemon.start(configuration, role: role, logger: logger)
        print("rbld: configuration \(configuration.source ?? "built-in defaults")")
        daemon.summary.forEach { print($0) }
        flushStandardOutput()
        try await daemon.run()
    }
}
