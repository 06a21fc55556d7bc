// GoldenPacketTests.swift -- byte-for-byte responses for each behaviour row, from annotated hex.
//
// Fixtures/golden/<case>.query.hex and <case>.response.hex hold one field per line with a
// comment (written by scripts/annotate-dns-hex, then reviewed). A case without a response
// file must be dropped. To re-capture after an intended change:
//   RBLD_WRITE_GOLDEN=1 swift test --filter GoldenPacket && scripts/annotate-dns-hex Tests/DNSBLTests/Fixtures/golden/*.hex
// and review the diff.
import DNSTestSupport
import Foundation
import Testing
@testable import DNSBL

struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var query: [UInt8]
    var transport: Transport = .udp
    var testDescription: String { name }
}

private let v4Listed = TestZone.reverse4("198.51.100.7")

private let goldenCases: [GoldenCase] = [
    .init(name: "listed-a", query: makeQuery(v4Listed, id: 0x0001)),
    .init(name: "listed-txt", query: makeQuery(v4Listed, type: 16, id: 0x0002)),
    .init(name: "listed-any", query: makeQuery(v4Listed, type: 255, id: 0x0003)),
    .init(name: "listed-mx-nodata", query: makeQuery(v4Listed, type: 15, id: 0x0004)),
    .init(name: "unlisted-nxdomain", query: makeQuery(TestZone.reverse4("198.51.100.99"), id: 0x0005)),
    .init(name: "empty-non-terminal", query: makeQuery("0.0.127.bl.example.org", id: 0x0006)),
    .init(name: "apex-soa", query: makeQuery("bl.example.org", type: 6, id: 0x0007)),
    .init(name: "apex-ns", query: makeQuery("bl.example.org", type: 2, id: 0x0008)),
    .init(name: "out-of-zone-refused", query: makeQuery("example.com", id: 0x0009)),
    .init(name: "class-ch-refused", query: makeQuery(v4Listed, qclass: 3, id: 0x000A)),
    .init(name: "opcode-status-notimp", query: makeQuery(v4Listed, id: 0x000B, flags: 0x1100)),
    .init(name: "qdcount-2-formerr", query: { var q = makeQuery(v4Listed, id: 0x000C); q[5] = 2; return q }()),
    .init(name: "response-dropped", query: makeQuery(v4Listed, id: 0x000D, flags: 0x8100)),
    .init(name: "edns-echo", query: makeQuery(v4Listed, id: 0x000E, edns: (4096, 0, true))),
    .init(name: "edns-badvers", query: makeQuery(v4Listed, id: 0x000F, edns: (1232, 1, false))),
    .init(name: "long-txt-tc", query: makeQuery(TestZone.reverse4("198.51.100.9"), type: 16, id: 0x0010)),
    .init(name: "case-0x20", query: makeQuery("7.100.51.198.Bl.ExAmPlE.OrG", id: 0x0011)),
    .init(name: "ipv6-listed-a", query: makeQuery(TestZone.reverse6("20010db8000000000000000000000001"), id: 0x0012)),
    .init(name: "testpoint-127-0-0-1", query: makeQuery(TestZone.reverse4("127.0.0.1"), id: 0x0013)),
    .init(name: "tcp-long-txt", query: makeQuery(TestZone.reverse4("198.51.100.9"), type: 16, id: 0x0014), transport: .tcp),
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
    guard FileManager.default.fileExists(atPath: responseURL.path) else {
        #expect(actual == nil, "expected a drop, got a response")
        return
    }
    let expected = try readHex(responseURL)
    let got = try #require(actual, "dropped, expected a response")
    if got != expected {
        let first = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
        let message = "\(golden.name): first difference at byte \(first) (got \(got.count) bytes, want \(expected.count))\n"
            + "got:\n\(hexLines(got))want:\n\(hexLines(expected))"
        Issue.record(Comment(rawValue: message))
    }
}
