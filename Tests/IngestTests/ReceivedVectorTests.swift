// ReceivedVectorTests.swift -- SpamAssassin's Received-parser vectors, from the development corpus when present.

import Foundation
import Store
import Testing
@testable import Ingest

@Suite(.enabled(if: SharedCorpus.isAvailable, "no development corpus (set RBLD_CORPUS, or put it in ../shared/corpus)"))
struct ReceivedVectorTests {
    /// `received_vectors.jsonl`: one Received value, the expected client IP, or `skip` when
    /// SpamAssassin names no client. Reports the pass count; asserts the rate reached.
    @Test func spamAssassinParserVectors() throws {
        let vectors = try #require(SharedCorpus.jsonLines("received/received_vectors.jsonl"))
        #expect(vectors.count > 100)
        var passed = 0
        var failures: [String] = []
        for vector in vectors {
            let header = vector["header"] as? String ?? ""
            let skip = vector["skip"] as? Bool ?? false
            let expected = skip ? nil : (vector["ip"] as? String).flatMap { IPPrefix.mailAddress(Array($0.utf8)[...])?.description }
            let got = ReceivedHeader(value: Array(header.utf8)).clientAddress?.description
            if got == expected {
                passed += 1
            } else {
                failures.append("\(got ?? "nil") != \(expected ?? "nil"): \(header.prefix(120))")
            }
        }
        let rate = Double(passed) / Double(vectors.count)
        print("SpamAssassin Received vectors: \(passed)/\(vectors.count) pass (\(String(format: "%.1f", rate * 100))%)")
        for failure in failures { print("  mismatch: \(failure)") }
        #expect(rate >= 0.99, "pass rate \(rate)")
    }

    /// `received_trust_vectors.jsonl`: the trust-path vectors whose configuration is plain
    /// `trusted_networks` (SpamAssassin's `!` exclusions, `internal_networks`, `msa_networks`
    /// and inferred trust have no equivalent here and are skipped). The first untrusted client
    /// must match SpamAssassin's first untrusted relay.
    @Test func spamAssassinTrustPathVectors() throws {
        let vectors = try #require(SharedCorpus.jsonLines("received/received_trust_vectors.jsonl"))
        var used = 0
        var passed = 0
        for vector in vectors {
            let config = vector["config"] as? [String] ?? []
            guard !config.isEmpty, config.allSatisfy({ $0.hasPrefix("trusted_networks ") && !$0.contains("!") }) else { continue }
            var networks = TrustedNetworks()
            for line in config {
                for entry in line.split(separator: " ").dropFirst() {
                    try? networks.add(Self.expandSpamAssassinShorthand(String(entry)))
                }
            }
            let received = (vector["received"] as? [String] ?? []).map { line -> String in
                line.hasPrefix("Received: ") ? String(line.dropFirst(10)) : line
            }
            let message = received.map { "Received: \($0)\n" }.joined() + "Subject: x\n\nbody\n"
            let parsed = Message(raw: Array(message.utf8))
            let attribution = Attribution(header: parsed.header, bytes: parsed.bytes, trusted: networks)
            let untrusted = vector["expected_untrusted"] as? [[String: Any]] ?? []
            let expected = (untrusted.first?["ip"] as? String).flatMap { IPPrefix.mailAddress(Array($0.utf8)[...])?.description }
            let got: String?
            switch attribution.outcome {
            case .source(let address), .nonPublicSource(let address): got = address.description
            default: got = nil
            }
            used += 1
            if got == expected { passed += 1 } else { print("  trust mismatch: \(got ?? "nil") != \(expected ?? "nil") for \(config)") }
        }
        print("SpamAssassin trust-path vectors (plain trusted_networks): \(passed)/\(used) pass")
        #expect(used >= 8)
        #expect(passed == used)
    }

    /// SpamAssassin accepts `1.2/16` for `1.2.0.0/16`.
    static func expandSpamAssassinShorthand(_ entry: String) -> String {
        let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
        guard !parts[0].contains(":") else { return entry }
        var octets = parts[0].split(separator: ".").map(String.init)
        while octets.count < 4 { octets.append("0") }
        return octets.joined(separator: ".") + (parts.count == 2 ? "/" + parts[1] : "")
    }
}
