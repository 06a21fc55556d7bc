// ConfigurationFile.swift -- reads and checks the YAML configuration; errors name file, line and key.
import DNSBL
import Foundation
import Ingest
import Logging
import Publication
import Store
import Web
import Yams

/// A configuration file that cannot be used: where, which key, and what is wrong.
struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    let file: String
    let line: Int?
    /// The key path, as `zones[0].soa.ttl` (empty for the document itself).
    let key: String
    let problem: String

    var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(problem)" : "\(place): \(key): \(problem)"
    }
}

/// Reads a configuration file in the format zones/rbld.yaml documents.
///
/// Keys may be left out (their defaults apply); unknown keys are errors, so that a typo
/// never silently falls back to a default.
///
/// ```swift
/// let configuration = try ConfigurationFile.load("zones/rbld.yaml")
/// ```
enum ConfigurationFile {
    static func load(_ path: String) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, line: nil, key: "", problem: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try parse(text, file: path)
    }

    static func parse(_ text: String, file: String) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: Self.line(of: error), key: "", problem: "not valid YAML: \(Self.problem(of: error))")
        } catch {
            throw ConfigurationError(file: file, line: nil, key: "", problem: "not valid YAML: \(error)")
        }
        var configuration = Configuration()
        configuration.source = file
        guard let root else { return configuration }  // an empty file: every default
        try Value(node: root, key: "", file: file).read(into: &configuration)
        return configuration
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    private static func problem(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            (context.map { "\($0.text) " } ?? "") + problem
        default: "\(error)"
        }
    }
}

/// One node of the document with the key path that leads to it, for errors.
private struct Value {
    let node: Node
    let key: String
    let file: String

    func error(_ problem: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node.mark?.line, key: key, problem: problem)
    }

    var isNull: Bool { node.null != nil }

    /// The entries of a mapping, checked against the keys it may have.
    func mapping(_ allowed: Set<String>) throws(ConfigurationError) -> [String: Value] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of keys to values") }
        var entries: [String: Value] = [:]
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            let path = key.isEmpty ? name : "\(key).\(name)"
            guard allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw ConfigurationError(file: file, line: keyNode.mark?.line, key: path, problem: "unknown key (known here: \(known))")
            }
            entries[name] = Value(node: valueNode, key: path, file: file)
        }
        return entries
    }

    func list() throws(ConfigurationError) -> [Value] {
        if isNull { return [] }
        guard case .sequence(let sequence) = node else { throw error("expected a list") }
        return sequence.enumerated().map { Value(node: $1, key: "\(key)[\($0)]", file: file) }
    }

    func string() throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw error("expected a value") }
        return scalar.string
    }

    func optionalString() throws(ConfigurationError) -> String? {
        isNull ? nil : try string()
    }

    /// One of `Choice`'s values, by name.
    func choice<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) throws(ConfigurationError) -> Choice
        where Choice.RawValue == String {
        guard let value = Choice(rawValue: try string()) else {
            throw error("expected one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    func int(in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let value = Int(try string().replacingOccurrences(of: "_", with: "")), range.contains(value) else {
            throw error("expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func double(in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        guard let value = Double(try string()), range.contains(value) else {
            throw error("expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A duration: seconds, or a number with ms, s, m, h, d or w.
    func duration(in range: ClosedRange<Duration>) throws(ConfigurationError) -> Duration {
        let text = try string().trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604_800)]
        let unit = units.first { text.hasSuffix($0.suffix) && Double(text.dropLast($0.suffix.count)) != nil }
        let number = Double(unit.map { String(text.dropLast($0.suffix.count)) } ?? text)
        guard let number, number.isFinite, number >= 0 else {
            throw error("expected a duration such as 30s, 15m, 7d or a number of seconds, not '\(text)'")
        }
        // A number too large for Int64 milliseconds (1e300s) is out of every range; it must
        // not reach the conversion, which traps.
        let milliseconds = (number * (unit?.seconds ?? 1) * 1000).rounded()
        let upper = Double(range.upperBound.components.seconds) * 1000 + 1000
        guard milliseconds <= upper, case let duration = Duration.milliseconds(Int64(milliseconds)), range.contains(duration) else {
            throw error("\(text) is out of range (\(range.lowerBound) to \(range.upperBound))")
        }
        return duration
    }

    /// A duration in whole seconds, as DNS TTLs and SOA timers are.
    func seconds(max: Int64 = Int64(Int32.max)) throws(ConfigurationError) -> Int64 {
        try duration(in: .zero ... .seconds(max)).components.seconds
    }

    func address() throws(ConfigurationError) -> ListenAddress {
        let text = try string()
        do { return try ListenAddress(parsing: text) } catch { throw self.error("\(error.reason)") }
    }

    func optionalAddress() throws(ConfigurationError) -> ListenAddress? {
        isNull ? nil : try address()
    }

    func prefix() throws(ConfigurationError) -> IPPrefix {
        let text = try string()
        switch IPPrefix.parse(text) {
        case .success(let prefix): return prefix
        case .failure(let problem): throw error("'\(text)': \(problem)")
        }
    }

    func domainName() throws(ConfigurationError) -> String {
        let name = ZoneSettings.normalizedName(try string())
        guard Store.isValidZoneName(name) else { throw error("'\(name)' is not a valid domain name") }
        return name
    }

    // MARK: - The document

    func read(into configuration: inout Configuration) throws(ConfigurationError) {
        let keys = try mapping(["db", "log-level", "dns", "ingest", "metrics", "web", "keys", "zones", "exports"])
        if let db = keys["db"] { configuration.db = try db.string() }
        if let level = keys["log-level"] { configuration.logLevel = try level.choice(Logger.Level.self) }
        if let dns = keys["dns"], !dns.isNull { try dns.readDNS(into: &configuration.dns) }
        if let ingest = keys["ingest"], !ingest.isNull { try ingest.readIngest(into: &configuration.ingest) }
        if let metrics = keys["metrics"] {
            configuration.metrics = metrics.isNull ? nil : try metrics.mapping(["listen"])["listen"]?.optionalAddress()
        }
        if let web = keys["web"], !web.isNull { try web.readWeb(into: &configuration.web) }
        if let zones = keys["zones"] {
            let list = try zones.list()
            guard !list.isEmpty else { throw zones.error("at least one zone is needed") }
            configuration.zones = try list.map { value throws(ConfigurationError) in try value.zone() }
            var seen = Set<String>()
            for (value, zone) in zip(list, configuration.zones) where !seen.insert(zone.settings.name).inserted {
                throw value.error("zone \(zone.settings.name) is configured twice")
            }
        }
        if let tsig = keys["keys"], !tsig.isNull {
            configuration.keys = try tsig.tsigKeys()
        }
        if let exports = keys["exports"] {
            let list = try exports.list()
            configuration.exports = try list.map { value throws(ConfigurationError) in try value.export() }
            var paths = Set<String>()
            for (value, export) in zip(list, configuration.exports) {
                guard paths.insert(export.path).inserted else { throw value.error("\(export.path) is exported twice") }
                // `rbld serve` may serve zones from the store alone; a file's zones are known.
                if keys["zones"] != nil, !configuration.zoneNames.contains(export.zone) {
                    throw value.error("zone \(export.zone) is not among the configured zones")
                }
            }
        }
        do {
            _ = try configuration.transferPolicy()
        } catch {
            throw (keys["zones"] ?? self).error(error.reason)
        }
    }

    /// `keys:`: TSIG keys by name, each `{algorithm: hmac-sha256, secret: BASE64}`.
    func tsigKeys() throws(ConfigurationError) -> [TSIGKey] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping of key names to keys") }
        var result: [TSIGKey] = []
        for (nameNode, valueNode) in mapping {
            let name = nameNode.string ?? ""
            let value = Value(node: valueNode, key: key + "." + name, file: file)
            let fields = try value.mapping(["algorithm", "secret"])
            if let algorithm = fields["algorithm"], try algorithm.string().lowercased() != TSIGKey.algorithmName {
                throw algorithm.error("only \(TSIGKey.algorithmName) is supported")
            }
            guard let secretValue = fields["secret"] else { throw value.error("a key needs a secret (base64)") }
            // The secret itself is never quoted in an error.
            guard let secret = Data(base64Encoded: try secretValue.string()), !secret.isEmpty else {
                throw secretValue.error("the secret is not base64 (as tsig-keygen or keymgr print it)")
            }
            do {
                result.append(try TSIGKey(name: name, secret: Array(secret)))
            } catch {
                throw value.error(error.reason)
            }
        }
        return result
    }

    /// One `exports:` entry: `{zone: NAME, format: zone|rbldnsd, family: 4|6, path: FILE,
    /// interval: DURATION}`.
    func export() throws(ConfigurationError) -> ExportConfiguration {
        let keys = try mapping(["zone", "format", "family", "path", "interval"])
        guard let zone = keys["zone"], let formatValue = keys["format"], let path = keys["path"] else {
            throw error("an export needs a zone, a format (zone or rbldnsd) and a path")
        }
        let format = try formatValue.choice(ExportFormat.self)
        var family: IPPrefix.Family?
        if let familyValue = keys["family"] {
            switch try familyValue.string() {
            case "4": family = .v4
            case "6": family = .v6
            default: throw familyValue.error("expected 4 or 6")
            }
            guard format == .rbldnsd else { throw familyValue.error("a zone file holds both families: leave out family") }
        }
        let file = try path.string()
        guard !file.isEmpty, !file.hasSuffix("/") else { throw path.error("expected a file name") }
        let interval = try keys["interval"]?.duration(in: .seconds(1) ... .seconds(86400)) ?? ExportConfiguration.defaultInterval
        return ExportConfiguration(zone: try zone.domainName(), format: format, family: family, path: file, interval: interval)
    }

    /// A zone's `transfer:` section.
    func transferRule() throws(ConfigurationError) -> ZoneTransferRule {
        let keys = try mapping(["allow", "notify", "key"])
        var rule = ZoneTransferRule()
        if let allow = keys["allow"] {
            rule.allow = try allow.networks()
        }
        if let notify = keys["notify"] {
            rule.notify = try notify.list().map { value throws(ConfigurationError) in try value.address() }
        }
        if let key = keys["key"] { rule.key = try key.optionalString() }
        return rule
    }

    func readDNS(into dns: inout Configuration.DNS) throws(ConfigurationError) {
        let keys = try mapping(["listen", "udp-threads", "udp-steering", "tcp-idle-timeout", "tcp-max-connections",
                                "tcp-max-connections-per-network", "poll-interval", "snapshot-cache-interval", "rrl", "clients"])
        if let listen = keys["listen"] {
            let values = try listen.list()
            guard !values.isEmpty else { throw listen.error("at least one address is needed") }
            dns.listen = try values.map { value throws(ConfigurationError) in try value.address() }
        }
        if let threads = keys["udp-threads"] {
            let count = try threads.int(in: 0...256)
            dns.udpThreads = count == 0 ? nil : count
        }
        if let steering = keys["udp-steering"] { dns.udpSteering = try steering.choice(UDPSteering.self) }
        if let timeout = keys["tcp-idle-timeout"] { dns.tcpIdleTimeout = try timeout.duration(in: .milliseconds(100) ... .seconds(3600)) }
        if let cap = keys["tcp-max-connections"] { dns.tcpMaxConnections = try cap.int(in: 1...100_000) }
        if let cap = keys["tcp-max-connections-per-network"] { dns.tcpMaxConnectionsPerNetwork = try cap.int(in: 0...100_000) }
        if let poll = keys["poll-interval"] { dns.pollInterval = try poll.duration(in: .milliseconds(10) ... .seconds(60)) }
        if let cache = keys["snapshot-cache-interval"] {
            dns.snapshotCacheInterval = try cache.duration(in: .seconds(1) ... .seconds(86_400))
        }
        if let rrl = keys["rrl"], !rrl.isNull { try rrl.readRateLimit(into: &dns.rrl) }
        if let clients = keys["clients"], !clients.isNull { try clients.readClients(into: &dns.clients) }
    }

    func readRateLimit(into rrl: inout RateLimitConfiguration) throws(ConfigurationError) {
        let keys = try mapping(["rate", "slip", "ipv4-prefix", "ipv6-prefix", "exempt", "table-size"])
        if let rate = keys["rate"] { rrl.rate = try rate.int(in: 0...1_000_000) }
        if let slip = keys["slip"] { rrl.slip = try slip.int(in: 0...100) }
        if let length = keys["ipv4-prefix"] { rrl.ipv4PrefixLength = try length.int(in: 1...32) }
        if let length = keys["ipv6-prefix"] { rrl.ipv6PrefixLength = try length.int(in: 1...128) }
        if let exempt = keys["exempt"] { rrl.exempt = try exempt.networks() }
        if let size = keys["table-size"] { rrl.tableSize = try size.int(in: 4...(1 << 26)) }
    }

    func readClients(into clients: inout ClientPolicyConfiguration) throws(ConfigurationError) {
        let keys = try mapping(["refuse", "fixed-code", "fixed-code-text", "daily-quota", "quota-exempt", "quota-text",
                                "ipv4-prefix", "ipv6-prefix", "quota-table-size"])
        if let refuse = keys["refuse"] { clients.refused = try refuse.networks() }
        if let fixed = keys["fixed-code"] { clients.fixedCodeNetworks = try fixed.networks() }
        if let text = keys["fixed-code-text"] { clients.fixedText = try text.txtTemplate() }
        if let quota = keys["daily-quota"] { clients.dailyQuota = try quota.int(in: 0...ClientPolicyConfiguration.maxDailyQuota) }
        if let exempt = keys["quota-exempt"] { clients.quotaExempt = try exempt.networks() }
        if let text = keys["quota-text"] { clients.quotaText = try text.txtTemplate() }
        if let length = keys["ipv4-prefix"] { clients.ipv4PrefixLength = try length.int(in: 1...32) }
        if let length = keys["ipv6-prefix"] { clients.ipv6PrefixLength = try length.int(in: 1...128) }
        if let size = keys["quota-table-size"] { clients.quotaTableSize = try size.int(in: 4...(1 << 26)) }
    }

    /// A list of networks (CIDR, or an address for a single host).
    func networks() throws(ConfigurationError) -> [ClientNetwork] {
        try list().map { value throws(ConfigurationError) in ClientNetwork(try value.prefix()) }
    }

    /// A TXT template that fits one TXT string once an IPv6 address replaces each `$`.
    func txtTemplate() throws(ConfigurationError) -> String {
        let text = try string()
        let worst = text.utf8.count + text.filter { $0 == "$" }.count * 38
        guard worst <= 255 else { throw error("longer than 255 bytes once an IPv6 address replaces $ (\(worst) bytes)") }
        return text
    }

    func readIngest(into ingest: inout Configuration.IngestSettings) throws(ConfigurationError) {
        let keys = try mapping(["maildirs", "quarantine", "lmtp", "lmtp-idle-timeout", "lmtp-max-connections",
                                "max-message-size", "trusted-networks", "trust-loopback", "batch"])
        if let maildirs = keys["maildirs"] { ingest.maildirs = try maildirs.list().map { value throws(ConfigurationError) in try value.string() } }
        if let quarantine = keys["quarantine"] { ingest.quarantine = try quarantine.optionalString() }
        if let lmtp = keys["lmtp"] { ingest.lmtp = try lmtp.optionalAddress() }
        if let timeout = keys["lmtp-idle-timeout"] { ingest.lmtpIdleTimeout = try timeout.duration(in: .seconds(1) ... .seconds(86400)) }
        if let cap = keys["lmtp-max-connections"] { ingest.lmtpMaxConnections = try cap.int(in: 1...10_000) }
        if let size = keys["max-message-size"] { ingest.maxMessageSize = try size.int(in: 1024...(1 << 30)) }
        if let trusted = keys["trusted-networks"] {
            ingest.trustedNetworks = try trusted.list().map { value throws(ConfigurationError) in try value.prefix() }
        }
        if let trust = keys["trust-loopback"] {
            switch try trust.string() {
            case "true", "yes", "on": ingest.trustLoopback = true
            case "false", "no", "off": ingest.trustLoopback = false
            default: throw trust.error("expected true or false")
            }
        }
        if let batch = keys["batch"] { ingest.batch = try batch.int(in: 1...100_000) }
    }

    func readWeb(into web: inout Configuration.WebSettings) throws(ConfigurationError) {
        let keys = try mapping(["listen", "site", "contact", "trusted-proxies", "trap-names", "rate-limit", "max-body-size",
                                "idle-timeout", "request-timeout", "admins"])
        if let listen = keys["listen"] { web.listen = try listen.optionalAddress() }
        if let site = keys["site"] { web.site = try site.string() }
        if let contact = keys["contact"] { web.contact = try contact.optionalString() ?? "" }
        if let proxies = keys["trusted-proxies"] {
            web.trustedProxies = try proxies.list().map { value throws(ConfigurationError) in try value.prefix() }
        }
        if let names = keys["trap-names"] {
            web.trapNames = try names.list().map { value throws(ConfigurationError) in try value.domainName() }
        }
        if let rate = keys["rate-limit"], !rate.isNull {
            let rateKeys = try rate.mapping(["per-second", "burst", "delist-cost"])
            if let value = rateKeys["per-second"] { web.rateLimit.perSecond = try value.double(in: 0...1_000_000) }
            if let value = rateKeys["burst"] { web.rateLimit.burst = try value.double(in: 1...1_000_000) }
            if let value = rateKeys["delist-cost"] { web.rateLimit.delistCost = try value.double(in: 1...1_000_000) }
        }
        if let size = keys["max-body-size"] { web.maxBodySize = try size.int(in: 256...(1 << 20)) }
        if let timeout = keys["idle-timeout"] { web.idleTimeout = try timeout.duration(in: .seconds(1) ... .seconds(3600)) }
        if let timeout = keys["request-timeout"] { web.requestTimeout = try timeout.duration(in: .seconds(1) ... .seconds(600)) }
        if let admins = keys["admins"] {
            web.admins = try admins.list().map { value throws(ConfigurationError) in
                let admin = try value.mapping(["name", "password-hash"])
                guard let name = admin["name"], let hash = admin["password-hash"] else {
                    throw value.error("an admin needs a name and a password-hash")
                }
                let nameText = try name.string()
                guard !nameText.isEmpty, nameText.utf8.count <= 64, nameText.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
                    throw name.error("an admin name is 1 to 64 letters, digits, dots, dashes or underscores")
                }
                let hashText = try hash.string()
                guard hashText.hasPrefix("$2"), hashText.utf8.count == 60 else {
                    throw hash.error("expected a bcrypt hash ($2b$..., 60 characters), as `rbld web-password` prints")
                }
                return WebConfiguration.Admin(name: nameText, passwordHash: hashText)
            }
        }
    }

    func zone() throws(ConfigurationError) -> Configuration.Zone {
        let keys = try mapping(["name", "ttl", "txt", "default-code", "soa", "ns", "ns-ttl", "policy", "self-service", "transfer"])
        guard let nameValue = keys["name"] else { throw error("a zone needs a name") }
        var zone = Configuration.Zone(name: try nameValue.domainName())
        let settings = zone.settings
        var fields = (ttl: Int64(settings.ttl), txt: settings.txtTemplate, code: Int(settings.defaultCode))
        if let ttl = keys["ttl"] { fields.ttl = try ttl.seconds() }
        if let txt = keys["txt"] {
            fields.txt = try txt.string()
            // The longest address text (an IPv6 address, 39 bytes) must fit one TXT string.
            let worst = fields.txt.utf8.count + fields.txt.filter { $0 == "$" }.count * 38
            guard worst <= 255 else { throw txt.error("longer than 255 bytes once an IPv6 address replaces $ (\(worst) bytes)") }
        }
        if let code = keys["default-code"] { fields.code = try code.int(in: 2...255) }
        var soa = (mname: settings.mname, rname: settings.rname, serial: settings.serial, ttl: Int64(settings.soaTTL),
                   refresh: Int64(settings.refresh), retry: Int64(settings.retry), expire: Int64(settings.expire),
                   minimum: Int64(settings.minimum))
        if let soaValue = keys["soa"], !soaValue.isNull {
            let soaKeys = try soaValue.mapping(["mname", "rname", "serial", "ttl", "refresh", "retry", "expire", "minimum"])
            if let value = soaKeys["mname"] { soa.mname = try value.domainName() }
            if let value = soaKeys["rname"] { soa.rname = try value.domainName() }
            if let value = soaKeys["serial"] { soa.serial = value.isNull ? nil : UInt32(try value.int(in: 0...Int(UInt32.max))) }
            if let value = soaKeys["ttl"] { soa.ttl = try value.seconds() }
            if let value = soaKeys["refresh"] { soa.refresh = try value.seconds() }
            if let value = soaKeys["retry"] { soa.retry = try value.seconds() }
            if let value = soaKeys["expire"] { soa.expire = try value.seconds() }
            if let value = soaKeys["minimum"] { soa.minimum = try value.seconds() }
        }
        var nameservers = settings.nameservers
        if let ns = keys["ns"] {
            nameservers = try ns.list().map { value throws(ConfigurationError) in try value.domainName() }
            guard !nameservers.isEmpty else { throw ns.error("at least one name server is needed") }
        }
        let nsTTL = try keys["ns-ttl"]?.seconds() ?? Int64(settings.nsTTL)
        zone.settings = ZoneSettings(
            name: settings.name, soaTTL: UInt32(soa.ttl), mname: soa.mname, rname: soa.rname, serial: soa.serial,
            refresh: UInt32(soa.refresh), retry: UInt32(soa.retry), expire: UInt32(soa.expire), minimum: UInt32(soa.minimum),
            nsTTL: UInt32(nsTTL), nameservers: nameservers, ttl: UInt32(fields.ttl), txtTemplate: fields.txt,
            defaultCode: UInt8(fields.code))
        if let policy = keys["policy"], !policy.isNull { (zone.policy, zone.listable) = try policy.policy() }
        if let service = keys["self-service"], !service.isNull {
            let serviceKeys = try service.mapping(["enabled", "max-delistings", "window"])
            if let enabled = serviceKeys["enabled"] {
                switch try enabled.string() {
                case "true", "yes", "on": zone.selfService.enabled = true
                case "false", "no", "off": zone.selfService.enabled = false
                default: throw enabled.error("expected true or false")
                }
            }
            if let count = serviceKeys["max-delistings"] { zone.selfService.maxDelistings = try count.int(in: 0...1000) }
            if let window = serviceKeys["window"] { zone.selfService.window = try window.seconds(max: 10 * 365 * 86400) }
        }
        if let transfer = keys["transfer"], !transfer.isNull { zone.transfer = try transfer.transferRule() }
        return zone
    }

    /// The policy, and the listable ranges it lifted from the never-list.
    func policy() throws(ConfigurationError) -> (ListingPolicy, [IPPrefix]) {
        let keys = try mapping(["half-life", "threshold", "expiry", "weights", "weak-weight", "corroboration", "never-list", "listable",
                                "codes", "keep-hits", "max-hits-per-source", "ipv6-prefix"])
        var policy = ListingPolicy.defaults
        if let value = keys["half-life"] { policy.halfLife = try value.seconds(max: 10 * 365 * 86400) }
        if let value = keys["threshold"] { policy.threshold = try value.double(in: 0.001...1_000_000) }
        if let value = keys["expiry"] { policy.expiry = try value.seconds(max: 10 * 365 * 86400) }
        if let value = keys["weights"], !value.isNull {
            let kinds = Dictionary(uniqueKeysWithValues: HitKind.allCases.map { ($0.rawValue, $0) })
            for (name, weight) in try value.mapping(Set(kinds.keys)) {
                // 1 is what a kind without a weight gets: kept out, so equal policies compare equal.
                let value = try weight.double(in: 0...1_000_000)
                policy.weights[kinds[name]!] = value == 1 ? nil : value
            }
        }
        if let value = keys["weak-weight"] { policy.weakWeight = try value.double(in: 0...1_000) }
        if let value = keys["corroboration"], !value.isNull {
            let rule = try value.mapping(["weak-hits", "traps", "window"])
            if let hits = rule["weak-hits"] { policy.corroboration.weakHits = try hits.int(in: 1...1000) }
            if let traps = rule["traps"] { policy.corroboration.traps = try traps.int(in: 1...1000) }
            if let window = rule["window"] { policy.corroboration.window = try window.seconds(max: 10 * 365 * 86400) }
        }
        if let value = keys["codes"], !value.isNull { policy.codes = try value.returnCodes() }
        // A listing (or a held-back source) must never rest on evidence retention deleted:
        // evidence is kept at least as long as a listing lasts and corroboration looks back.
        let least = max(policy.expiry, policy.corroboration.window, 86400)
        policy.keepHits = max(policy.keepHits, least)
        if let value = keys["keep-hits"] {
            policy.keepHits = try value.seconds(max: 100 * 365 * 86400)
            guard policy.keepHits >= least else {
                throw value.error("must be at least the expiry and the corroboration window (\(least / 86400) days here)")
            }
        }
        if let value = keys["max-hits-per-source"] {
            policy.maxHitsPerSource = try value.int(in: max(policy.corroboration.weakHits, 10)...10_000_000)
        }
        if let value = keys["ipv6-prefix"] { policy.ipv6Prefix = try value.int(in: ListingPolicy.ipv6PrefixRange) }
        var neverList = ListingPolicy.specialPurposeRanges
        if let value = keys["never-list"] {
            neverList = []
            for item in try value.list() {
                if try item.string() == "special-purpose" {
                    neverList += ListingPolicy.specialPurposeRanges
                } else {
                    neverList.append(try item.prefix())
                }
            }
        }
        let listable = try keys["listable"]?.list().map { value throws(ConfigurationError) in try value.prefix() } ?? []
        policy.neverList = ListingPolicy.neverList(neverList, lifting: listable)
        return (policy, listable)
    }

    /// `codes: {base: 2, autoreply: 4, challenge: 8, virus: 16, dsn: 0, unknown-bounce: 0,
    /// manual: 32}`: how kinds become 127.0.0.X; keys left out keep their defaults.
    func returnCodes() throws(ConfigurationError) -> ReturnCodes {
        let kinds = Dictionary(uniqueKeysWithValues: HitKind.allCases.map { ($0.rawValue, $0) })
        let keys = try mapping(Set(kinds.keys).union(["base", "manual"]))
        let defaults = ReturnCodes.defaults
        let base = try keys["base"].map { value throws(ConfigurationError) in UInt8(try value.int(in: 2...255)) } ?? defaults.base
        let manual = try keys["manual"].map { value throws(ConfigurationError) in UInt8(try value.int(in: 0...255)) } ?? defaults.manual
        var bits = defaults.bits
        for (name, kind) in kinds {
            if let value = keys[name] { bits[kind] = UInt8(try value.int(in: 0...255)) }
        }
        return ReturnCodes(base: base, bits: bits, manual: manual)
    }
}

extension ClientNetwork {
    /// The DNS server's form of a network parsed as every other in rbld (`IPPrefix`).
    init(_ prefix: IPPrefix) {
        // In range: IPPrefix checked the length and the IPv4 width.
        self.init(isIPv6: prefix.family == .v6, address: prefix.address, prefixLength: prefix.length)!
    }
}
