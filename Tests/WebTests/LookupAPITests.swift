// LookupAPITests.swift -- GET /api/v1/lookup/{ip} and /lookup/IP over a real socket: every field and every error.

import Foundation
import Store
import Testing
import TestSupport
@testable import Web

@Suite struct LookupAPITests {
    static let t0: Int64 = 1_750_000_000

    /// A scored source (two hits: a bounce, then an auto-reply), a manual listing, an
    /// exclusion, and nothing for 45.9.9.9.
    static func seeded() throws -> WebHarness {
        try WebHarness(clock: TestClock(t0 + 3600)) { store in
            let zone = WebHarness.zone
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", kind: .dsn, time: t0, digest: 1), zone: zone)
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", kind: .autoreply, time: t0 + 600, digest: 2), zone: zone)
            _ = try store.list(IPPrefix("45.4.0.0/16")!, zone: zone, actor: "ops", reason: "spam run")
            _ = try store.exclude(IPPrefix("45.5.5.5")!, zone: zone, actor: "ops", reason: "our relay")
            _ = try store.recordHit(WebHarness.hit("45.5.5.5", time: t0, digest: 3), zone: zone)
        }
    }

    @Test func listedScoredSourceHasEveryField() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.get("/api/v1/lookup/45.1.2.3")
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"] == "application/json")
        let json = answer.json
        #expect(json["ip"] as? String == "45.1.2.3")
        let zones = try #require(json["zones"] as? [[String: Any]])
        #expect(zones.count == 1)
        let zone = zones[0]
        #expect(zone["zone"] as? String == WebHarness.zone)
        #expect(zone["listed"] as? Bool == true)
        #expect(zone["status"] as? String == "listed")
        #expect(zone["code"] as? String == "127.0.0.6", "2 + 4 for the auto-reply")
        #expect((zone["txt"] as? String)?.contains("45.1.2.3") == true)
        #expect(zone["kinds"] as? [String] == ["dsn", "autoreply"])
        let evidence = try #require((zone["evidence"] as? [[String: Any]])?.first)
        #expect(evidence["time"] as? String == Store.formatRFC3339(Self.t0 + 600), "newest first")
        #expect(evidence["kind"] as? String == "autoreply")
        #expect(zone["first_seen"] as? String == Store.formatRFC3339(Self.t0))
        #expect(zone["last_seen"] as? String == Store.formatRFC3339(Self.t0 + 600))
        #expect(zone["expires"] as? String == Store.formatRFC3339(Self.t0 + 600 + 28 * 86400))
        #expect(zone["hits"] as? Int == 2)
        #expect(zone["delistable"] as? Bool == true)
        #expect(zone["manual"] as? Bool == false)
        #expect((zone["evidence"] as? [Any])?.count == 2)
        #expect(Store.formatRFC3339(Self.t0) == "2025-06-15T15:06:40Z")
    }

    @Test(arguments: [
        ("manual network", "45.4.1.1", true, "listed", true, false),
        ("excluded", "45.5.5.5", false, "excluded", false, false),
        ("unknown", "45.9.9.9", false, "not-listed", false, false),
        ("special-purpose", "10.1.2.3", false, "special-purpose", false, false),
        ("IPv4-mapped IPv6 is the IPv4 address", "::ffff:45.1.2.3", true, "listed", false, true),
        ("IPv6 unknown", "2001:4860::1", false, "not-listed", false, false),
    ])
    func statusOfEachKindOfAddress(_ name: String, _ ip: String, _ listed: Bool, _ status: String, _ manual: Bool,
                                   _ delistable: Bool) async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.get("/api/v1/lookup/\(ip)")
        #expect(answer.status == 200, "\(name)")
        let zone = try #require((answer.json["zones"] as? [[String: Any]])?.first)
        #expect(zone["listed"] as? Bool == listed, "\(name)")
        #expect(zone["status"] as? String == status, "\(name)")
        #expect(zone["manual"] as? Bool == manual, "\(name)")
        #expect(zone["delistable"] as? Bool == delistable, "\(name)")
        if !listed {
            #expect(zone["code"] is NSNull || zone["code"] == nil, "\(name)")
            #expect(zone["expires"] == nil || zone["expires"] is NSNull, "\(name)")
        }
        if manual { #expect(zone["code"] as? String == "127.0.0.34", "\(name): 2 + 32") }
    }

    @Test(arguments: [
        ("text", "/api/v1/lookup/not-an-address", "\"not-an-address\""),
        ("CIDR", "/api/v1/lookup/45.1.2.0%2F24", "\"45.1.2.0/24\""),
        ("octet too large", "/api/v1/lookup/45.1.2.256", "\"45.1.2.256\""),
        ("script", "/api/v1/lookup/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "\"?script?alert(1)?/script?\""),
        ("overlong", "/api/v1/lookup/" + String(repeating: "1", count: 300), "…"),
        ("NUL byte", "/api/v1/lookup/45.1.2.3%00", "\"45.1.2.3?\""),
        ("space", "/api/v1/lookup/%2045.1.2.3", "\" 45.1.2.3\""),
    ])
    func badAddressIs400NamingIt(_ name: String, _ path: String, _ quoted: String) async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let answer = try await harness.client.get(path)
        #expect(answer.status == 400, "\(name)")
        let error = try #require(answer.json["error"] as? String, "\(name): \(answer)")
        #expect(error.contains("not an IPv4 or IPv6 address"), "\(name): \(error)")
        #expect(error.contains(quoted), "\(name): \(error)")
        #expect(!answer.body.contains("<"), "\(name): input echoed raw")
        #expect(error.count < 120, "\(name): the quote is cut")
    }

    @Test func lookupPageShowsTheAnswerAndEscapes() async throws {
        let harness = try WebHarness(clock: TestClock(Self.t0 + 60)) { store in
            let excerpt = "Reason: a bounce\nSubject: <script>alert(1)</script> & more\nFrom: MAILER-DAEMON@bounce.example.com\n"
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", time: Self.t0, excerpt: excerpt), zone: WebHarness.zone)
        }
        try await harness.start()
        defer { Task { await harness.stop() } }
        let page = try await harness.client.get("/lookup/45.1.2.3")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.body.contains("127.0.0.2"))
        #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))
        #expect(!page.body.contains("<script"))
        #expect(page.body.contains("Request delisting from \(WebHarness.zone)"))

        let bad = try await harness.client.get("/lookup/%3Cb%3Ebold")
        #expect(bad.status == 400)
        #expect(bad.headers["content-type"] == "text/html; charset=utf-8")
        #expect(bad.body.contains("not an IPv4 or IPv6 address"))
        #expect(!bad.body.contains("<b>"))

        let search = try await harness.client.get("/lookup?ip=45.1.2.3")
        #expect(search.status == 303)
        #expect(search.headers["location"] == "/lookup/45.1.2.3")
    }

    @Test func securityHeadersOnEveryAnswer() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        for path in ["/", "/lookup/45.1.2.3", "/api/v1/lookup/45.1.2.3", "/api/v1/lookup/x", "/nothing-here", "/style.css", "/delist"] {
            let answer = try await harness.client.get(path)
            #expect(answer.headers["content-security-policy"]?.hasPrefix("default-src 'self'") == true, "\(path)")
            #expect(answer.headers["x-content-type-options"] == "nosniff", "\(path)")
            #expect(answer.headers["referrer-policy"] == "no-referrer", "\(path)")
            #expect(answer.headers["x-frame-options"] == "DENY", "\(path)")
        }
        let missing = try await harness.client.get("/api/v1/nothing")
        #expect(missing.status == 404)
        #expect(missing.json["error"] is String)
    }

    @Test func indexOffersTheVisitorsAddressAndTheZone() async throws {
        let harness = try Self.seeded()
        try await harness.start()
        defer { Task { await harness.stop() } }
        let page = try await harness.client.get("/", from: "127.0.0.9")
        #expect(page.status == 200)
        #expect(page.body.contains("value=\"127.0.0.9\""))
        #expect(page.body.contains("reject_rbl_client \(WebHarness.zone)"))
        #expect(!page.body.contains("<script"))
    }
}

@Suite struct LookupJSONTests {
    /// The hand-written JSON is the document JSONEncoder makes (sorted keys), for every
    /// kind of value: escapes, control characters, non-ASCII; except that a missing value
    /// is written as null where JSONEncoder leaves the key out.
    @Test func handWrittenJSONEqualsTheEncoders() throws {
        let evidence = PublicEvidence(time: "2025-06-15T15:06:40Z", kind: "dsn", strength: "weak", host: nil,
                                      lines: ["Subject: \"quoted\" \\ back\tslash\n", "ctl \u{01}\u{7F} é ✓", "</script>"])
        let zones = [
            ZoneLookup(zone: "a.example", listed: true, status: "listed", code: "127.0.0.6", txt: "45.1.2.3 \"listed\"", kinds: ["dsn", "autoreply"],
                       firstSeen: "2025-06-15T15:06:40Z", lastSeen: "2025-06-15T15:16:40Z", expires: nil, hits: 2, delistable: true,
                       manual: false, evidence: [evidence, evidence]),
            ZoneLookup(zone: "b.example", listed: false, status: "not-listed", code: nil, txt: nil, kinds: [], firstSeen: nil,
                       lastSeen: nil, expires: nil, hits: 0, delistable: false, manual: false, evidence: []),
        ]
        let lookup = Lookup(ip: "45.1.2.3", zones: zones)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try JSONSerialization.jsonObject(with: try encoder.encode(lookup)) as? NSDictionary
        let written = try #require(try JSONSerialization.jsonObject(with: Data(lookup.json())) as? [String: Any])
        func withoutNulls(_ value: Any) -> Any {
            if let object = value as? [String: Any] { return object.filter { !($0.value is NSNull) }.mapValues(withoutNulls) }
            if let array = value as? [Any] { return array.map(withoutNulls) }
            return value
        }
        #expect(withoutNulls(written) as? NSDictionary == expected)
        #expect(expected != nil)
        let zone = try #require((written["zones"] as? [[String: Any]])?.last)
        for key in ["code", "txt", "first_seen", "last_seen", "expires"] { #expect(zone[key] is NSNull, "\(key) is null") }
    }
}
