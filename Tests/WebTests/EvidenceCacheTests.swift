// EvidenceCacheTests.swift -- remembered redactions are the redactor's, bounded, and forgotten with a new redactor.

@testable import Store
import Testing
@testable import Web

@Suite struct EvidenceCacheTests {
    static func hit(_ number: Int, excerpt: String) -> SourceReport.Evidence {
        SourceReport.Evidence(time: 1_750_000_000 + Int64(number), kind: "dsn", strength: "strong", trap: "[trap]@trap.example.net",
                              reporter: "mx.trap.example.net", digest: String(number), excerpt: excerpt)
    }

    static let excerpt = "From: MAILER-DAEMON@bounce.example.com\nSubject: Undelivered: to [trap]@trap.example.net\n"
        + "Received: from mail.example.com (mail.example.com [46.2.2.2]) by mx.trap.example.net\n"

    @Test func remembersWhatTheRedactorSays() {
        let redactor = EvidenceRedactor(trapNames: ["trap.example.net"])
        let cache = EvidenceCache(redactor, capacity: 3)
        let source = IPPrefix("46.2.2.2")!
        for round in 0..<2 {
            for number in 0..<5 {
                let hit = Self.hit(number, excerpt: Self.excerpt)
                #expect(cache.evidence(hit, source: source) == redactor.evidence(hit, source: source), "round \(round), hit \(number)")
                #expect(cache.count <= 3)
            }
        }
        // Another redactor's answers replace the remembered ones.
        let stricter = EvidenceRedactor(trapNames: ["trap.example.net", "bounce.example.com"])
        cache.replace(stricter)
        #expect(cache.count == 0)
        let hit = Self.hit(4, excerpt: Self.excerpt)
        #expect(cache.evidence(hit, source: source) == stricter.evidence(hit, source: source))
        #expect(cache.evidence(hit, source: IPPrefix("46.2.2.3")!) == stricter.evidence(hit, source: IPPrefix("46.2.2.3")!))
    }
}
