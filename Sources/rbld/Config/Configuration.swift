// Configuration.swift -- what rbld is told to do: zones/rbld.yaml documents every key.
import DNSBL
import Glibc
import Ingest
import Logging
import Publication
import Store
import Web

/// The daemon's configuration, read from a YAML file by `ConfigurationFile` or taken
/// whole from `defaults` when there is no file.
///
/// Every value is validated when the file is read, so a `Configuration` is always usable:
/// addresses parse, zone names are valid, numbers are in range.
struct Configuration: Sendable, Equatable {
    /// The SQLite store.
    var db = "rbld.sqlite"
    var logLevel: Logger.Level = .notice
    var dns = DNS()
    var ingest = IngestSettings()
    /// Where Prometheus scrapes `/metrics`; nil: no listener.
    var metrics: ListenAddress? = try? ListenAddress(parsing: "127.0.0.1:9153")
    /// The web side (pages, JSON API, admin); off unless `listen` is set.
    var web = WebSettings()
    /// The zones served; never empty. Ingest records hits in the first.
    var zones: [Zone] = [Zone(name: "bl.example.org")]
    /// The file this came from (nil: the built-in defaults).
    var source: String?
    /// TSIG keys (`keys:`), which zones' `transfer.key` name.
    var keys: [TSIGKey] = []
    /// Export files kept current for mirrors (`exports:`).
    var exports: [ExportConfiguration] = []

    struct DNS: Sendable, Equatable {
        var listen: [ListenAddress] = ["127.0.0.1:5300", "[::1]:5300"].compactMap { try? ListenAddress(parsing: $0) }
        /// UDP sockets per address; nil: one per core.
        var udpThreads: Int?
        /// Which socket of an address a datagram goes to (`udp-steering`).
        var udpSteering: UDPSteering = .cpu
        var tcpIdleTimeout: Duration = .seconds(10)
        var tcpMaxConnections = 256
        var tcpMaxConnectionsPerNetwork = 32
        var pollInterval: Duration = .milliseconds(200)
        /// How often a changed zone's snapshot cache is written while serving.
        var snapshotCacheInterval: Duration = .seconds(600)
        /// Response rate limiting (`dns.rrl`); off while its rate is 0.
        var rrl = RateLimitConfiguration()
        /// Refused, fixed-code and quota networks (`dns.clients`).
        var clients = ClientPolicyConfiguration()

        /// The UDP server's settings: one socket (and thread) per core unless set.
        var udp: UDPServerConfiguration {
            var udp = UDPServerConfiguration()
            if let udpThreads { udp.socketsPerAddress = udpThreads }
            udp.steering = udpSteering
            return udp
        }

        /// The TCP server's settings.
        var tcp: TCPServerConfiguration {
            var tcp = TCPServerConfiguration()
            tcp.idleTimeout = tcpIdleTimeout
            tcp.maxConnections = tcpMaxConnections
            tcp.maxConnectionsPerNetwork = tcpMaxConnectionsPerNetwork
            return tcp
        }
    }

    struct IngestSettings: Sendable, Equatable {
        var maildirs: [String] = []
        var quarantine: String?
        var lmtp: ListenAddress? = try? ListenAddress(parsing: "127.0.0.1:2424")
        var lmtpIdleTimeout: Duration = .seconds(300)
        var lmtpMaxConnections = 64
        var maxMessageSize = MessageLimits.maxMessageByteCount
        var trustedNetworks: [IPPrefix] = []
        /// Whether loopback hops are always trusted (off only for a trap MX on loopback).
        var trustLoopback = true
        var batch = 256

    }

    struct WebSettings: Sendable, Equatable {
        /// Where the web side listens; nil: no web side.
        var listen: ListenAddress?
        var site = "rbld"
        var contact = ""
        var trustedProxies: [IPPrefix] = []
        var trapNames: [String] = []
        var rateLimit = WebConfiguration.RateLimit()
        var maxBodySize = 16 * 1024
        var idleTimeout: Duration = .seconds(15)
        var requestTimeout: Duration = .seconds(10)
        var admins: [WebConfiguration.Admin] = []
    }

    struct Zone: Sendable, Equatable {
        var settings: ZoneSettings
        var policy: ListingPolicy
        /// Self-service delisting on the web side.
        var selfService = SelfServicePolicy.defaults
        /// Non-public ranges the policy lists all the same (already lifted from `policy.neverList`).
        var listable: [IPPrefix] = []
        /// Who may transfer the zone and whom to notify; nil: never transferred.
        var transfer: ZoneTransferRule?

        init(name: String) {
            settings = .defaults(zone: name)
            policy = .defaults
        }
    }

    /// Served when no file is given and zones/rbld.yaml is absent: bl.example.org on
    /// loopback port 5300, LMTP on 127.0.0.1:2424, metrics on 127.0.0.1:9153.
    static let defaults = Configuration()

    /// The file used when `--config` is not given, if it exists.
    static let defaultPath = "zones/rbld.yaml"

    var zoneNames: [String] { zones.map(\.settings.name) }

    /// The zones' settings and policies, as publication writes them to the store.
    var zoneDefinitions: [ZoneDefinition] { zones.map { ZoneDefinition(settings: $0.settings, policy: $0.policy) } }

    /// What publication starts with: the store, the zones (their definitions written to the
    /// store first when `applyingDefinitions`), the DNS addresses and limits.
    func publication(applyingDefinitions: Bool) -> PublicationConfiguration {
        var publication = PublicationConfiguration(db: db, zones: zoneNames, listen: dns.listen)
        if applyingDefinitions {
            publication.definitions = zoneDefinitions
            publication.definitionSource = source ?? "defaults"
        }
        publication.udp = dns.udp
        publication.tcp = dns.tcp
        publication.pollInterval = dns.pollInterval
        publication.cacheInterval = dns.snapshotCacheInterval
        publication.rateLimit = dns.rrl
        publication.clientPolicy = dns.clients
        // Checked when the file was read (`transferPolicy()`), so it cannot fail here.
        publication.transfers = (try? transferPolicy()) ?? .none
        return publication
    }

    /// The web side's configuration, when it has an address.
    var webConfiguration: WebConfiguration? {
        guard let listen = web.listen else { return nil }
        var configuration = WebConfiguration(host: listen.host, port: Int(listen.port), db: db, zones: zoneNames)
        configuration.siteName = web.site
        configuration.contact = web.contact
        configuration.trustedProxies = web.trustedProxies
        configuration.trapNames = web.trapNames
        configuration.rateLimit = web.rateLimit
        configuration.maxBodyBytes = web.maxBodySize
        configuration.idleTimeout = web.idleTimeout
        configuration.requestTimeout = web.requestTimeout
        configuration.admins = web.admins
        configuration.selfService = Dictionary(uniqueKeysWithValues: zones.map { ($0.settings.name, $0.selfService) })
        return configuration
    }

    /// The zones' transfer rules with the keys they name.
    ///
    /// - Throws: `TransferPolicyError` when a zone names a key that is not configured, or
    ///   allows transfers to any address without a key.
    func transferPolicy() throws(TransferPolicyError) -> TransferPolicy {
        var rules: [String: ZoneTransferRule] = [:]
        for zone in zones { if let rule = zone.transfer { rules[zone.settings.name] = rule } }
        return try TransferPolicy(zones: rules, keys: keys)
    }

    /// What attribution trusts and accepts for the zone ingest records into (the first):
    /// the trusted networks (and loopback, unless trust-loopback is false), and the zone's
    /// listable ranges as possible sources although they are not public.
    func trustedNetworks() throws(TrustedNetworks.ParseError) -> TrustedNetworks {
        var networks = ingest.trustLoopback ? TrustedNetworks() : .nothing
        for network in ingest.trustedNetworks { try networks.add(network.description) }
        for range in zones.first?.listable ?? [] { try networks.attributeAsPublic(range.description) }
        return networks
    }
}

extension ListingPolicy {
    /// The never-list after taking `listable` out of it, for a configuration that lists
    /// test or lab networks. The RFC 5782 test points 127.0.0.1 and 127.0.0.2 stay: the
    /// DNS side answers them the same whatever the store holds, and `show` should agree.
    static func neverList(_ ranges: [IPPrefix], lifting listable: [IPPrefix]) -> [IPPrefix] {
        var remaining = ranges
        for lifted in listable {
            remaining = remaining.flatMap { $0.subtracting(lifted) }
        }
        let testPoints = ["127.0.0.1", "127.0.0.2"].compactMap(IPPrefix.init)
        return remaining + testPoints.filter { point in !remaining.contains { $0.contains(point) } }
    }
}

extension IPPrefix {
    /// This prefix without `other`: itself when they do not overlap, nothing when `other`
    /// covers it, else the fewest prefixes that cover the rest (one per bit of the gap).
    func subtracting(_ other: IPPrefix) -> [IPPrefix] {
        if other.contains(self) { return [] }
        guard contains(other) else { return [self] }
        var rest: [IPPrefix] = []
        var current = self
        while current.length < other.length {
            let lower = current.halves.lower
            let upper = current.halves.upper
            if lower.contains(other) {
                rest.append(upper)
                current = lower
            } else {
                rest.append(lower)
                current = upper
            }
        }
        return rest
    }

    /// The two prefixes one bit longer that make up this one.
    private var halves: (lower: IPPrefix, upper: IPPrefix) {
        let length = length + 1
        let bit = UInt128(1) << UInt128(family.bitCount - length)
        // Both exist: `length` is at most the family's bit count and the host bits are clear.
        return (IPPrefix(family: family, address: address, length: length)!,
                IPPrefix(family: family, address: address | bit, length: length)!)
    }
}
