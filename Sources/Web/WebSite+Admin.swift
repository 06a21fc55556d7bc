// WebSite+Admin.swift -- /admin: delisting requests to review, held-back sources, and the operator's acts.

import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import Synchronization
import Store

extension WebSite {
    func adminRoutes(_ router: Router<WebContext>) {
        router.get("/admin") { request, context in try self.adminPage(request, context) }
        router.post("/admin/request") { request, context in try await self.adminDecide(request, context) }
        router.post("/admin/act") { request, context in try await self.adminAct(request, context) }
    }

    /// The operator named by the request's Basic credentials (RFC 7617), checked against
    /// the configured bcrypt hashes.
    ///
    /// - Throws: 404 when no operator is configured, 401 (with a challenge) otherwise.
    func operatorName(_ request: Request) throws(WebError) -> String {
        guard !configuration.admins.isEmpty else { throw WebError(.notFound, "no operators are configured (web.admins)") }
        let challenge = WebError(.unauthorized, "sign in as an operator")
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
              header.utf8.count <= 512,
              let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let credentials = String(data: decoded, encoding: .utf8),
              let colon = credentials.firstIndex(of: ":")
        else { throw challenge }
        let name = String(credentials[..<colon])
        let password = String(credentials[credentials.index(after: colon)...])
        guard let admin = configuration.admins.first(where: { $0.name == name }) else {
            // The same work as a known name, so a wrong name takes as long as a wrong password.
            _ = Bcrypt.verify(password, hash: Self.decoyHash)
            throw challenge
        }
        if verifiedPasswords.withLock({ $0[name] == password }) { return name }
        guard Bcrypt.verify(password, hash: admin.passwordHash) else { throw challenge }
        verifiedPasswords.withLock { $0[name] = password }
        return name
    }

    /// A bcrypt hash of nothing anyone types, for timing.
    static let decoyHash = "$2b$12$C6UzMDM.H6dfI/f/IKcEeO5VMJrPIwnCJHSZNt0GiH0hj0.Vf4H/2"

    struct AdminPage {
        struct Pending {
            var id: Int64
            var time: String
            var address: String
            var client: String
            var email: String
            var reason: String
            var note: String
            var zone: String
            var token: String
        }

        struct Held {
            var address: String
            var weakHits: Int
            var traps: Int
            var heldUntil: String
        }

        struct Recent {
            var id: Int64
            var time: String
            var address: String
            var status: String
            var client: String
        }

        struct Zone {
            var zone: String
            var token: String
            var pending: [Pending]
            var heldBack: [Held]
            var recent: [Recent]
        }

        var site: SiteInfo
        var title: String
        var user: String
        var zones: [Zone]
    }

    func adminPage(_ request: Request, _ context: WebContext) throws -> Response {
        let user = try operatorName(request)
        let client = context.client ?? context.peer
        let now = clock()
        var zones: [AdminPage.Zone] = []
        for zone in configuration.zones {
            let (pending, recent, held) = try storeCall { () throws(StoreError) in
                try pool.read { store throws(StoreError) in
                    (try store.delistRequests(zone: zone, pendingOnly: true, limit: 100),
                     try store.delistRequests(zone: zone, pendingOnly: false, limit: 30),
                     try store.heldBackSources(zone: zone, now: now, limit: 100))
                }
            }
            func time(_ value: Int64) -> String { ZoneView.readable(Store.formatRFC3339(value)) }
            zones.append(AdminPage.Zone(
                zone: zone, token: tokens.issue(form: "admin", client: client, user: user, now: monotonicSeconds()),
                pending: pending.map { request in
                    AdminPage.Pending(id: request.id, time: time(request.time), address: request.address, client: request.client,
                                      email: request.email, reason: request.reason, note: request.note, zone: zone,
                                      token: tokens.issue(form: "admin", client: client, user: user, now: monotonicSeconds()))
                },
                heldBack: held.map { AdminPage.Held(address: $0.address, weakHits: $0.weakHits, traps: $0.traps, heldUntil: time($0.heldUntil)) },
                recent: recent.map { AdminPage.Recent(id: $0.id, time: time($0.time), address: $0.address, status: $0.status.rawValue, client: $0.client) }))
        }
        return try html(AdminPage(site: siteInfo, title: "Administration", user: user, zones: zones), template: "admin")
    }

    /// The fields of an admin form, once its operator and token are checked.
    func adminForm(_ request: Request, _ context: WebContext) async throws -> (user: String, fields: [String: String]) {
        let user = try operatorName(request)
        try Self.rejectCrossSite(request)
        let fields = try FormBody.parse(try await readBody(request))
        guard let token = fields["token"],
              tokens.redeem(token, form: "admin", client: context.client ?? context.peer, user: user, now: monotonicSeconds())
        else {
            throw WebError(.forbidden, "this form has expired or was not served to you by this site; open /admin again")
        }
        return (user, fields)
    }

    struct AdminDonePage {
        var site: SiteInfo
        var title: String
        var heading: String
        var message: String
    }

    func adminDecide(_ request: Request, _ context: WebContext) async throws -> Response {
        let (user, fields) = try await adminForm(request, context)
        let zone = try servedZone(fields["zone"] ?? "")
        guard let id = fields["id"].flatMap({ Int64($0) }) else { throw WebError(.badRequest, "no request id") }
        let approve: Bool
        switch fields["decision"] {
        case "approve": approve = true
        case "deny": approve = false
        default: throw WebError(.badRequest, "the decision is approve or deny")
        }
        let reason = try Self.validateReason(fields["reason"] ?? "")
        let decided = try storeCall { () throws(StoreError) in
            try pool.write { store throws(StoreError) in
                try store.decideDelistRequest(id: id, zone: zone, approve: approve, actor: "web:\(user)", reason: reason)
            }
        }
        logger.notice("web: delisting request decided", metadata: ["request": "\(id)", "by": "\(user)", "status": "\(decided.status.rawValue)"])
        return try html(AdminDonePage(site: siteInfo, title: "Done", heading: "Request \(id): \(decided.status.rawValue)",
                                      message: decided.note), template: "admin-done")
    }

    func adminAct(_ request: Request, _ context: WebContext) async throws -> Response {
        let (user, fields) = try await adminForm(request, context)
        let zone = try servedZone(fields["zone"] ?? "")
        let text = fields["prefix"] ?? ""
        let prefix: IPPrefix
        switch IPPrefix.parse(text) {
        case .success(let parsed): prefix = parsed.unmapped
        case .failure(let problem): throw WebError(.badRequest, "not an address or network: \(WebError.quoted(text)) (\(problem))")
        }
        let reason = try Self.validateReason(fields["reason"] ?? "")
        let actor = "web:\(user)"
        let action = fields["action"] ?? ""
        let result = try storeCall { () throws(StoreError) in
            try pool.write { store throws(StoreError) -> AdminResult in
                switch action {
                case "list": return try store.list(prefix, zone: zone, actor: actor, reason: reason)
                case "delist": return try store.delist(prefix, zone: zone, actor: actor, reason: reason)
                case "exclude": return try store.exclude(prefix, zone: zone, actor: actor, reason: reason)
                case "unexclude": return try store.unexclude(prefix, zone: zone, actor: actor, reason: reason)
                case "confirm": return try store.confirm(prefix, zone: zone, actor: actor, reason: reason)
                case "reject": return try store.reject(prefix, zone: zone, actor: actor, reason: reason)
                default: throw StoreError(.invalidInput, "unknown action \(WebError.quoted(action))")
                }
            }
        }
        logger.notice("web: admin act", metadata: ["action": "\(action)", "prefix": "\(prefix)", "by": "\(user)"])
        return try html(AdminDonePage(site: siteInfo, title: "Done", heading: "\(action) \(prefix)", message: result.message),
                        template: "admin-done")
    }
}
