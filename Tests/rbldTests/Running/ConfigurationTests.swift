// ConfigurationTests.swift -- the YAML configuration: the shipped file, defaults, and errors that name file, line and key.

import DNSBL
import Foundation
import Logging
import Publication
import Store
import Testing
import Web
@testable import Ingest
@testable import rbld

struct ConfigurationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped file documents the defaults: reading it gives exactly the built-in ones.
    @Test func shippedFileIsTheDefaults() throws {
        let path = Self.repository.appendingPathComponent("zones/rbld.yaml").path
        var configuration = try ConfigurationFile.load(path)
        #expect(configuration.source == path)
        configuration.source = nil
        #expect(configuration == Configuration.defaults)
    }

    @Test func emptyFileMeansDefaults() throws {
        var configuration = try ConfigurationFile.parse("", file: "empty.yaml")
        configuration.source = nil
        #expect(configuration == .defaults)
    }

    @Test func everySectionIsRead() throws {
        let configuration = try ConfigurationFile.parse("""
            db: /var/lib/rbld/rbld.sqlite
            log-level: info
            dns:
              listen: [192.0.2.1:53, "[2001:db8::1]:53"]
              udp-threads: 4
              udp-steering: hash
              tcp-idle-timeout: 30s
              tcp-max-connections: 1000
              poll-interval: 100ms
            ingest:
              maildirs: [/srv/traps/a, /srv/traps/b]
              quarantine: /srv/traps/held
              lmtp: null
              lmtp-idle-timeout: 1m
              trusted-networks: [10.0.0.0/8, "2001:db8::/32"]
              trust-loopback: false
              batch: 64
            metrics: null
            zones:
              - name: BL.Example.NET.
                ttl: 15m
                txt: "see https://bl.example.net/?ip=$"
                default-code: 4
                soa: {mname: ns1.example.net, rname: dnsbl.example.net, serial: 2026112901, minimum: 30s}
                ns: [ns1.example.net, ns2.example.net]
                policy:
                  half-life: 2d
                  threshold: 2.5
                  expiry: 1w
                  weights: {autoreply: 0.5}
                  weak-weight: 0.5
                  corroboration: {weak-hits: 3, traps: 2, window: 3d}
                  codes: {virus: 64, dsn: 128, manual: 0}
                  keep-hits: 60d
                  max-hits-per-source: 500
                  ipv6-prefix: 56
                  never-list: [special-purpose, 100.0.0.0/8]
                  listable: [127.0.0.0/8]
              - name: other.example.net
            """, file: "full.yaml")
        #expect(configuration.db == "/var/lib/rbld/rbld.sqlite")
        #expect(configuration.logLevel == .info)
        #expect(configuration.dns.listen.map(\.description) == ["192.0.2.1:53", "[2001:db8::1]:53"])
        #expect(configuration.dns.udpThreads == 4 && configuration.dns.tcpMaxConnections == 1000)
        #expect(configuration.dns.udp.steering == .hash)
        #expect(configuration.dns.tcpIdleTimeout == .seconds(30) && configuration.dns.pollInterval == .milliseconds(100))
        #expect(configuration.ingest.maildirs == ["/srv/traps/a", "/srv/traps/b"])
        #expect(configuration.ingest.quarantine == "/srv/traps/held" && configuration.ingest.lmtp == nil)
        #expect(configuration.ingest.lmtpIdleTimeout == .seconds(60) && configuration.ingest.batch == 64)
        #expect(configuration.ingest.trustedNetworks == [IPPrefix("10.0.0.0/8")!, IPPrefix("2001:db8::/32")!])
        #expect(!configuration.ingest.trustLoopback)
        #expect(configuration.metrics == nil)
        #expect(configuration.zoneNames == ["bl.example.net", "other.example.net"])
        let zone = configuration.zones[0]
        #expect(zone.settings.ttl == 900 && zone.settings.txtTemplate == "see https://bl.example.net/?ip=$")
        #expect(zone.settings.defaultCode == 4 && zone.settings.serial == 2026112901 && zone.settings.minimum == 30)
        #expect(zone.settings.mname == "ns1.example.net" && zone.settings.nameservers == ["ns1.example.net", "ns2.example.net"])
        #expect(zone.settings.refresh == ZoneSettings.defaults(zone: "x").refresh, "keys left out keep their defaults")
        #expect(zone.policy.halfLife == 2 * 86400 && zone.policy.threshold == 2.5 && zone.policy.expiry == 7 * 86400)
        #expect(zone.policy.weight(.autoreply) == 0.5 && zone.policy.weight(.dsn) == 1)
        #expect(zone.policy.weakWeight == 0.5 && zone.policy.weight(.dsn, .weak) == 0.5 && zone.policy.weight(.autoreply, .weak) == 0.25)
        #expect(zone.policy.corroboration == ListingPolicy.Corroboration(weakHits: 3, traps: 2, window: 3 * 86400))
        #expect(zone.policy.keepHits == 60 * 86400 && zone.policy.maxHitsPerSource == 500)
        #expect(zone.policy.ipv6Prefix == 56 && configuration.zones[1].policy.ipv6Prefix == 64, "a /64 unless set")
        #expect(zone.policy.codes == ReturnCodes(base: 2, bits: [.autoreply: 4, .challenge: 8, .virus: 64, .dsn: 128], manual: 0))
        #expect(zone.policy.isNeverListed(IPPrefix("100.1.2.3")!) && zone.policy.isNeverListed(IPPrefix("10.1.2.3")!))
        #expect(!zone.policy.isNeverListed(IPPrefix("127.0.0.5")!), "listable lifts loopback")
        #expect(zone.policy.isNeverListed(IPPrefix("127.0.0.1")!) && zone.policy.isNeverListed(IPPrefix("127.0.0.2")!),
                "the RFC 5782 test points stay")
        #expect(configuration.zones[1].settings == ZoneSettings.defaults(zone: "other.example.net"))
        // Ingest for the first zone: loopback not trusted, 10/8 trusted, 127/8 attributable.
        let networks = try configuration.trustedNetworks()
        #expect(!networks.contains(address: "127.0.0.5") && networks.contains(address: "10.9.9.9"))
        #expect(networks.mayBeSource(IPPrefix("127.0.0.5")!) && !networks.mayBeSource(IPPrefix("192.168.1.1")!))
    }

    /// Each bad file: the error names the line and the key, and says what is wrong.
    /// Evidence is kept at least as long as a listing can rest on it, even when keep-hits
    /// is left at its default and the expiry is longer.
    @Test func keepHitsFollowsALongerExpiry() throws {
        let configuration = try ConfigurationFile.parse("zones:\n  - name: a.example\n    policy:\n      expiry: 120d\n", file: "long.yaml")
        #expect(configuration.zones[0].policy.keepHits == 120 * 86400)
    }

    @Test(arguments: [
        ("dns:\n  listn: [127.0.0.1:53]\n", 2, "dns.listn", "unknown key"),
        ("dns:\n  listen: [127.0.0.1]\n", 2, "dns.listen[0]", "HOST:PORT"),
        ("dns:\n  listen: []\n", 2, "dns.listen", "at least one address"),
        ("dns:\n  tcp-idle-timeout: soon\n", 2, "dns.tcp-idle-timeout", "expected a duration"),
        ("dns:\n  poll-interval: 1e300s\n", 2, "dns.poll-interval", "out of range"),
        ("dns:\n  snapshot-cache-interval: 500ms\n", 2, "dns.snapshot-cache-interval", "out of range"),
        ("dns:\n  udp-threads: -1\n", 2, "dns.udp-threads", "whole number"),
        ("dns:\n  udp-steering: random\n", 2, "dns.udp-steering", "one of cpu, hash"),
        ("ingest:\n  trusted-networks: [10.0.0.1/8]\n", 2, "ingest.trusted-networks[0]", "host bits"),
        ("ingest:\n  trust-loopback: maybe\n", 2, "ingest.trust-loopback", "true or false"),
        ("log-level: loud\n", 1, "log-level", "expected one of"),
        ("zones: []\n", 1, "zones", "at least one zone"),
        ("zones:\n  - ttl: 1m\n", 2, "zones[0]", "needs a name"),
        ("zones:\n  - name: a.example\n  - name: A.example.\n", 3, "zones[1]", "configured twice"),
        ("zones:\n  - name: a.example\n    default-code: 1\n", 3, "zones[0].default-code", "from 2 to 255"),
        ("zones:\n  - name: a.example\n    txt: \"\(String(repeating: "x", count: 230))$\"\n", 3, "zones[0].txt", "255 bytes"),
        ("zones:\n  - name: a.example\n    policy:\n      weights: {bounce: 1}\n", 4, "zones[0].policy.weights.bounce", "unknown key"),
        ("zones:\n  - name: a.example\n    policy:\n      corroboration: {traps: 0}\n", 4, "zones[0].policy.corroboration.traps", "expected a whole number"),
        ("zones:\n  - name: a.example\n    policy:\n      never-list: [special]\n", 4, "zones[0].policy.never-list[0]", "special"),
        ("zones:\n  - name: a.example\n    policy:\n      codes: {base: 1}\n", 4, "zones[0].policy.codes.base", "from 2 to 255"),
        ("zones:\n  - name: a.example\n    policy:\n      codes: {bounce: 4}\n", 4, "zones[0].policy.codes.bounce", "unknown key"),
        ("zones:\n  - name: a.example\n    policy:\n      keep-hits: 14d\n", 4, "zones[0].policy.keep-hits", "at least the expiry"),
        ("zones:\n  - name: a.example\n    policy:\n      ipv6-prefix: 129\n", 4, "zones[0].policy.ipv6-prefix", "from 32 to 128"),
        ("zones:\n  - name: a.example\n    policy:\n      ipv6-prefix: 16\n", 4, "zones[0].policy.ipv6-prefix", "from 32 to 128"),
        ("zones:\n  - name: a.example\n    policy:\n      ipv6-prefix: /64\n", 4, "zones[0].policy.ipv6-prefix", "whole number"),
        ("zones:\n  - name: \"bad name!\"\n", 2, "zones[0].name", "not a valid domain name"),
        ("dns: [1, 2\n", 2, "", "not valid YAML"),
        ("dns:\n  rrl:\n    rate: -5\n", 3, "dns.rrl.rate", "from 0 to 1000000"),
        ("dns:\n  rrl:\n    ipv4-prefix: 33\n", 3, "dns.rrl.ipv4-prefix", "from 1 to 32"),
        ("dns:\n  rrl:\n    exempt: [192.0.2.1/24]\n", 3, "dns.rrl.exempt[0]", "host bits"),
        ("dns:\n  rrl:\n    burst: 5\n", 3, "dns.rrl.burst", "unknown key"),
        ("dns:\n  clients:\n    refuse: [not-a-network]\n", 3, "dns.clients.refuse[0]", "not-a-network"),
        ("dns:\n  clients:\n    daily-quota: 20000000\n", 3, "dns.clients.daily-quota", "whole number"),
        ("dns:\n  clients:\n    quota-text: \"\(String(repeating: "x", count: 230))$\"\n", 3, "dns.clients.quota-text", "255 bytes"),
        ("web:\n  listen: 8080\n", 2, "web.listen", "HOST:PORT"),
        ("web:\n  lisen: 127.0.0.1:8080\n", 2, "web.lisen", "unknown key"),
        ("web:\n  rate-limit: {per-second: -1}\n", 2, "web.rate-limit.per-second", "expected a number"),
        ("web:\n  trusted-proxies: [10.0.0.1/8]\n", 2, "web.trusted-proxies[0]", "host bits"),
        ("web:\n  admins:\n    - {name: alice}\n", 3, "web.admins[0]", "name and a password-hash"),
        ("web:\n  admins:\n    - {name: alice, password-hash: secret}\n", 3, "web.admins[0].password-hash", "bcrypt"),
        ("zones:\n  - name: a.example\n    self-service: {enabled: maybe}\n", 3, "zones[0].self-service.enabled", "true or false"),
        ("keys:\n  k1: {algorithm: hmac-md5, secret: \"YWJj\"}\n", 2, "keys.k1.algorithm", "only hmac-sha256"),
        ("keys:\n  k1: {secret: \"not base64!\"}\n", 2, "keys.k1.secret", "not base64"),
        ("zones:\n  - name: a.example\n    transfer: {key: nokey}\n", 2, "zones", "not among the keys"),
        ("zones:\n  - name: a.example\n    transfer: {}\n", 2, "zones", "an allow list, a key"),
        ("zones:\n  - name: a.example\n    transfer: {allow: [10.0.0.1/8]}\n", 3, "zones[0].transfer.allow[0]", "host bits"),
        ("exports:\n  - {zone: a.example, format: zone}\n", 2, "exports[0]", "a zone, a format"),
        ("exports:\n  - {zone: a.example, format: csv, path: a}\n", 2, "exports[0].format", "zone, rbldnsd"),
        ("exports:\n  - {zone: a.example, format: zone, family: 4, path: a}\n", 2, "exports[0].family", "both families"),
        ("exports:\n  - {zone: a.example, format: rbldnsd, family: ipv4, path: a}\n", 2, "exports[0].family", "4 or 6"),
        ("exports:\n  - {zone: a.example, format: zone, path: a, interval: 0s}\n", 2, "exports[0].interval", "out of range"),
        ("exports:\n  - {zone: a.example, format: zone, path: a, every: 1m}\n", 2, "exports[0].every", "unknown key"),
        ("exports:\n  - {zone: a.example, format: zone, path: a}\n  - {zone: a.example, format: rbldnsd, path: a}\n", 3,
         "exports[1]", "exported twice"),
        ("zones:\n  - name: a.example\nexports:\n  - {zone: b.example, format: zone, path: a}\n", 4, "exports[0]",
         "not among the configured zones"),
    ])
    func errorsNameLineAndKey(text: String, line: Int, key: String, problem: String) {
        #expect {
            _ = try ConfigurationFile.parse(text, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.file == "bad.yaml" && error.line == line && error.key == key && error.description.contains(problem)
                && error.description.hasPrefix("bad.yaml:\(line): ")
        }
    }

    @Test func abuseControlsAreRead() throws {
        let configuration = try ConfigurationFile.parse("""
            dns:
              tcp-max-connections-per-network: 4
              rrl:
                rate: 20
                slip: 3
                ipv4-prefix: 22
                ipv6-prefix: 48
                exempt: [192.0.2.0/24, "2001:db8::/32", 198.51.100.7]
                table-size: 1024
              clients:
                refuse: [203.0.113.0/24]
                fixed-code: [8.8.8.0/24, "2001:4860::/32"]
                fixed-code-text: "open resolver $"
                daily-quota: 100000
                quota-exempt: [10.0.0.0/8]
                quota-text: "over quota $"
                ipv4-prefix: 32
                ipv6-prefix: 64
                quota-table-size: 4096
            """, file: "abuse.yaml")
        #expect(configuration.dns.tcp.maxConnectionsPerNetwork == 4)
        let rrl = configuration.dns.rrl
        #expect(rrl.rate == 20 && rrl.slip == 3 && rrl.ipv4PrefixLength == 22 && rrl.ipv6PrefixLength == 48 && rrl.tableSize == 1024)
        #expect(rrl.exempt == [ClientNetwork(isIPv6: false, address: 0xC000_0200, prefixLength: 24)!,
                               ClientNetwork(isIPv6: true, address: UInt128(0x2001_0db8) << 96, prefixLength: 32)!,
                               ClientNetwork(isIPv6: false, address: 0xC633_6407, prefixLength: 32)!])
        let clients = configuration.dns.clients
        #expect(clients.refused == [ClientNetwork(isIPv6: false, address: 0xCB00_7100, prefixLength: 24)!])
        #expect(clients.fixedCodeNetworks.count == 2 && clients.fixedText == "open resolver $")
        #expect(clients.dailyQuota == 100_000 && clients.quotaText == "over quota $" && clients.quotaExempt.count == 1)
        #expect(clients.ipv4PrefixLength == 32 && clients.ipv6PrefixLength == 64 && clients.quotaTableSize == 4096)
        let publication = configuration.publication(applyingDefinitions: false)
        #expect(publication.rateLimit == rrl && publication.clientPolicy == clients)
    }

    @Test func webSectionIsRead() throws {
        let hash = "$2b$04$" + String(repeating: "a", count: 53)
        let configuration = try ConfigurationFile.parse("""
            db: /var/lib/rbld/rbld.sqlite
            web:
              listen: "[::1]:8080"
              site: Backscatter List
              contact: abuse@example.org
              trusted-proxies: [127.0.0.1/32, "::1/128"]
              trap-names: [mx.traps.example]
              rate-limit: {per-second: 2, burst: 10, delist-cost: 4}
              max-body-size: 4096
              idle-timeout: 5s
              request-timeout: 3s
              admins: [{name: alice, password-hash: '\(hash)'}]
            zones:
              - name: a.example
                self-service: {enabled: false, max-delistings: 5, window: 7d}
              - name: b.example
            """, file: "web.yaml")
        let web = try #require(configuration.webConfiguration)
        #expect(web.host == "::1" && web.port == 8080)
        #expect(web.siteName == "Backscatter List" && web.contact == "abuse@example.org")
        #expect(web.trustedProxies == [IPPrefix("127.0.0.1/32")!, IPPrefix("::1/128")!])
        #expect(web.trapNames == ["mx.traps.example"])
        #expect(web.rateLimit == .init(perSecond: 2, burst: 10, delistCost: 4))
        #expect(web.maxBodyBytes == 4096 && web.idleTimeout == .seconds(5) && web.requestTimeout == .seconds(3))
        #expect(web.admins == [.init(name: "alice", passwordHash: hash)])
        #expect(web.db == "/var/lib/rbld/rbld.sqlite" && web.zones == ["a.example", "b.example"])
        #expect(web.selfServicePolicy(zone: "a.example") == SelfServicePolicy(enabled: false, maxDelistings: 5, window: 7 * 86400))
        #expect(web.selfServicePolicy(zone: "b.example") == .defaults)
        #expect(try ConfigurationFile.parse("", file: "x.yaml").webConfiguration == nil, "off unless configured")
    }

    @Test func transferKeysAndRulesAreRead() throws {
        let configuration = try ConfigurationFile.parse("""
            keys:
              Transfer-Key.: {algorithm: HMAC-SHA256, secret: "c2VjcmV0LXNlY3JldA=="}
            zones:
              - name: a.example
                transfer: {allow: [192.0.2.0/24, "2001:db8::53"], key: transfer-key}
              - name: b.example
            """, file: "t.yaml")
        let policy = try configuration.transferPolicy()
        #expect(policy.keys.keys.sorted() == ["transfer-key"])
        #expect(policy.zones.keys.sorted() == ["a.example"])
        #expect(policy.zones["a.example"]?.allow == [ClientNetwork(IPPrefix("192.0.2.0/24")!), ClientNetwork(IPPrefix("2001:db8::53")!)])
        #expect(policy.zones["a.example"]?.key == "transfer-key")
        #expect(configuration.publication(applyingDefinitions: false).transfers == policy)
    }

    @Test func exportsAreRead() throws {
        let configuration = try ConfigurationFile.parse("""
            zones:
              - name: a.example
            exports:
              - {zone: A.Example., format: rbldnsd, path: /srv/mirror/a.v4, interval: 5m}
              - {zone: a.example, format: rbldnsd, family: 6, path: /srv/mirror/a.v6}
              - {zone: a.example, format: zone, path: /srv/mirror/a.zone}
            """, file: "e.yaml")
        #expect(configuration.exports == [
            ExportConfiguration(zone: "a.example", format: .rbldnsd, family: .v4, path: "/srv/mirror/a.v4", interval: .seconds(300)),
            ExportConfiguration(zone: "a.example", format: .rbldnsd, family: .v6, path: "/srv/mirror/a.v6", interval: .seconds(60)),
            ExportConfiguration(zone: "a.example", format: .zone, path: "/srv/mirror/a.zone"),
        ])
        #expect(configuration.exports[2].family == nil && configuration.exports[2].interval == ExportConfiguration.defaultInterval)
    }

    @Test func missingFileIsNamed() {
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.load("/nonexistent/rbld.yaml") }
        do { _ = try ConfigurationFile.load("/nonexistent/rbld.yaml") } catch { #expect(error.description.hasPrefix("/nonexistent/rbld.yaml: cannot read")) }
    }

    /// `subtracting` against a naive oracle: every address of a small universe is in the
    /// result exactly when it is in `self` and not in `other`, and the pieces are disjoint.
    @Test func subtractingMatchesTheOracle() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let base = UInt32(0x0A00_0000) | (UInt32.random(in: 0...0xFF, using: &generator) << 8)
            func randomPrefix() -> IPPrefix {
                let length = Int.random(in: 22...32, using: &generator)
                let address = base | UInt32.random(in: 0...0x3FF, using: &generator)
                return IPPrefix.host(v4: address).truncated(to: length)
            }
            let whole = randomPrefix().truncated(to: 22)
            let hole = randomPrefix()
            let pieces = whole.subtracting(hole)
            for offset in UInt32(0)..<1024 {
                let address = IPPrefix.host(v4: (base & 0xFFFF_FC00) + offset)
                let expected = whole.contains(address) && !hole.contains(address)
                let covering = pieces.filter { $0.contains(address) }.count
                #expect(covering == (expected ? 1 : 0), "\(whole) − \(hole) at \(address)")
            }
        }
    }
}
