// DelistTests.swift -- self-service delisting over the API and the form: policy, audit, CSRF, every error.

import Foundation
@testable import Store
import Testing
import TestSupport
@testable import Web

@Suite struct DelistTests {
    static let t0: Int64 = 1_750_000_000

    /// 45.1.2.3 scored, 45.4.0.0/16 listed by an operator, 45.5.5.5 excluded.
    static func seeded() throws -> WebHarness {
        try WebHarness(clock: TestClock(t0 + 60)) { store in
            let zone = WebHarness.zone
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", time: t0, digest: 1), zone: zone)
            _ = try store.list(IPPrefix("45.4.0.0/16")!, zone: zone, actor: "ops", reason: "spam run")
            _ = try store.exclude(IPPrefix("45.5.5.5")!, zone: zone, actor: "ops", reason: "our relay")
        }
    }

    static func body(_ fields: [String: String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func scoredListingIsDelistedAtOnceAndAudited() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.post("/api/v1/delist", body: Self.body([
            "ip": "45.1.2.3", "email": "postmaster@example.com", "reason": "fixed the bounce configuration",
        ]), contentType: "application/json", from: "127.0.0.5")
        #expect(answer.status == 202, "\(answer)")
        #expect(answer.json["status"] as? String == "delisted")
        let id = try #require(answer.json["request"] as? Int)
        #expect(answer.json["zone"] as? String == WebHarness.zone)

        let lookup = try await harness.client.get("/api/v1/lookup/45.1.2.3")
        let zone = try #require((lookup.json["zones"] as? [[String: Any]])?.first)
        #expect(zone["listed"] as? Bool == false)
        #expect(zone["status"] as? String == "delisted")

        // The request is kept with who asked, and the delisting is audited.
        let request = try #require(try harness.store.delistRequest(id: Int64(id), zone: WebHarness.zone))
        #expect(request.client == "127.0.0.5")
        #expect(request.email == "postmaster@example.com")
        #expect(request.reason == "fixed the bounce configuration")
        #expect(request.status == .delisted)
        let report = try harness.store.report(for: IPPrefix("45.1.2.3")!, zone: WebHarness.zone, now: harness.clock.now)
        #expect(report.audit.contains { $0.action == "delist" && $0.actor == "web:127.0.0.5" && $0.reason.contains("fixed the bounce") })

        // A newer hit lists it again.
        harness.clock.advance(60)
        _ = try harness.store.recordHit(WebHarness.hit("45.1.2.3", time: harness.clock.now, digest: 9), zone: WebHarness.zone)
        let again = try await harness.client.get("/api/v1/lookup/45.1.2.3")
        #expect((again.json["zones"] as? [[String: Any]])?.first?["listed"] as? Bool == true)
    }

    @Test func tooManySelfServiceDelistingsGoToReview() async throws {
        let harness = try Self.seeded()
        try await harness.start { $0.selfService[WebHarness.zone] = SelfServicePolicy(maxDelistings: 2, window: 30 * 86400) }
        defer { Task { await harness.stop() } }
        var statuses: [String] = []
        for round in 0..<3 {
            harness.clock.advance(60)
            _ = try harness.store.recordHit(WebHarness.hit("45.1.2.3", time: harness.clock.now, digest: UInt8(20 + round)), zone: WebHarness.zone)
            let answer = try await harness.client.post("/api/v1/delist", body: Self.body([
                "ip": "45.1.2.3", "zone": WebHarness.zone, "email": "a@example.com", "reason": "round \(round)",
            ]), contentType: "application/json")
            #expect(answer.status == 202)
            statuses.append(answer.json["status"] as? String ?? "?")
        }
        #expect(statuses == ["delisted", "delisted", "pending"])
        let pending = try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: true)
        #expect(pending.count == 1)
        #expect(pending.first?.note.contains("2 times") == true)
        let zone = try #require((try await harness.client.get("/api/v1/lookup/45.1.2.3").json["zones"] as? [[String: Any]])?.first)
        #expect(zone["listed"] as? Bool == true, "a pending request changes nothing served")
    }

    @Test(arguments: [
        ("manual listing waits for an operator", "45.4.9.9", 202, "pending"),
        ("excluded is refused", "45.5.5.5", 409, "refused"),
        ("not listed is refused", "45.9.9.9", 409, "refused"),
    ])
    func outcomes(_ name: String, _ ip: String, _ status: Int, _ outcome: String) async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.post("/api/v1/delist", body: Self.body(["ip": ip, "email": "a@example.com", "reason": "please"]),
                                             contentType: "application/json")
        #expect(answer.status == status, "\(name): \(answer)")
        #expect(answer.json["status"] as? String == outcome, "\(name)")
        if status == 409 { #expect(answer.json["error"] is String, "\(name)") }
        #expect(try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: false).count == 1, "\(name): every request is kept")
    }

    @Test(arguments: [
        ("not JSON", "application/json", "{ip: 45.1.2.3", 400, "JSON object"),
        ("JSON array", "application/json", "[1,2]", 400, "JSON object"),
        ("a number for the address", "application/json", #"{"ip":4,"email":"a@example.com","reason":"x"}"#, 400, "JSON object"),
        ("missing reason", "application/json", #"{"ip":"45.1.2.3","email":"a@example.com"}"#, 400, "JSON object"),
        ("bad address", "application/json", #"{"ip":"45.1.2","email":"a@example.com","reason":"x"}"#, 400, "\"45.1.2\""),
        ("network", "application/json", #"{"ip":"45.1.2.0/24","email":"a@example.com","reason":"x"}"#, 400, "not an IPv4"),
        ("bad e-mail", "application/json", #"{"ip":"45.1.2.3","email":"<script>@x","reason":"x"}"#, 400, "not an e-mail address"),
        ("empty reason", "application/json", #"{"ip":"45.1.2.3","email":"a@example.com","reason":"  "}"#, 400, "reason is empty"),
        ("control characters", "application/json", #"{"ip":"45.1.2.3","email":"a@example.com","reason":"a\u0000b"}"#, 400, "control characters"),
        ("unknown zone", "application/json", #"{"ip":"45.1.2.3","zone":"other.example","email":"a@example.com","reason":"x"}"#, 400, "not a zone served here"),
        ("form encoding", "application/x-www-form-urlencoded", "ip=45.1.2.3", 415, "application/json"),
    ])
    func badRequests(_ name: String, _ type: String, _ body: String, _ status: Int, _ words: String) async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.post("/api/v1/delist", body: body, contentType: type)
        #expect(answer.status == status, "\(name): \(answer)")
        #expect((answer.json["error"] as? String)?.contains(words) == true, "\(name): \(answer)")
        #expect(!answer.body.contains("<script"), "\(name)")
        #expect(try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: false).isEmpty, "\(name): nothing recorded")
    }

    @Test func oversizedBodyIs413() async throws {
        let harness = try Self.seeded()
        try await harness.start { $0.maxBodyBytes = 1024 }
        defer { Task { await harness.stop() } }
        let reason = String(repeating: "x", count: 5000)
        let answer = try await harness.client.post("/api/v1/delist", body: Self.body(["ip": "45.1.2.3", "email": "a@example.com", "reason": reason]),
                                             contentType: "application/json")
        #expect(answer.status == 413, "\(answer)")
        #expect(answer.json["error"] as? String == "the request body is larger than 1024 bytes")
    }

    @Test func formNeedsItsTokenOnceAndShowsTheOutcome() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let client = harness.client
        let form = try await client.get("/delist?ip=45.1.2.3&zone=\(WebHarness.zone)", from: "127.0.0.7")
        #expect(form.status == 200)
        #expect(form.body.contains("value=\"45.1.2.3\""))
        let token = try #require(Self.hiddenToken(form.body))
        let fields = "token=\(token)&ip=45.1.2.3&zone=\(WebHarness.zone)&email=\("ops@example.com".formEncoded)&reason=\("fixed <b>it</b>".formEncoded)"

        // Without a token, with another client's, or cross-site: refused, nothing recorded.
        let none = try await client.post("/delist", body: "ip=45.1.2.3&email=a%40example.com&reason=x", contentType: "application/x-www-form-urlencoded", from: "127.0.0.7")
        #expect(none.status == 403)
        let stolen = try await client.post("/delist", body: fields, contentType: "application/x-www-form-urlencoded", from: "127.0.0.8")
        #expect(stolen.status == 403, "a token is bound to the client it was served to")
        let crossSite = try await client.post("/delist", body: fields, contentType: "application/x-www-form-urlencoded",
                                              headers: ["Sec-Fetch-Site": "cross-site"], from: "127.0.0.7")
        #expect(crossSite.status == 403)
        #expect(try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: false).isEmpty)

        let done = try await client.post("/delist", body: fields, contentType: "application/x-www-form-urlencoded", from: "127.0.0.7")
        #expect(done.status == 200, "\(done)")
        #expect(done.body.contains("id=\"outcome\""))
        #expect(done.body.contains("is delisted"))
        let again = try await client.post("/delist", body: fields, contentType: "application/x-www-form-urlencoded", from: "127.0.0.7")
        #expect(again.status == 403, "a token is good for one request")
        let requests = try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: false)
        #expect(requests.count == 1)
        #expect(requests.first?.reason == "fixed <b>it</b>", "kept as typed; pages escape it")
    }

    @Test func formShowsProblemsEscapedWithAFreshToken() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let form = try await harness.client.get("/delist")
        let token = try #require(Self.hiddenToken(form.body))
        let answer = try await harness.client.post("/delist", body: "token=\(token)&ip=\("<img src=x>".formEncoded)&email=a%40example.com&reason=x",
                                             contentType: "application/x-www-form-urlencoded")
        #expect(answer.status == 400)
        #expect(answer.body.contains("not an IPv4 or IPv6 address"))
        #expect(!answer.body.contains("<img"))
        #expect(Self.hiddenToken(answer.body) != nil && Self.hiddenToken(answer.body) != token)
    }

    static func hiddenToken(_ html: String) -> String? {
        guard let range = html.range(of: "name=\"token\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix(32))
    }
}
