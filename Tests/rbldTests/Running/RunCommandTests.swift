// RunCommandTests.swift -- `rbld run` as a process: start-up, SIGHUP reload, bad configurations, SIGTERM.

import Foundation
import Glibc
import Testing
import TestSupport
@testable import Ingest

@Suite(.serialized) struct RunCommandTests {
    static let rbld = rbldExecutable()

    /// A configuration on loopback with kernel-chosen ports.
    static func configuration(db: String, txt: String, extra: String = "") -> String {
        """
        db: \(db)
        dns:
          listen: [127.0.0.1:0]
          udp-threads: 1
          poll-interval: 50ms
        ingest:
          lmtp: 127.0.0.1:0
        metrics:
          listen: 127.0.0.1:0
        zones:
          - name: bl.example.org
            txt: "\(txt)"
        \(extra)
        """
    }

    /// The port after `prefix` in the daemon's start-up lines, once they are out.
    static func port(after prefix: String, in daemon: ChildProcess) -> Int? {
        var found: Int?
        _ = eventually(30) {
            guard let line = daemon.output.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return !daemon.isRunning }
            let digits = line.dropFirst(prefix.count).prefix { $0.isNumber }
            found = Int(digits)
            return true
        }
        return found
    }

    static func dig(_ port: Int, _ name: String, _ type: String) throws -> String {
        let result = try ChildProcess.run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+tries=1", "+time=2", name, type], seconds: 10)
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: RequiredTool.available("/usr/bin/dig")))
    func startsReloadsOnSIGHUPAndStopsOnSIGTERM() throws {
        let sandbox = IngestSandbox()
        let config = sandbox.path + "/rbld.yaml"
        try Self.configuration(db: sandbox.dbPath, txt: "first $").write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try ChildProcess(try #require(Self.rbld), ["run", "--config", config], logPath: sandbox.path + "/run.log")
        defer { daemon.signal(SIGKILL) }
        let port = try #require(Self.port(after: "rbld: DNS on 127.0.0.1:", in: daemon), "\(daemon.output)")
        #expect(Self.port(after: "rbld: LMTP on 127.0.0.1:", in: daemon) != nil, "\(daemon.output)")
        #expect(try Self.dig(port, "2.0.0.127.bl.example.org", "TXT") == "\"first 127.0.0.2\"")
        // Prometheus sees the query just answered, and the zone's table.
        let metricsPort = try #require(Self.port(after: "rbld: metrics on http://127.0.0.1:", in: daemon), "\(daemon.output)")
        let scrape = try MetricsEndpointTests.get("/metrics", port: metricsPort)
        #expect(scrape.status.hasPrefix("HTTP/1.1 200"), "\(scrape.lines)")
        #expect(scrape.lines.contains { $0.hasPrefix("rbld_dns_queries_total{") && $0.contains("qtype=\"TXT\"") }, "\(scrape.lines)")
        #expect(scrape.lines.contains { $0.hasPrefix("rbld_zone_entries{") }, "\(scrape.lines)")
        // Beside it, the health check: the store reads and publication keeps looking at it.
        #expect(eventually(10) { (try? MetricsEndpointTests.get("/healthz", port: metricsPort).status) == "HTTP/1.1 200 OK" })

        // A new template: served after SIGHUP, without a restart.
        try Self.configuration(db: sandbox.dbPath, txt: "second $").write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(eventually(10) { (try? Self.dig(port, "2.0.0.127.bl.example.org", "TXT")) == "\"second 127.0.0.2\"" }, "\(daemon.output)")

        // The log level applies live: info lines (a zone reloaded) appear only once it says so.
        #expect(!daemon.output.contains(" info "), "notice by default: \(daemon.output)")
        try Self.configuration(db: sandbox.dbPath, txt: "second $", extra: "log-level: info")
            .write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(eventually(10) { daemon.output.contains("SIGHUP: log level changed") }, "\(daemon.output)")
        #expect(eventually(10) { daemon.output.contains(" info rbld: ") }, "the reload's own info lines: \(daemon.output)")

        // A broken file on SIGHUP: logged with file, line and key; the running one is kept.
        try "zones:\n  - name: bl.example.org\n    ttl: later\n".write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(eventually(10) { daemon.output.contains("\(config):3: zones[0].ttl: expected a duration") }, "\(daemon.output)")
        #expect(try Self.dig(port, "2.0.0.127.bl.example.org", "TXT") == "\"second 127.0.0.2\"")
        #expect(daemon.isRunning)

        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 30) == .exited(0), "\(daemon.output)")
        // The configuration change is in the audit trail, by the actor `config`.
        #expect(try storeValue(sandbox.dbPath, "SELECT count(*) FROM audit WHERE actor = 'config' AND action = 'settings'") == 2)
    }

    /// SIGHUP applies the ingest section live: a Maildir added is watched, and a relay added
    /// to the trusted networks is looked through, so the server behind it is the source.
    @Test func sighupAppliesIngestSettingsLive() throws {
        let sandbox = IngestSandbox()
        let first = try sandbox.maildir("first")
        let second = try sandbox.maildir("second")
        let config = sandbox.path + "/rbld.yaml"
        func configure(maildirs: [Maildir], trusted: [String]) throws {
            try """
                db: \(sandbox.dbPath)
                dns: {listen: [127.0.0.1:0], udp-threads: 1, poll-interval: 50ms}
                ingest:
                  lmtp: null
                  maildirs: [\(maildirs.map(\.path).joined(separator: ", "))]
                  trusted-networks: [\(trusted.joined(separator: ", "))]
                metrics: null
                zones:
                  - name: bl.example.org
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }
        try configure(maildirs: [first], trusted: [])
        let daemon = try ChildProcess(try #require(Self.rbld), ["run", "--config", config], logPath: sandbox.path + "/run.log")
        defer { daemon.signal(SIGKILL) }
        #expect(eventually(30) { daemon.output.contains("rbld: watching \(first.path)") }, "\(daemon.output)")

        // A DSN relayed by 81.2.69.77 from 81.2.69.10, in the Maildir not watched yet.
        var message = IngestMail.dsn(source: "81.2.69.10", id: "R1")
        message = message.replacingOccurrences(of: "Delivered-To: trap.one@trap.example.net\n", with: """
            Delivered-To: trap.one@trap.example.net
            Received: from relay.example (relay.example [81.2.69.77])
            \tby mx.trap.example.net (Postfix) with ESMTP id R0; Tue, 11 Mar 2025 09:14:03 +0100 (CET)

            """)
        try message.write(toFile: second.path + "/tmp/r1", atomically: false, encoding: .utf8)
        #expect(rename(second.path + "/tmp/r1", second.path + "/new/r1") == 0)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try storeValue(sandbox.dbPath) == 0, "not watched yet")

        try configure(maildirs: [first, second], trusted: ["81.2.69.77/32"])
        daemon.signal(SIGHUP)
        #expect(eventually(15) { (try? storeValue(sandbox.dbPath)) == 1 }, "\(daemon.output)")
        #expect(daemon.output.contains("SIGHUP: ingest restarted with the new settings"), "\(daemon.output)")
        #expect(try storeValue(sandbox.dbPath, "SELECT count(*) FROM hits WHERE addr = x'5102450a'") == 1,
                "the relay is trusted: the server behind it is the source")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 30) == .exited(0), "\(daemon.output)")
    }

    /// `rbld serve` is `rbld run` without ingest: the same start-up lines, no LMTP, changes
    /// served live, SIGHUP reloads the zones from the store, SIGTERM stops with 0.
    @Test(.enabled(if: RequiredTool.available("/usr/bin/dig")))
    func serveIsRunWithoutIngest() throws {
        let sandbox = IngestSandbox()
        let rbld = try #require(Self.rbld)
        let daemon = try ChildProcess(rbld, ["serve", "--db", sandbox.dbPath, "--zone", "bl.example.org",
                                             "--listen", "127.0.0.1:0", "--poll-interval", "0.05"],
                                      logPath: sandbox.path + "/serve.log")
        defer { daemon.signal(SIGKILL) }
        let port = try #require(Self.port(after: "rbld: DNS on 127.0.0.1:", in: daemon), "\(daemon.output)")
        // A SIGHUP the moment it says where it listens is a reload, never the end of it.
        daemon.signal(SIGHUP)
        #expect(eventually(10) { daemon.output.contains("reloaded every zone from the store") }, "\(daemon.output)")
        #expect(daemon.isRunning)
        #expect(daemon.output.contains("rbld: serving bl.example.org"), "\(daemon.output)")
        #expect(!daemon.output.contains("LMTP"), "no ingest: \(daemon.output)")
        #expect(try Self.dig(port, "2.0.0.127.bl.example.org", "A") == "127.0.0.2")
        let listed = try ChildProcess.run(rbld, ["list", "81.2.69.50", "--reason", "test", "--db", sandbox.dbPath])
        #expect(listed.termination == .exited(0), "\(listed.output)")
        #expect(eventually(10) { (try? Self.dig(port, "50.69.2.81.bl.example.org", "A")) == "127.0.0.34" }, "\(daemon.output)")
        daemon.signal(SIGHUP)
        #expect(eventually(10) { daemon.output.components(separatedBy: "reloaded every zone from the store").count == 3 },
                "\(daemon.output)")
        #expect(try Self.dig(port, "50.69.2.81.bl.example.org", "A") == "127.0.0.34")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(seconds: 30) == .exited(0), "\(daemon.output)")
    }

    @Test func anInvalidConfigurationExits78NamingFileLineAndKey() throws {
        let sandbox = IngestSandbox()
        let config = sandbox.path + "/rbld.yaml"
        try "dns:\n  listen:\n    - 127.0.0.1:5300\n    - nowhere\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(try #require(Self.rbld), ["run", "--config", config, "--db", sandbox.dbPath], seconds: 30)
        #expect(result.termination == .exited(78), "\(result.output)")
        #expect(result.output.contains("\(config):4: dns.listen[1]:"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.dbPath), "nothing was started or written")
    }

    /// A socket of `type` bound to a free port on 127.0.0.1, and the port.
    static func holdPort(_ type: Int32) -> (socket: Int32, port: Int) {
        let holder = socket(AF_INET, type, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(holder, $0, &length) } }
        return (holder, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func anAddressInUseExits69() throws {
        let sandbox = IngestSandbox()
        // Hold a UDP port, then ask rbld to serve on it.
        let (holder, port) = Self.holdPort(Int32(SOCK_DGRAM.rawValue))
        defer { close(holder) }
        let config = sandbox.path + "/rbld.yaml"
        try "db: \(sandbox.dbPath)\ndns:\n  listen: [127.0.0.1:\(port)]\ningest:\n  lmtp: null\nmetrics: null\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(try #require(Self.rbld), ["run", "--config", config], seconds: 30)
        #expect(result.termination == .exited(69), "\(result.output)")
        #expect(result.output.contains("127.0.0.1:\(port)"), "the error names the address: \(result.output)")
    }

    @Test func aWebAddressInUseExits69() throws {
        let sandbox = IngestSandbox()
        // Hold a TCP port (listening), then ask rbld to serve its web side on it.
        let (holder, port) = Self.holdPort(Int32(SOCK_STREAM.rawValue))
        defer { close(holder) }
        _ = listen(holder, 1)
        let result = try ChildProcess.run(try #require(Self.rbld), ["serve", "--db", sandbox.dbPath, "--zone", "bl.example.org",
                                                                  "--listen", "127.0.0.1:0", "--web", "127.0.0.1:\(port)"], seconds: 30)
        #expect(result.termination == .exited(69), "\(result.output)")
        #expect(result.output.contains("web: cannot listen on 127.0.0.1:\(port)"), "\(result.output)")
    }

    /// The admin commands take their store and zone from the configuration, flags win.
    @Test func adminCommandsUseTheConfigurationsStoreAndZone() throws {
        let sandbox = IngestSandbox()
        let config = sandbox.path + "/rbld.yaml"
        try "db: \(sandbox.dbPath)\nzones:\n  - name: bl.example.net\n".write(toFile: config, atomically: true, encoding: .utf8)
        let rbld = try #require(Self.rbld)
        let listed = try ChildProcess.run(rbld, ["list", "81.2.69.1", "--reason", "test", "--config", config])
        #expect(listed.termination == .exited(0), "\(listed.output)")
        #expect(listed.output.contains("bl.example.net"), "\(listed.output)")
        #expect(try storeValue(sandbox.dbPath, "SELECT count(*) FROM zones WHERE name = 'bl.example.net'") == 1)
        let other = sandbox.path + "/other.sqlite"
        let flagged = try ChildProcess.run(rbld, ["list", "81.2.69.2", "--reason", "test", "--config", config, "--db", other, "--zone", "x.example"])
        #expect(flagged.termination == .exited(0), "\(flagged.output)")
        #expect(try storeValue(other, "SELECT count(*) FROM zones WHERE name = 'x.example'") == 1)
        // A broken configuration stops the command before it touches anything.
        try "zones: 7\n".write(toFile: config, atomically: true, encoding: .utf8)
        let broken = try ChildProcess.run(rbld, ["stats", "--config", config])
        #expect(broken.termination == .exited(78), "\(broken.output)")
        #expect(broken.output.contains("\(config):1: zones: expected a list"), "\(broken.output)")
    }
}
