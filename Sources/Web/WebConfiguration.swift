// WebConfiguration.swift -- what the web side serves, where, and its limits.

public import Store

/// The web side's settings: the `web:` section of the configuration, or `--web`.
public struct WebConfiguration: Sendable, Equatable {
    /// Where to listen (`HOST`, `PORT`); port 0 picks a free one.
    public var host: String
    public var port: Int
    /// The name pages show.
    public var siteName = "rbld"
    /// Who runs the list: an address or URL shown on every page.
    public var contact = ""
    /// Proxies whose `X-Forwarded-For` is believed (nginx in front); nobody else's is.
    public var trustedProxies: [IPPrefix] = []
    /// Requests per client (an IPv4 address, an IPv6 /64) per second, steady, and the
    /// burst allowed on top; delisting requests count `delistCost` each.
    public var rateLimit = RateLimit()
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 16 * 1024
    /// A connection idle this long is closed (slow clients); and a request is answered
    /// within `requestTimeout` or gets 503.
    public var idleTimeout: Duration = .seconds(15)
    public var requestTimeout: Duration = .seconds(10)
    /// Trap domains and trap host names never shown in evidence, beside the trap domains the
    /// store's hits name (defence in depth: evidence is redacted at ingest already).
    public var trapNames: [String] = []
    /// Operators of `/admin`, with bcrypt password hashes.
    public var admins: [Admin] = []
    /// Self-service delisting, per zone name; zones not named get the defaults.
    public var selfService: [String: SelfServicePolicy] = [:]
    /// The store and the zones shown (in this order).
    public var db: String
    public var zones: [String]
    /// How often `/stats` samples the DNS query counter.
    public var statsSampleInterval: Duration = .seconds(10)

    public struct RateLimit: Sendable, Equatable {
        /// Steady requests per second per client; 0 turns the limit off.
        public var perSecond: Double = 5
        public var burst: Double = 30
        /// What one delisting request costs, in requests.
        public var delistCost: Double = 10
        /// Clients remembered at most; the least recently seen are forgotten first.
        public var maxClients = 100_000

        public init(perSecond: Double = 5, burst: Double = 30, delistCost: Double = 10) {
            self.perSecond = perSecond
            self.burst = burst
            self.delistCost = delistCost
        }
    }

    public struct Admin: Sendable, Equatable {
        public var name: String
        /// bcrypt (`$2b$...`), as `rbld web-password` prints it.
        public var passwordHash: String

        public init(name: String, passwordHash: String) {
            self.name = name
            self.passwordHash = passwordHash
        }
    }

    public init(host: String, port: Int, db: String, zones: [String]) {
        self.host = host
        self.port = port
        self.db = db
        self.zones = zones
    }

    /// The zone's self-service policy.
    public func selfServicePolicy(zone: String) -> SelfServicePolicy {
        selfService[ZoneSettings.normalizedName(zone)] ?? .defaults
    }
}
