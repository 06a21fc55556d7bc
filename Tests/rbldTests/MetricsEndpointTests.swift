// MetricsEndpointTests.swift -- /metrics scraped over a real loopback socket, with a live DNS server behind it.

import DNSBL
import Foundation
import Glibc
import Ingest
import Logging
import Store
import Testing
import TestSupport
@testable import rbld

@Suite struct MetricsEndpointTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.metrics")
        logger.logLevel = .critical
        return logger
    }()

    /// One HTTP/1.1 request with `Connection: close`; the status line, headers and body lines.
    static func get(_ path: String, port: Int, method: String = "GET") throws -> (status: String, lines: [String]) {
        let client = try LineClient(port: port)
        client.send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        var lines: [String] = []
        while let line = client.line() { lines.append(line) }
        return (lines.first ?? "", lines)
    }

    /// Sends one DNS query over UDP and waits for the answer.
    static func query(_ name: String, type: UInt16, port: UInt16) -> Bool {
        var packet: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") { packet += [UInt8(label.utf8.count)] + Array(label.utf8) }
        packet += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var reply = [UInt8](repeating: 0, count: 1232)
        return reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } > 0
    }

    static func servedZone() throws -> SnapshotStore {
        var builder = PrefixTableBuilder()
        builder.insert(v4: 0xC633_6407, prefixLength: 32, value: TableValue(listing: 1))   // 198.51.100.7
        let config = ZoneConfig(
            name: "bl.example.org",
            soa: SOAFields(mname: "ns1.example.org", rname: "hostmaster.example.org", serial: 42),
            nameservers: ["ns1.example.org"], listings: [ListingClass(code: 2, text: "listed $")])
        return SnapshotStore(ServedZones([try ZoneSnapshot(config: config, table: builder.freeze())]))
    }

    @Test func scrapeShowsDNSZoneIngestAndProcessMetrics() async throws {
        let snapshots = try Self.servedZone()
        let server = DNSServer(responder: Responder(store: snapshots, clock: { 1_000_000 }),
                               addresses: [try ListenAddress(parsing: "127.0.0.1:0")], logger: Self.logger)
        try await server.start()
        let dnsPort = server.boundAddresses[0].port
        #expect(Self.query("7.100.51.198.bl.example.org", type: 1, port: dnsPort))    // listed
        #expect(Self.query("7.100.51.198.bl.example.org", type: 1, port: dnsPort))
        #expect(Self.query("8.100.51.198.bl.example.org", type: 16, port: dnsPort))   // NXDOMAIN

        let metrics = RBLDMetrics()
        metrics.observe(dns: server)
        metrics.observe(snapshots: snapshots)
        metrics.recordIngest(.notBackscatter, classification: nil)
        metrics.storeCommit(.milliseconds(3))
        metrics.published(lag: .milliseconds(40))
        metrics.exportWritten(zone: "bl.example.org", path: "/srv/mirror/bl.v4", at: 1_000_000)
        metrics.exportFailed(zone: "bl.example.org", path: "/srv/mirror/bl.v6", StoreError(.io, "test"))
        // An AXFR from a client outside the allow list: refused by the access list.
        let rule = ZoneTransferRule(allow: [ClientNetwork(IPPrefix("192.0.2.0/24")!)])
        let transfers = ZoneTransfers(policy: try TransferPolicy(zones: ["bl.example.org": rule]), snapshots: snapshots, clock: { 1 })
        var axfr: [UInt8] = [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2] + Array("bl".utf8) + [7] + Array("example".utf8)
        axfr += [3] + Array("org".utf8) + [0, 0, 252, 0, 1]
        let loopback = TransferClient(address: 0x7F00_0001, isIPv6: false, description: "127.0.0.1")
        _ = axfr.withUnsafeBytes { transfers.start(query: $0, client: loopback) }
        metrics.observe(transfers: transfers, notifier: nil)
        let endpoint = metrics.endpoint(address: try ListenAddress(parsing: "127.0.0.1:0"), logger: Self.logger)
        let port = Int(try await endpoint.start().port)

        let (status, lines) = try Self.get("/metrics", port: port)
        #expect(status == "HTTP/1.1 200 OK")
        #expect(lines.contains { $0.lowercased() == "content-type: text/plain; version=0.0.4; charset=utf-8" })
        for expected in [
            "# TYPE rbld_dns_queries_total counter",
            #"rbld_dns_queries_total{transport="udp",zone="bl.example.org",qtype="A",rcode="NOERROR",listed="true"} 2"#,
            #"rbld_dns_queries_total{transport="udp",zone="bl.example.org",qtype="TXT",rcode="NXDOMAIN",listed="false"} 1"#,
            #"rbld_dns_received_total{transport="udp"} 3"#,
            #"rbld_dns_dropped_total{transport="udp",reason="unanswerable"} 0"#,
            "# TYPE rbld_zone_entries gauge",
            #"rbld_zone_entries{zone="bl.example.org",family="ipv4"} 1.0"#,     // gauges are doubles
            #"rbld_zone_serial{zone="bl.example.org"} 42.0"#,
            #"rbld_ingest_messages_total{outcome="not-backscatter",verdict="none",kind="none"} 1"#,
            "# TYPE rbld_store_commit_seconds histogram",
            #"rbld_store_commit_seconds_bucket{le="0.005"} 1"#,
            "rbld_publication_lag_seconds_count 1",
            "# TYPE rbld_process_resident_memory_bytes gauge",
            "# TYPE rbld_process_open_fds gauge",
            #"rbld_exports_written_total{zone="bl.example.org",file="/srv/mirror/bl.v4"} 1"#,
            #"rbld_exports_failed_total{zone="bl.example.org",file="/srv/mirror/bl.v6"} 1"#,
            #"rbld_transfer_served_total{type="axfr"} 0"#,
            #"rbld_transfer_refused_total{reason="acl"} 1"#,
            #"rbld_transfer_refused_total{reason="tsig"} 0"#,
        ] {
            let found = lines.contains(expected)
            #expect(found, "missing: \(expected)\n\(lines.joined(separator: "\n"))")
        }
        #expect(lines.contains { $0.hasPrefix(#"rbld_export_last_written_timestamp_seconds{zone="bl.example.org",file="/srv/mirror/bl.v4"} "#) })
        // A second scrape adds only what grew: the counters are not added twice.
        #expect(Self.query("7.100.51.198.bl.example.org", type: 1, port: dnsPort))
        let (_, again) = try Self.get("/metrics", port: port)
        #expect(again.contains(#"rbld_dns_queries_total{transport="udp",zone="bl.example.org",qtype="A",rcode="NOERROR",listed="true"} 3"#))

        await endpoint.stop()
        await server.stop()
    }

    /// `/healthz`: 200 while the store reads and publication keeps looking at it; 503 with
    /// the reason when the store cannot be read or publication has stopped reading it.
    @Test func healthSaysWhetherTheStoreReadsAndPublicationKeepsUp() async throws {
        let directory = TemporaryDirectory()
        let db = directory.file("rbld.sqlite")
        let now: Int64 = 1_800_000_000
        let store = try Store(path: db, clock: { now - 60 })
        let hit = Hit(source: IPPrefix("81.2.69.60")!, kind: .dsn, time: now - 60, trap: "…@trap.example.org",
                      digest: Array("health".utf8))
        _ = try store.recordHit(hit, zone: "bl.example.org")
        let metrics = RBLDMetrics()
        let check = HealthCheck(db: db, pollInterval: .milliseconds(200), publication: metrics.publicationHealth, clock: { now })

        metrics.storeRead(at: now - 1)
        metrics.published(lag: .milliseconds(30))
        let healthy = check.report()
        #expect(healthy.isHealthy && healthy.problems.isEmpty, "\(healthy)")
        let serial = try store.changeSerial()
        #expect(healthy.storeReadable && healthy.storeSerial == serial)
        #expect(healthy.lastHit == "2027-01-15T07:59:00Z" && healthy.secondsSinceLastHit == 60, "\(healthy)")
        #expect(healthy.secondsSinceStoreRead == 1 && healthy.lastPublicationLagSeconds == 0.03)

        // Publication's reads fail for longer than ten polls (here: ten seconds, the least).
        metrics.storeRead(at: now - 11)
        metrics.storeReadFailed(StoreError(.busy, "\(db): database is locked"))
        let stale = check.report()
        #expect(!stale.isHealthy && stale.publicationFailuresSinceRead == 1)
        #expect(stale.problems == ["publication has not read the store for 11 s; last error: \(db): database is locked"], "\(stale)")

        // The store itself is gone.
        metrics.storeRead(at: now)
        try FileManager.default.moveItem(atPath: db, toPath: db + ".moved")
        let gone = check.report()
        #expect(!gone.isHealthy && !gone.storeReadable)
        #expect(gone.problems.count == 1 && gone.problems[0].hasPrefix("store \(db) cannot be read"), "\(gone)")

        // Over HTTP: the status code says it, the body explains.
        let endpoint = metrics.endpoint(address: try ListenAddress(parsing: "127.0.0.1:0"), health: check, logger: Self.logger)
        let port = Int(try await endpoint.start().port)
        let (failing, body) = try Self.get("/healthz", port: port)
        #expect(failing == "HTTP/1.1 503 Service Unavailable", "\(body)")
        #expect(body.contains { $0.contains(#""status" : "failing""#) }, "\(body)")
        try FileManager.default.moveItem(atPath: db + ".moved", toPath: db)
        let (ok, _) = try Self.get("/healthz", port: port)
        #expect(ok == "HTTP/1.1 200 OK")
        let (posted, _) = try Self.get("/healthz", port: port, method: "POST")
        #expect(posted.hasPrefix("HTTP/1.1 405"))
        await endpoint.stop()
    }

    @Test func otherPathsAre404AndOtherMethods405() async throws {
        let endpoint = RBLDMetrics().endpoint(address: try ListenAddress(parsing: "127.0.0.1:0"), logger: Self.logger)
        let port = Int(try await endpoint.start().port)
        #expect(try Self.get("/", port: port).status == "HTTP/1.1 404 Not Found")
        #expect(try Self.get("/metricsx", port: port).status == "HTTP/1.1 404 Not Found")
        #expect(try Self.get("/metrics", port: port, method: "POST").status == "HTTP/1.1 405 Method Not Allowed")
        #expect(try Self.get("/metrics?name[]=x", port: port).status == "HTTP/1.1 200 OK")
        await endpoint.stop()
    }

    @Test func bindFailureNamesTheAddress() async throws {
        let first = RBLDMetrics().endpoint(address: try ListenAddress(parsing: "127.0.0.1:0"), logger: Self.logger)
        let bound = try await first.start()
        let second = RBLDMetrics().endpoint(address: bound, logger: Self.logger)
        do {
            _ = try await second.start()
            Issue.record("a second endpoint bound \(bound)")
        } catch {
            #expect("\(error)".hasPrefix("metrics \(bound): cannot listen: "), "\(error)")
        }
        await first.stop()
    }
}
