// WebSite.swift -- the web side: state shared by every request, the routes, and the application to run.

public import Hummingbird
import HummingbirdCore
import Foundation
public import Logging
import Mustache
import NIOCore
public import Store
import Synchronization

/// The public pages, the JSON API and the admin pages of one rbld process.
///
/// The site reads the store through its own connections (``StorePool``) and writes only
/// delisting requests and admin acts, which reach the DNS side the way every store commit
/// does: through the change log that publication follows. It shares no lock, thread or
/// event loop with the DNS server's UDP threads, so a slow page never delays an answer.
///
/// ```swift
/// let site = try WebSite(configuration: configuration, logger: logger)
/// let app = site.application { address in print("web on http://\(address)") }
/// // run `app` in a ServiceGroup
/// ```
public final class WebSite: Sendable {
    public let configuration: WebConfiguration
    let logger: Logger
    let pool: StorePool
    let limiter: RateLimiter
    let tokens: FormTokens
    let templates: MustacheLibrary
    /// The evidence redactor, with what it already redacted.
    let evidence: EvidenceCache
    let statistics: WebStatistics
    /// Operators' passwords already checked against their bcrypt hash (a check costs about
    /// a quarter of a second, and Basic authentication sends the password every time).
    let verifiedPasswords = Mutex<[String: String]>([:])
    let clock: @Sendable () -> Int64
    /// The tables DNS answers from, when it runs in this process.
    let served: (any ServedListings)?
    /// How long after a write of its own the site reads lookups from the store alone: the
    /// published tables show a store commit after the DNS side's next look (`dns.poll-interval`).
    let servedLag: Duration
    private let started = ContinuousClock.now

    /// Opens the store connections and compiles the templates.
    ///
    /// - Parameters:
    ///   - queriesAnswered: the DNS server's count of answered queries so far, sampled for
    ///     `/stats` (nil: no DNS server in this process).
    ///   - served: the tables the DNS side answers from (nil: no DNS server in this process);
    ///     lookups take the answer from them and only the rest from the store.
    ///   - servedLag: how long a store commit may take to reach `served`.
    ///   - clock: Unix seconds (tests move it).
    /// - Throws: `StoreError` when the store cannot be opened.
    public init(configuration: WebConfiguration, logger: Logger, queriesAnswered: (@Sendable () -> UInt64)? = nil,
                served: (any ServedListings)? = nil, servedLag: Duration = .seconds(1),
                clock: @escaping @Sendable () -> Int64 = Store.systemClock) throws {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.served = served
        self.servedLag = servedLag
        pool = try StorePool(path: configuration.db, readerCount: 4, clock: clock)
        limiter = RateLimiter(configuration.rateLimit)
        tokens = FormTokens()
        templates = try PageTemplates.library()
        evidence = EvidenceCache(EvidenceRedactor(trapNames: configuration.trapNames))
        statistics = WebStatistics(queriesAnswered: queriesAnswered, sampleInterval: configuration.statsSampleInterval, clock: clock)
        try refreshTrapNames()
    }

    /// Seconds since the site was made, on a monotonic clock (rate limits, tokens).
    func monotonicSeconds() -> Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Reads the trap domains the store's hits name, for the evidence redactor, beside the
    /// configured trap names.
    func refreshTrapNames() throws(StoreError) {
        var names = configuration.trapNames
        for zone in configuration.zones {
            names += try pool.read { store throws(StoreError) in try store.trapDomains(zone: zone) }
        }
        evidence.replace(EvidenceRedactor(trapNames: names))
    }

    // MARK: - The application

    /// The Hummingbird application serving the site on the configured address; a
    /// swift-service-lifecycle service. `onBound` is told the address once listening (with
    /// the port picked when the configured one is 0).
    public func application(onBound: @escaping @Sendable (String) -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: WebContext.self)
        router.add(middleware: RequestGuard(site: self))
        routes(router)
        let server = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout.components.seconds) * 1_000_000_000
                                                                       + configuration.idleTimeout.components.attoseconds / 1_000_000_000)))
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [statistics, StoreFollowService(pool: pool)],
            onServerRunning: { channel in
                onBound(channel.localAddress.map { address in
                    let host = address.ipAddress ?? "?"
                    return (host.contains(":") ? "[\(host)]" : host) + ":\(address.port ?? 0)"
                } ?? "?")
            },
            logger: logger)
    }

    func routes(_ router: Router<WebContext>) {
        router.get("/") { request, context in try self.indexPage(request, context) }
        router.get("/style.css") { _, _ in
            var response = Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                                    body: .init(byteBuffer: ByteBuffer(string: PageTemplates.styleSheet)))
            response.headers[.contentLength] = "\(PageTemplates.styleSheet.utf8.count)"
            return response
        }
        router.get("/lookup") { request, _ in
            let address = try Self.parseAddress(request.uri.queryParameters.get("ip") ?? "")
            return Response(status: .seeOther, headers: [.location: "/lookup/\(address.addressText)"])
        }
        router.get("/lookup/:ip") { _, context in try self.lookupPage(context) }
        router.get("/delist") { request, context in try self.delistForm(request, context) }
        router.post("/delist") { request, context in try await self.delistSubmit(request, context) }
        router.get("/api/v1/lookup/:ip") { _, context in try self.lookupAPI(context) }
        router.post("/api/v1/delist") { request, context in try await self.delistAPI(request, context) }
        router.get("/stats") { _, _ in try self.statsPage() }
        router.get("/api/v1/stats") { _, _ in try self.statsAPI() }
        adminRoutes(router)
    }

    // MARK: - Lookup

    /// `address` in every zone, evidence redacted.
    func lookup(_ address: IPPrefix) throws(WebError) -> Lookup {
        let now = clock()
        // Right after this site wrote (a delisting), the store alone has the new answer.
        let served = pool.wrote(within: servedLag) ? nil : self.served
        return try storeCall { () throws(StoreError) in
            try pool.read { store throws(StoreError) in
                try Lookup.make(address, zones: configuration.zones, store: store, now: now, evidence: evidence,
                                selfService: configuration.selfServicePolicy(zone:), served: served)
            }
        }
    }

    func lookupAPI(_ context: WebContext) throws -> Response {
        let address = try Self.parseAddress(context.parameters.get("ip") ?? "")
        let bytes = try lookup(address).json()
        return Response(status: .ok, headers: [.contentType: "application/json", .contentLength: "\(bytes.count)"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func lookupPage(_ context: WebContext) throws -> Response {
        let address = try Self.parseAddress(context.parameters.get("ip") ?? "")
        let result = try lookup(address)
        let page = LookupPage(site: siteInfo, title: result.ip, ip: result.ip, zones: result.zones.map { ZoneView($0, ip: result.ip) })
        return try html(page, template: "lookup")
    }

    func indexPage(_ request: Request, _ context: WebContext) throws -> Response {
        let page = IndexPage(site: siteInfo, title: "Look up an address", client: context.client?.addressText ?? "",
                             zones: configuration.zones, zone: configuration.zones.first)
        return try html(page, template: "index")
    }

    // MARK: - Delisting

    /// What a delisting request carries, from the form or the API.
    struct DelistInput: Decodable {
        var ip: String
        var zone: String?
        var email: String
        var reason: String
    }

    func delistForm(_ request: Request, _ context: WebContext) throws -> Response {
        let client = context.client ?? context.peer
        var ip = request.uri.queryParameters.get("ip") ?? ""
        if !ip.isEmpty { ip = try Self.parseAddress(ip).addressText }
        let zone = try request.uri.queryParameters.get("zone").map { try self.servedZone($0) }
        return try html(delistFormPage(client: client, ip: ip, zone: zone, email: "", reason: "", problem: nil), template: "delist")
    }

    func delistFormPage(client: IPPrefix, ip: String, zone: String?, email: String, reason: String, problem: String?) -> DelistFormPage {
        DelistFormPage(site: siteInfo, title: "Request delisting", client: client.addressText,
                       token: tokens.issue(form: "delist", client: client, now: monotonicSeconds()), ip: ip,
                       zoneOptions: configuration.zones.map { ZoneOption(name: $0, selected: $0 == (zone ?? configuration.zones.first)) },
                       email: email, reason: reason, problem: problem)
    }

    func delistSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        let client = context.client ?? context.peer
        try Self.rejectCrossSite(request)
        let fields = try FormBody.parse(try await readBody(request))
        guard let token = fields["token"],
              tokens.redeem(token, form: "delist", client: client, now: monotonicSeconds())
        else {
            throw WebError(.forbidden, "this form has expired or was not served to you by this site; open the delisting form again")
        }
        let input = DelistInput(ip: fields["ip"] ?? "", zone: fields["zone"], email: fields["email"] ?? "", reason: fields["reason"] ?? "")
        do {
            let outcome = try delist(input, client: client)
            let page = DelistedPage(site: siteInfo, title: "Delisting request", heading: Self.heading(outcome.status),
                                    status: outcome.status.rawValue, note: outcome.note, id: outcome.id, ip: outcome.address,
                                    zone: outcome.zone)
            return try html(page, template: "delisted", status: outcome.status == .refused ? .conflict : .ok)
        } catch let error as WebError where error.status == .badRequest {
            // Shown on the form again, with what was typed (escaped), and a fresh token.
            let page = delistFormPage(client: client, ip: String(input.ip.prefix(64)), zone: input.zone.flatMap { try? servedZone($0) },
                                      email: String(input.email.prefix(254)), reason: String(input.reason.prefix(2000)),
                                      problem: error.message)
            return try html(page, template: "delist", status: .badRequest)
        }
    }

    func delistAPI(_ request: Request, _ context: WebContext) async throws -> Response {
        let client = context.client ?? context.peer
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            throw WebError(.unsupportedMediaType, "send the request as Content-Type: application/json")
        }
        let body = try await readBody(request)
        let input: DelistInput
        do {
            input = try JSONDecoder().decode(DelistInput.self, from: Data(body.readableBytesView))
        } catch {
            throw WebError(.badRequest, "the body must be a JSON object with the strings ip, email, reason and optionally zone")
        }
        let outcome = try delist(input, client: client)
        let answer = DelistAnswer(request: outcome.id, status: outcome.status.rawValue, zone: outcome.zone, ip: outcome.address,
                                  note: outcome.note, error: outcome.status == .refused ? outcome.note : nil)
        return try json(answer, status: outcome.status == .refused ? .conflict : .accepted)
    }

    /// The API's answer to a delisting request.
    struct DelistAnswer: Encodable {
        var request: Int64
        var status: String
        var zone: String
        var ip: String
        var note: String
        var error: String?
    }

    /// Validates a request and records it (carrying it out when self-service applies).
    func delist(_ input: DelistInput, client: IPPrefix) throws(WebError) -> DelistRequest {
        let address = try Self.parseAddress(input.ip)
        let email = try Self.validateEmail(input.email)
        let reason = try Self.validateReason(input.reason)
        let zone: String
        if let named = input.zone, !named.isEmpty {
            zone = try servedZone(named)
        } else {
            // The first zone that lists the address, else the first zone (which refuses it).
            zone = try lookup(address).zones.first { $0.listed }?.zone ?? configuration.zones[0]
        }
        let policy = configuration.selfServicePolicy(zone: zone)
        let request = try storeCall { () throws(StoreError) in
            try pool.write { store throws(StoreError) in
                try store.requestDelisting(address, zone: zone, client: client.addressText, email: email, reason: reason,
                                           policy: policy, actor: "web:\(client.addressText)")
            }
        }
        logger.notice("web: delisting request", metadata: [
            "request": "\(request.id)", "ip": "\(request.address)", "zone": "\(zone)", "client": "\(client)",
            "status": "\(request.status.rawValue)",
        ])
        return request
    }

    static func heading(_ status: DelistRequest.Status) -> String {
        switch status {
        case .delisted, .approved: "Delisted"
        case .pending: "Waiting for review"
        case .refused: "Nothing to delist"
        case .denied: "Kept listed"
        }
    }

    // MARK: - Input

    /// A host address from client input: IPv4 or IPv6 text (percent-encoding decoded), an
    /// IPv4-mapped IPv6 address as its IPv4 address.
    ///
    /// - Throws: 400 naming the input (quoted safely) for anything else.
    static func parseAddress(_ raw: String) throws(WebError) -> IPPrefix {
        let text = raw.contains("%") ? (raw.removingPercentEncoding ?? raw) : raw
        guard !text.isEmpty else { throw WebError(.badRequest, "no IP address given") }
        guard text.utf8.count <= 64, let address = IPPrefix(address: text.utf8) else {
            throw WebError(.badRequest, "not an IPv4 or IPv6 address: \(WebError.quoted(text))")
        }
        return address.unmapped
    }

    /// An e-mail address to reach the requester: one `@`, no spaces or control characters,
    /// a dotted domain, at most 254 bytes.
    static func validateEmail(_ raw: String) throws(WebError) -> String {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        let valid = text.utf8.count <= Store.delistEmailMaxLength && parts.count == 2 && !parts[0].isEmpty
            && parts[1].contains(".") && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".")
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"<>\"(),;:\\[]".unicodeScalars.contains($0) }
        guard valid else { throw WebError(.badRequest, "not an e-mail address: \(WebError.quoted(text))") }
        return text
    }

    /// The reason, trimmed: 1 to 2000 bytes, control characters other than line breaks
    /// and tabs refused.
    static func validateReason(_ raw: String) throws(WebError) -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw WebError(.badRequest, "say what was fixed (the reason is empty)") }
        guard text.utf8.count <= Store.delistReasonMaxLength else {
            throw WebError(.badRequest, "the reason is longer than \(Store.delistReasonMaxLength) bytes")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F || $0 == "\n" || $0 == "\r" || $0 == "\t" }) else {
            throw WebError(.badRequest, "the reason contains control characters")
        }
        return text
    }

    /// A zone this site serves, by name (case and a trailing dot ignored).
    func servedZone(_ raw: String) throws(WebError) -> String {
        let name = ZoneSettings.normalizedName(raw)
        guard configuration.zones.contains(name) else {
            throw WebError(.badRequest, "not a zone served here: \(WebError.quoted(raw)) (served: \(configuration.zones.joined(separator: ", ")))")
        }
        return name
    }

    /// Refuses a form posted from another site, when the browser says so (`Sec-Fetch-Site`).
    static func rejectCrossSite(_ request: Request) throws(WebError) {
        if let site = request.headers[.secFetchSite], site == "cross-site" {
            throw WebError(.forbidden, "forms are accepted only from this site's own pages")
        }
    }

    /// The request body, at most `maxBodyBytes`, within `requestTimeout`.
    ///
    /// - Throws: 413 for a larger body, 408 for one that does not arrive in time.
    func readBody(_ request: Request) async throws -> ByteBuffer {
        let limit = configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw WebError(.contentTooLarge, "the request body is larger than \(limit) bytes")
        }
        let timeout = configuration.requestTimeout
        return try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            group.addTask {
                do {
                    return try await request.body.collect(upTo: limit)
                } catch let error as HTTPError where error.status == .contentTooLarge {
                    throw WebError(.contentTooLarge, "the request body is larger than \(limit) bytes")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw WebError(.requestTimeout, "the request body did not arrive within \(timeout.components.seconds) s")
            }
            defer { group.cancelAll() }
            guard let body = try await group.next() else { throw WebError(.requestTimeout, "no request body") }
            return body
        }
    }

    /// Runs a store call, mapping its errors to answers.
    func storeCall<T>(_ body: () throws(StoreError) -> T) throws(WebError) -> T {
        do {
            return try body()
        } catch {
            switch error.code {
            case .invalidInput: throw WebError(.badRequest, error.reason)
            case .notFound: throw WebError(.notFound, error.reason)
            case .conflict: throw WebError(.conflict, error.reason)
            case .busy: throw WebError(.serviceUnavailable, "the store is busy; retry in a few seconds", retryAfter: 2)
            case .io:
                // A full disk, or the file deleted or being restored: passes.
                logger.error("web: store unavailable", metadata: ["error": "\(error)"])
                throw WebError(.serviceUnavailable, "the store is unavailable; retry in a minute", retryAfter: 60)
            default:
                logger.error("web: store failed", metadata: ["error": "\(error)"])
                throw WebError(.internalServerError, "the store failed; it was logged")
            }
        }
    }

    // MARK: - Answers

    var siteInfo: SiteInfo { SiteInfo(name: configuration.siteName, contact: configuration.contact.isEmpty ? nil : configuration.contact) }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        var bytes = try Self.encoder.encode(value)
        bytes.append(0x0A)
        return Response(status: status, headers: [.contentType: "application/json", .contentLength: "\(bytes.count)"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func html(_ page: Any, template: String, status: HTTPResponse.Status = .ok) throws -> Response {
        guard let text = templates.render(page, withTemplate: template) else {
            throw WebError(.internalServerError, "no template \(template)")
        }
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .contentLength: "\(text.utf8.count)"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `error` as the API (`{"error": ...}`) or a page shows it.
    func errorResponse(_ error: WebError, api: Bool) -> Response {
        var response: Response
        if api {
            response = (try? json(["error": error.message], status: error.status))
                ?? Response(status: error.status)
        } else {
            let page = ErrorPage(site: siteInfo, title: error.status.reasonPhrase, heading: "\(error.status.code) \(error.status.reasonPhrase)",
                                 message: error.message)
            response = (try? html(page, template: "error", status: error.status)) ?? Response(status: error.status)
        }
        if let retry = error.retryAfter { response.headers[.retryAfter] = "\(retry)" }
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Basic realm=\"rbld admin\", charset=\"UTF-8\"" }
        return response
    }
}
