// AdminTests.swift -- /admin behind Basic authentication: review requests, act on listings, all audited under the operator's name.

import Foundation
import HummingbirdBcrypt
@testable import Store
import Testing
import TestSupport
@testable import Web

@Suite struct AdminTests {
    static let t0: Int64 = 1_750_000_000
    /// Cost 4: the lowest bcrypt allows, so the test does not spend seconds hashing.
    static let hash = Bcrypt.hash("s3cret pass", cost: 4)

    static func authorization(_ user: String, _ password: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    static func started() async throws -> WebHarness {
        let harness = try WebHarness(clock: TestClock(t0 + 60)) { store in
            _ = try store.list(IPPrefix("45.4.0.0/16")!, zone: WebHarness.zone, actor: "ops", reason: "spam run")
        }
        try await harness.start { $0.admins = [.init(name: "alice", passwordHash: hash)] }
        return harness
    }

    @Test func signInIsRequired() async throws {
        let harness = try await Self.started()
        defer { Task { await harness.stop() } }
        let none = try await harness.client.get("/admin")
        #expect(none.status == 401)
        #expect(none.headers["www-authenticate"]?.hasPrefix("Basic realm=") == true)
        #expect(try await harness.client.get("/admin", headers: Self.authorization("alice", "wrong")).status == 401)
        #expect(try await harness.client.get("/admin", headers: Self.authorization("mallory", "s3cret pass")).status == 401)
        #expect(try await harness.client.get("/admin", headers: ["Authorization": "Basic !!!"]).status == 401)
        let page = try await harness.client.get("/admin", headers: Self.authorization("alice", "s3cret pass"))
        #expect(page.status == 200)
        #expect(page.body.contains("Signed in as alice"))
    }

    @Test func noOperatorsMeansNoAdminPages() async throws {
        let harness = try WebHarness()
        try await harness.start()
        defer { Task { await harness.stop() } }
        #expect(try await harness.client.get("/admin").status == 404)
    }

    @Test func pendingRequestIsApprovedAndTheActIsAuditedUnderTheOperator() async throws {
        let harness = try await Self.started()
        defer { Task { await harness.stop() } }
        let auth = Self.authorization("alice", "s3cret pass")
        let request = try await harness.client.post("/api/v1/delist", body: #"{"ip":"45.4.1.1","email":"x@example.com","reason":"<i>fixed</i>"}"#,
                                              contentType: "application/json", from: "127.0.0.1")
        #expect(request.json["status"] as? String == "pending")
        let id = try #require(request.json["request"] as? Int)

        let page = try await harness.client.get("/admin", headers: auth, from: "127.0.0.1")
        #expect(page.body.contains("#\(id)"))
        #expect(page.body.contains("&lt;i&gt;fixed&lt;/i&gt;"))
        #expect(!page.body.contains("<i>fixed"))
        let token = try #require(DelistTests.hiddenToken(page.body))

        // A token without the operator's credentials is refused.
        let noAuth = try await harness.client.post("/admin/request", body: "token=\(token)&zone=\(WebHarness.zone)&id=\(id)&decision=approve&reason=ok",
                                             contentType: "application/x-www-form-urlencoded", from: "127.0.0.1")
        #expect(noAuth.status == 401)
        let done = try await harness.client.post("/admin/request", body: "token=\(token)&zone=\(WebHarness.zone)&id=\(id)&decision=approve&reason=checked",
                                           contentType: "application/x-www-form-urlencoded", headers: auth, from: "127.0.0.1")
        #expect(done.status == 200, "\(done)")
        #expect(done.body.contains("approved"))
        let decided = try #require(try harness.store.delistRequest(id: Int64(id), zone: WebHarness.zone))
        #expect(decided.status == .approved)
        #expect(decided.decidedBy == "web:alice")
        let lookup = try await harness.client.get("/api/v1/lookup/45.4.1.1")
        #expect((lookup.json["zones"] as? [[String: Any]])?.first?["listed"] as? Bool == false)
        let report = try harness.store.report(for: IPPrefix("45.4.1.1")!, zone: WebHarness.zone, now: harness.clock.now)
        #expect(report.audit.contains { $0.actor == "web:alice" && $0.action == "exclude" },
                "an address inside the operator's /16 is taken out of it, not the whole network")
        #expect(decided.note.contains("excluded from the operator's listing 45.4.0.0/16"))
    }

    @Test(arguments: [
        ("list", "45.7.7.0/24", 200, "listed 45.7.7.0/24"),
        ("exclude", "45.8.8.8", 200, "excluded 45.8.8.8"),
        ("delist", "45.9.9.9", 409, "not listed"),
        ("list", "45.7.7.1/24", 400, "not an address or network"),
        ("list", "10.0.0.0/8", 400, "special-purpose"),
        ("erase", "45.7.7.7", 400, "unknown action"),
    ])
    func actsFollowTheCLIRules(_ action: String, _ prefix: String, _ status: Int, _ words: String) async throws {
        let harness = try await Self.started()
        defer { Task { await harness.stop() } }
        let auth = Self.authorization("alice", "s3cret pass")
        let page = try await harness.client.get("/admin", headers: auth)
        let token = try #require(DelistTests.hiddenToken(page.body))
        let answer = try await harness.client.post("/admin/act", body: "token=\(token)&zone=\(WebHarness.zone)&prefix=\(prefix.formEncoded)&action=\(action)&reason=test",
                                             contentType: "application/x-www-form-urlencoded", headers: auth)
        #expect(answer.status == status, "\(action) \(prefix): \(answer)")
        #expect(answer.body.contains(words), "\(action) \(prefix): \(answer.body.prefix(2000))")
        if status == 200 {
            let audit = try harness.store.report(for: IPPrefix(prefix.split(separator: "/")[0] == "45.7.7.0" ? "45.7.7.9" : prefix)!,
                                                 zone: WebHarness.zone, now: harness.clock.now).audit
            #expect(audit.contains { $0.actor == "web:alice" && $0.action == action })
        }
    }
}
