// GoldenPacketTests.swift -- byte-for-byte responses for each behaviour row, from annotated hex.
//
// Fixtures/golden/<case>.query.hex and <case>.response.hex hold one field per line with a
// comment (written by scripts/annotate-dns-hex, then reviewed). Each case also says what
// its answer must be field by field, and libldns checks the fixture against that, so the
// bytes are not only compared with what the implementation once wrote. To re-capture
// after an intended change:
//   RBLD_WRITE_GOLDEN=1 swift test --filter GoldenPacket && scripts/annotate-dns-hex Tests/DNSBLTests/Fixtures/golden/*.hex
// and review the diff.
import DNSTestSupport
import Foundation
import Testing
@testable import DNSBL

/// What a golden case's answer must be, field by field, as libldns reads the bytes.
enum GoldenExpectation: Sendable {
    /// No response at all.
    case drop
    /// A response; the ID, RD and question must echo the query's.
    case response(rcode: Int, aa: Bool = true, tc: Bool = false, answer: [String] = [], authority: [String] = [],
                  edns: LDNSMessage.EDNS? = nil)
}

struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var query: [UInt8]
    var transport: Transport = .udp
    var expected: GoldenExpectation
    var testDescription: String { name }
}

// The test zone (ResponderSupport.swift): answers with TTL 300, SOA minimum 60 as the
// negative TTL (RFC 2308 §5), NS names outside the zone (no glue).
private let v4Listed = TestZone.reverse4("198.51.100.7")
private let soa = "bl.example.org. 60 IN SOA ns1.example.org. hostmaster.example.org. 42 600 300 86400 60"
private func a(_ owner: String, _ address: String = "127.0.0.2") -> String { "\(owner). 300 IN A \(address)" }
private func longTXT(_ count: Int) -> String { String(repeating: "y", count: count) }

private let goldenCases: [GoldenCase] = [
    .init(name: "listed-a", query: makeQuery(v4Listed, id: 0x0001), expected: .response(rcode: 0, answer: [a(v4Listed)])),
    .init(name: "listed-txt", query: makeQuery(v4Listed, type: 16, id: 0x0002), expected: .response(rcode: 0, answer: [
        "\(v4Listed). 300 IN TXT \"Listed: 198.51.100.7 see https://example.org/?ip=198.51.100.7\""])),
    .init(name: "listed-any", query: makeQuery(v4Listed, type: 255, id: 0x0003),
          expected: .response(rcode: 0, answer: [a(v4Listed)])),                          // RFC 8482: the A only
    .init(name: "listed-mx-nodata", query: makeQuery(v4Listed, type: 15, id: 0x0004),
          expected: .response(rcode: 0, authority: [soa])),
    .init(name: "unlisted-nxdomain", query: makeQuery(TestZone.reverse4("198.51.100.99"), id: 0x0005),
          expected: .response(rcode: 3, authority: [soa])),
    .init(name: "empty-non-terminal", query: makeQuery("0.0.127.bl.example.org", id: 0x0006),
          expected: .response(rcode: 0, authority: [soa])),                                 // RFC 8020: NODATA
    .init(name: "apex-soa", query: makeQuery("bl.example.org", type: 6, id: 0x0007), expected: .response(rcode: 0, answer: [
        "bl.example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 42 600 300 86400 60"])),
    .init(name: "apex-ns", query: makeQuery("bl.example.org", type: 2, id: 0x0008), expected: .response(rcode: 0, answer: [
        "bl.example.org. 3600 IN NS ns1.example.org.", "bl.example.org. 3600 IN NS ns2.example.net."])),
    .init(name: "out-of-zone-refused", query: makeQuery("example.com", id: 0x0009), expected: .response(rcode: 5, aa: false)),
    .init(name: "class-ch-refused", query: makeQuery(v4Listed, qclass: 3, id: 0x000A), expected: .response(rcode: 5, aa: false)),
    .init(name: "opcode-status-notimp", query: makeQuery(v4Listed, id: 0x000B, flags: 0x1100),
          expected: .response(rcode: 4, aa: false)),
    .init(name: "qdcount-2-formerr", query: { var q = makeQuery(v4Listed, id: 0x000C); q[5] = 2; return q }(),
          expected: .response(rcode: 1, aa: false)),
    .init(name: "response-dropped", query: makeQuery(v4Listed, id: 0x000D, flags: 0x8100), expected: .drop),
    .init(name: "edns-echo", query: makeQuery(v4Listed, id: 0x000E, edns: (4096, 0, true)),
          expected: .response(rcode: 0, answer: [a(v4Listed)], edns: .init(payloadSize: 1232, version: 0, dnssecOK: true))),
    .init(name: "edns-badvers", query: makeQuery(v4Listed, id: 0x000F, edns: (1232, 1, false)),
          expected: .response(rcode: 16, aa: false, edns: .init(payloadSize: 1232, version: 0, dnssecOK: false))),
    .init(name: "long-txt-tc", query: makeQuery(TestZone.reverse4("198.51.100.9"), type: 16, id: 0x0010),
          expected: .response(rcode: 0, tc: true)),                                         // 600 bytes > 512
    .init(name: "case-0x20", query: makeQuery("7.100.51.198.Bl.ExAmPlE.OrG", id: 0x0011),
          expected: .response(rcode: 0, answer: [a("7.100.51.198.Bl.ExAmPlE.OrG")])),
    .init(name: "ipv6-listed-a", query: makeQuery(TestZone.reverse6("20010db8000000000000000000000001"), id: 0x0012),
          expected: .response(rcode: 0, answer: [a(TestZone.reverse6("20010db8000000000000000000000001"))])),
    .init(name: "testpoint-127-0-0-1", query: makeQuery(TestZone.reverse4("127.0.0.1"), id: 0x0013),
          expected: .response(rcode: 3, authority: [soa])),                                 // RFC 5782 §5: never listed
    .init(name: "tcp-long-txt", query: makeQuery(TestZone.reverse4("198.51.100.9"), type: 16, id: 0x0014), transport: .tcp,
          expected: .response(rcode: 0, answer: [
              "\(TestZone.reverse4("198.51.100.9")). 300 IN TXT \"\(longTXT(255))\" \"\(longTXT(255))\" \"\(longTXT(90))\""])),
]

private let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/golden")

/// Hex bytes of an annotated fixture: everything after `#` on a line is a comment.
func readHex(_ url: URL) throws -> [UInt8] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var bytes: [UInt8] = []
    for line in text.split(separator: "\n") {
        let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
        for token in data.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let byte = UInt8(token, radix: 16) else { throw GoldenError(file: url.lastPathComponent, token: String(token)) }
            bytes.append(byte)
        }
    }
    return bytes
}

struct GoldenError: Error { var file: String; var token: String }

private func hexLines(_ bytes: [UInt8]) -> String {
    stride(from: 0, to: bytes.count, by: 16).map { start in
        bytes[start..<min(start + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " ")
    }.joined(separator: "\n") + "\n"
}

/// Each case: the query fixture is the case's query; the response is the annotated fixture
/// byte for byte; and libldns, reading those bytes, finds every field the behaviour table
/// asks for. A case that expects a response fails without its fixture; a drop is a case
/// of its own.
@Test(arguments: goldenCases)
func goldenPacket(_ golden: GoldenCase) throws {
    let queryURL = goldenDirectory.appendingPathComponent("\(golden.name).query.hex")
    let responseURL = goldenDirectory.appendingPathComponent("\(golden.name).response.hex")
    let actual = respond(golden.query, transport: golden.transport)
    if ProcessInfo.processInfo.environment["RBLD_WRITE_GOLDEN"] == "1" {
        try hexLines(golden.query).write(to: queryURL, atomically: true, encoding: .utf8)
        if let actual { try hexLines(actual).write(to: responseURL, atomically: true, encoding: .utf8) }
        return
    }
    #expect(try readHex(queryURL) == golden.query, "the query fixture drifted from the case")
    guard case .response(let rcode, let aa, let tc, let answer, let authority, let edns) = golden.expected else {
        #expect(actual == nil, "expected a drop, got a response")
        #expect(!FileManager.default.fileExists(atPath: responseURL.path), "a drop case has no response fixture")
        return
    }
    let expectedBytes = try #require(try? readHex(responseURL), "missing or unreadable \(responseURL.lastPathComponent)")
    let got = try #require(actual, "dropped, expected a response")
    if got != expectedBytes {
        let first = zip(got, expectedBytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expectedBytes.count)
        let message = "\(golden.name): first difference at byte \(first) (got \(got.count) bytes, want \(expectedBytes.count))\n"
            + "got:\n\(hexLines(got))want:\n\(hexLines(expectedBytes))"
        Issue.record(Comment(rawValue: message))
    }

    // The fixture, read by libldns. The query's header fields are read from its bytes (a
    // malformed query, such as two questions with one given, is beyond libldns).
    let queryID = UInt16(golden.query[0]) << 8 | UInt16(golden.query[1])
    let queryOpcode = Int(golden.query[2] >> 3 & 0x0F), queryRD = golden.query[2] & 0x01 != 0
    let response: LDNSMessage
    switch LDNSMessage.parse(expectedBytes) {
    case .success(let parsed): response = parsed
    case .failure(let error): Issue.record("libldns cannot read \(golden.name)'s response: \(error)"); return
    }
    #expect(response.id == queryID, "ID echoed")
    #expect(response.qr, "QR set")
    #expect(response.opcode == queryOpcode, "opcode echoed")
    #expect(response.rd == queryRD, "RD echoed")
    #expect(!response.ra, "an authoritative server offers no recursion")
    #expect(response.rcode == rcode, "rcode: \(response)")
    #expect(response.aa == aa, "AA: \(response)")
    #expect(response.tc == tc, "TC: \(response)")
    if rcode == 1 {
        #expect(response.question.isEmpty, "a FORMERR names no question: \(response)")
    } else {
        let query = try LDNSMessage.parse(golden.query).get()
        #expect(response.question == query.question, "question echoed, case kept: \(response)")
    }
    #expect(response.answer == answer, "answer section: \(response)")
    #expect(response.authority == authority, "authority section: \(response)")
    #expect(response.additional.isEmpty, "additional section: \(response)")
    #expect(response.edns == edns, "EDNS: \(response)")
}
