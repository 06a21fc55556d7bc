// SafetyTests.swift -- rate limits per client (and per /64), X-Forwarded-For only from trusted proxies, hostile requests.

import Foundation
import Glibc
import Store
import Testing
import TestSupport
@testable import Web

@Suite struct SafetyTests {
    @Test func rateLimitAnswers429WithRetryAfterPerClient() async throws {
        let harness = try WebHarness()
        // One token per 100 s: none comes back while the test runs, however slow the machine.
        try await harness.start { $0.rateLimit = .init(perSecond: 0.01, burst: 3, delistCost: 3) }
        defer { Task { await harness.stop() } }
        var statuses: [Int] = []
        for _ in 0..<5 { statuses.append(try await harness.client.get("/api/v1/lookup/45.1.2.3", from: "127.0.1.1").status) }
        #expect(statuses == [200, 200, 200, 429, 429])
        let limited = try await harness.client.get("/api/v1/lookup/45.1.2.3", from: "127.0.1.1")
        #expect(limited.status == 429)
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect((limited.json["error"] as? String)?.contains("too many requests") == true)
        let page = try await harness.client.get("/", from: "127.0.1.1")
        #expect(page.status == 429, "pages share the client's budget")
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        // Another client has its own budget.
        #expect(try await harness.client.get("/api/v1/lookup/45.1.2.3", from: "127.0.1.2").status == 200)
    }

    @Test func delistingCostsMore() async throws {
        let harness = try WebHarness()
        try await harness.start { $0.rateLimit = .init(perSecond: 0.01, burst: 5, delistCost: 5) }
        defer { Task { await harness.stop() } }
        let body = #"{"ip":"45.9.9.9","email":"a@example.com","reason":"x"}"#
        let first = try await harness.client.post("/api/v1/delist", body: body, contentType: "application/json", from: "127.0.2.1")
        #expect(first.status == 409, "not listed, but answered")
        let second = try await harness.client.post("/api/v1/delist", body: body, contentType: "application/json", from: "127.0.2.1")
        #expect(second.status == 429)
        #expect(Int(second.headers["retry-after"] ?? "") ?? 0 >= 10)
    }

    @Test func limiterKeysIPv6ByItsSlash64AndStaysBounded() {
        var limit = WebConfiguration.RateLimit(perSecond: 1, burst: 2)
        limit.maxClients = 16
        let limiter = RateLimiter(limit)
        let a = ClientAddress.rateKey(IPPrefix("2001:db8:1:2::1")!)
        let b = ClientAddress.rateKey(IPPrefix("2001:db8:1:2:ffff::9")!)
        #expect(a == b)
        #expect(ClientAddress.rateKey(IPPrefix("2001:db8:1:3::1")!) != a)
        #expect(limiter.take(a, now: 0) == nil)
        #expect(limiter.take(b, now: 0) == nil)
        #expect(limiter.take(a, now: 0) == 1, "the third request of the /64 waits a second")
        #expect(limiter.take(a, now: 1) == nil, "a token a second")
        // A flood of distinct clients keeps at most maxClients buckets.
        for index in 0..<1000 { _ = limiter.take(IPPrefix(family: .v4, address: UInt128(index) + 0x2D00_0000, length: 32)!, now: 2) }
        #expect(limiter.clientCount <= 16)
    }

    @Test(arguments: [
        ("untrusted peer: header ignored", [String](), ["46.1.1.1"], "127.0.0.1"),
        ("trusted proxy: rightmost address", ["127.0.0.0/8"], ["10.9.9.9, 46.1.1.1"], "46.1.1.1"),
        ("chain of trusted proxies", ["127.0.0.0/8", "100.64.0.0/10"], ["46.2.2.2, 100.64.1.1"], "46.2.2.2"),
        ("forged left entries are not believed", ["127.0.0.0/8"], ["1.1.1.1, 46.3.3.3"], "46.3.3.3"),
        ("garbage stops at the proxy", ["127.0.0.0/8"], ["<script>"], "127.0.0.1"),
        ("IPv6 client", ["127.0.0.0/8"], ["2001:db8::7"], "2001:db8::7"),
        ("several fields", ["127.0.0.0/8"], ["46.4.4.4", "46.5.5.5"], "46.5.5.5"),
    ])
    func forwardedFor(_ name: String, _ proxies: [String], _ headers: [String], _ expected: String) {
        let client = ClientAddress.resolve(peer: IPPrefix("127.0.0.1")!, forwardedFor: headers, trustedProxies: proxies.map { IPPrefix($0)! })
        #expect(client == IPPrefix(expected)!, "\(name)")
    }

    @Test func forwardedForReachesTheAuditTrailOnlyFromTrustedProxies() async throws {
        let t0: Int64 = 1_750_000_000
        let harness = try WebHarness(clock: TestClock(t0 + 60)) { store in
            _ = try store.recordHit(WebHarness.hit("45.1.2.3", time: t0, digest: 1), zone: WebHarness.zone)
            _ = try store.recordHit(WebHarness.hit("45.1.2.4", time: t0, digest: 2), zone: WebHarness.zone)
        }
        try await harness.start { $0.trustedProxies = [IPPrefix("127.0.3.0/24")!] }
        defer { Task { await harness.stop() } }
        for (ip, source) in [("45.1.2.3", "127.0.3.1"), ("45.1.2.4", "127.0.4.1")] {
            let answer = try await harness.client.post("/api/v1/delist", body: #"{"ip":"\#(ip)","email":"a@example.com","reason":"x"}"#,
                                                 contentType: "application/json", headers: ["X-Forwarded-For": "46.7.7.7"], from: source)
            #expect(answer.status == 202)
        }
        let clients = try harness.store.delistRequests(zone: WebHarness.zone, pendingOnly: false).map(\.client).sorted()
        #expect(clients == ["127.0.4.1", "46.7.7.7"])
    }

    @Test func hostileRequestsGetCleanAnswers() async throws {
        let harness = try WebHarness()
        try await harness.start { $0.requestTimeout = .seconds(1) }
        defer { Task { await harness.stop() } }
        let client = harness.client
        // A header section beyond the parser's limit, a broken request line, a huge path.
        let bigHeader = try await client.raw(Array("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n".utf8))
        #expect(String(decoding: bigHeader.prefix(12), as: UTF8.self) != "HTTP/1.1 200", "an oversized header is not served")
        let garbage = try await client.raw(Array("\u{01}\u{02}GARBAGE\r\n\r\n".utf8))
        #expect(!String(decoding: garbage, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        let longPath = try await client.get("/lookup/" + String(repeating: "%41", count: 3000))
        #expect(longPath.status == 400)
        // A body that never arrives: 408 once the request timeout passes (the client would
        // give up after 10 s and find no answer).
        let slow = try await client.exchange(Array("POST /api/v1/delist HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{".utf8))
        #expect(slow.status == 408, "\(slow)")
        // The site still answers.
        #expect(try await client.get("/api/v1/lookup/45.1.2.3").status == 200)
    }

    @Test func floodIsBoundedAndServerStaysUp() async throws {
        let harness = try WebHarness()
        try await harness.start { $0.rateLimit = .init(perSecond: 1, burst: 20) }
        defer { Task { await harness.stop() } }
        let client = harness.client
        let started = ContinuousClock.now
        let deadline = started + .seconds(60)
        var counts: [Int: Int] = [:]
        var sent = 0
        // At most 300 requests, at most 60 s, from one client.
        for index in 0..<300 where ContinuousClock.now < deadline {
            let path = index % 3 == 0 ? "/api/v1/lookup/45.1.2.\(index % 250)" : (index % 3 == 1 ? "/lookup/%3Cscript%3E" : "/")
            counts[try await client.get(path, from: "127.0.5.5").status, default: 0] += 1
            sent += 1
        }
        let elapsed = ContinuousClock.now - started
        // The bucket lets through its burst and one request per second since, no more.
        let allowed = 20 + Int(elapsed.components.seconds) + 1
        #expect(Set(counts.keys).isSubset(of: [200, 400, 429]), "\(counts)")
        #expect((counts[200] ?? 0) + (counts[400] ?? 0) <= allowed, "\(counts) in \(elapsed)")
        #expect((counts[429] ?? 0) >= sent - allowed, "\(counts) in \(elapsed)")
        #expect(try await client.get("/api/v1/lookup/45.1.2.3", from: "127.0.5.6").status == 200)
    }
}
