// ResponderTests.swift -- every row of the DNS behaviour table, in-process.
import DNSTestSupport
import Testing
import TestSupport
@testable import DNSBL

private let a: UInt16 = 1, ns: UInt16 = 2, soa: UInt16 = 6, mx: UInt16 = 15, txt: UInt16 = 16
private let aaaa: UInt16 = 28, any: UInt16 = 255

/// One named row: query, expected RCODE, answer types, authority types.
struct BehaviourCase: CustomTestStringConvertible, Sendable {
    var label: String
    var name: String
    var type: UInt16 = 1
    var qclass: UInt16 = 1
    var rcode: Int
    var aa = true
    var answerTypes: [UInt16] = []
    var authorityTypes: [UInt16] = []
    var testDescription: String { label }
}

private let rows: [BehaviourCase] = [
    .init(label: "listed host A", name: TestZone.reverse4("198.51.100.7"), rcode: 0, answerTypes: [a]),
    .init(label: "listed host TXT", name: TestZone.reverse4("198.51.100.7"), type: txt, rcode: 0, answerTypes: [txt]),
    .init(label: "inside a listed /24", name: TestZone.reverse4("203.0.113.200"), rcode: 0, answerTypes: [a]),
    .init(label: "excluded host inside a listed /24", name: TestZone.reverse4("203.0.113.9"), rcode: 3, authorityTypes: [soa]),
    .init(label: "ANY gives A only (RFC 8482)", name: TestZone.reverse4("198.51.100.7"), type: any, rcode: 0, answerTypes: [a]),
    .init(label: "MX on a listed name: NODATA", name: TestZone.reverse4("198.51.100.7"), type: mx, rcode: 0, authorityTypes: [soa]),
    .init(label: "AAAA on a listed name: NODATA", name: TestZone.reverse4("198.51.100.7"), type: aaaa, rcode: 0, authorityTypes: [soa]),
    .init(label: "unlisted: NXDOMAIN", name: TestZone.reverse4("198.51.100.99"), rcode: 3, authorityTypes: [soa]),
    .init(label: "listed IPv6", name: TestZone.reverse6("20010db8000000000000000000000001"), rcode: 0, answerTypes: [a]),
    .init(label: "unlisted IPv6", name: TestZone.reverse6("20010db8000000000000000000000002"), rcode: 3, authorityTypes: [soa]),
    .init(label: "test point 127.0.0.2", name: TestZone.reverse4("127.0.0.2"), rcode: 0, answerTypes: [a]),
    .init(label: "test point 127.0.0.1", name: TestZone.reverse4("127.0.0.1"), rcode: 3, authorityTypes: [soa]),
    .init(label: "test point ::FFFF:7F00:2", name: TestZone.reverse6("00000000000000000000ffff7f000002"), rcode: 0, answerTypes: [a]),
    .init(label: "test point ::FFFF:7F00:1", name: TestZone.reverse6("00000000000000000000ffff7f000001"), rcode: 3, authorityTypes: [soa]),
    .init(label: "v4-mapped IPv6 of a listed IPv4", name: TestZone.reverse6("00000000000000000000ffffc6336407"), rcode: 0, answerTypes: [a]),
    .init(label: "empty non-terminal 127", name: "127.bl.example.org", rcode: 0, authorityTypes: [soa]),
    .init(label: "empty non-terminal 0.0.127", name: "0.0.127.bl.example.org", rcode: 0, authorityTypes: [soa]),
    .init(label: "empty non-terminal nibbles", name: "f.f.e.bl.example.org", rcode: 0, authorityTypes: [soa]),
    .init(label: "five labels, not nibbles: NXDOMAIN", name: "10.1.2.3.4.bl.example.org", rcode: 3, authorityTypes: [soa]),
    .init(label: "octet 256: NXDOMAIN", name: "256.0.0.1.bl.example.org", rcode: 3, authorityTypes: [soa]),
    .init(label: "leading zero: NXDOMAIN", name: "01.0.0.127.bl.example.org", rcode: 3, authorityTypes: [soa]),
    .init(label: "word: NXDOMAIN", name: "www.bl.example.org", rcode: 3, authorityTypes: [soa]),
    .init(label: "apex SOA", name: "bl.example.org", type: soa, rcode: 0, answerTypes: [soa]),
    .init(label: "apex NS", name: "bl.example.org", type: ns, rcode: 0, answerTypes: [ns, ns]),
    .init(label: "apex A: NODATA", name: "bl.example.org", type: a, rcode: 0, authorityTypes: [soa]),
    .init(label: "apex ANY: SOA", name: "bl.example.org", type: any, rcode: 0, answerTypes: [soa]),
    .init(label: "out of zone: REFUSED", name: "example.com", rcode: 5, aa: false),
    .init(label: "parent of the zone: REFUSED", name: "example.org", type: soa, rcode: 5, aa: false),
    .init(label: "suffix without a label boundary: REFUSED", name: "xbl.example.org", rcode: 5, aa: false),
    .init(label: "class CH: REFUSED", name: TestZone.reverse4("198.51.100.7"), qclass: 3, rcode: 5, aa: false),
    .init(label: "AXFR: REFUSED", name: "bl.example.org", type: 252, rcode: 5),
    .init(label: "expired listing: NXDOMAIN", name: TestZone.reverse4("198.51.100.11"), rcode: 3, authorityTypes: [soa]),
]

@Test(arguments: rows)
func behaviourTable(_ row: BehaviourCase) throws {
    let query = makeQuery(row.name, type: row.type, qclass: row.qclass)
    let bytes = try #require(respond(query))
    let reply = try #require(DecodedResponse(bytes))
    #expect(reply.id == 0xBEEF)
    #expect(reply.flags & 0x8000 != 0, "QR")
    #expect(reply.rd, "RD echoed")
    #expect(reply.rcode == row.rcode)
    #expect(reply.aa == row.aa)
    #expect(!reply.tc)
    #expect(reply.questionBytes == Array(query[12...]), "question echoed byte for byte")
    #expect(reply.answers.map(\.type) == row.answerTypes)
    #expect(reply.authority.map(\.type) == row.authorityTypes)
    #expect(reply.additional.isEmpty)
    for record in reply.authority where record.type == soa {
        #expect(record.name == "bl.example.org")
        #expect(record.ttl == 60, "negative TTL = min(SOA TTL, MINIMUM) (RFC 2308 §5)")
    }
}

@Test func listedAnswerContents() throws {
    let reply = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.7")))!))
    #expect(reply.answers == [DecodedRecord(name: TestZone.reverse4("198.51.100.7"), type: a, qclass: 1, ttl: 300,
                                            rdata: [127, 0, 0, 2])])
    let custom = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.8")))!))
    #expect(custom.answers.first?.rdata == [127, 0, 0, 6])
}

@Test func txtSubstitutesTheAddress() throws {
    let v4 = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("203.0.113.77"), type: txt))!))
    #expect(DecodedResponse.strings(v4.answers[0].rdata) == ["Listed: 203.0.113.77 see https://example.org/?ip=203.0.113.77"])
    let v6 = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse6("20010db8000000000000000000000001"), type: txt))!))
    #expect(DecodedResponse.strings(v6.answers[0].rdata) == ["Listed: 2001:db8::1 see https://example.org/?ip=2001:db8::1"])
    let mapped = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse6("00000000000000000000ffff7f000002"), type: txt))!))
    #expect(DecodedResponse.strings(mapped.answers[0].rdata)[0].hasPrefix("Listed: ::ffff:127.0.0.2 "))
}

@Test func longTXTIsSplitAt255AndTruncatedWithoutEDNS() throws {
    let name = TestZone.reverse4("198.51.100.9")
    let small = try #require(DecodedResponse(respond(makeQuery(name, type: txt))!))
    #expect(small.tc && small.answers.isEmpty, "600 bytes do not fit 512: TC=1, no records")
    let large = try #require(DecodedResponse(respond(makeQuery(name, type: txt, edns: (4096, 0, false)))!))
    #expect(!large.tc)
    #expect(DecodedResponse.strings(large.answers[0].rdata).map(\.count) == [255, 255, 90])
    let tcp = try #require(DecodedResponse(respond(makeQuery(name, type: txt), transport: .tcp)!))
    #expect(!tcp.tc && tcp.answers.count == 1)
}

@Test func ttlIsCappedByTheTimeLeft() throws {
    let reply = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.10")))!))
    #expect(reply.answers.first?.ttl == 100)
}

@Test func caseIsEchoedAndMatchedInsensitively() throws {
    let query = makeQuery("7.100.51.198.BL.Example.ORG")
    let reply = try #require(DecodedResponse(respond(query)!))
    #expect(reply.rcode == 0 && reply.answers.count == 1)
    #expect(reply.questionBytes == Array(query[12...]))
}

@Test func ednsIsEchoedWithOurPayloadSize() throws {
    let reply = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.7"), edns: (4096, 0, true)))!))
    let opt = try #require(reply.opt)
    #expect(opt.name == "" && opt.qclass == 1232)
    #expect(opt.ttl == 0x0000_8000, "version 0, DO copied (RFC 3225 §3)")
    let plain = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.7")))!))
    #expect(plain.opt == nil)
}

@Test func badVersForEDNSVersionOne() throws {
    let reply = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.7"), edns: (1232, 1, false)))!))
    let opt = try #require(reply.opt)
    #expect(reply.rcode == 0 && opt.ttl >> 24 == 1, "BADVERS = 16: upper bits in OPT (RFC 6891 §6.1.3)")
    #expect(reply.answers.isEmpty)
}

@Test func opcodesOtherThanQueryGetNotImp() throws {
    let reply = try #require(DecodedResponse(respond(makeQuery(TestZone.reverse4("198.51.100.7"), flags: 0x1100))!))
    #expect(reply.rcode == 4 && reply.answers.isEmpty)
}

@Test func responsesAreNeverAnswered() {
    #expect(respond(makeQuery(TestZone.reverse4("198.51.100.7"), flags: 0x8100)) == nil)
}

@Test func questionCountOtherThanOneIsFormErr() throws {
    var query = makeQuery(TestZone.reverse4("198.51.100.7"))
    query[5] = 2
    let reply = try #require(DecodedResponse(respond(query)!))
    #expect(reply.rcode == 1 && reply.id == 0xBEEF && reply.answers.isEmpty)
}

@Test func everyTruncationFailsCleanly() {
    for query in [makeQuery(TestZone.reverse4("198.51.100.7")), makeQuery(TestZone.reverse4("198.51.100.7"), edns: (1232, 0, false))] {
        for end in 0..<query.count {
            guard let bytes = respond(Array(query[0..<end])) else { continue }
            guard let reply = DecodedResponse(bytes) else {
                Issue.record("a \(end)-byte prefix got an undecodable reply"); continue
            }
            // The OPT-less prefix that ends exactly after the question is a complete query.
            if end == query.count - 11 && query.count > 40, reply.rcode == 0 { continue }
            #expect(reply.answers.isEmpty, "a \(end)-byte prefix was answered")
            #expect(reply.rcode == 1, "a \(end)-byte prefix: rcode \(reply.rcode)")
        }
    }
}

@Test func compressionInTheQuestionIsFormErr() throws {
    // QNAME = pointer to itself (offset 12): never followed.
    let query: [UInt8] = [0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1]
    let reply = try #require(DecodedResponse(respond(query)!))
    #expect(reply.rcode == 1 && reply.answers.isEmpty)
}

@Test func oversizeLabelsAndNamesAreFormErr() throws {
    var long = makeQuery("a")
    long.replaceSubrange(12..<14, with: [64] + [UInt8](repeating: 0x61, count: 64))
    #expect(try #require(DecodedResponse(respond(long)!)).rcode == 1)
    let name = Array(repeating: String(repeating: "b", count: 63), count: 5).joined(separator: ".")
    #expect(try #require(DecodedResponse(respond(makeQuery(name))!)).rcode == 1)
}

/// Random packets (seeded, the seed printed): each is dropped, or answered with a reply that
/// decodes, echoes its ID and refuses it (FORMERR, NOTIMP, REFUSED) or answers a question
/// the zone has (NOERROR, NXDOMAIN); never anything else.
@Test func garbageIsDroppedOrRefused() throws {
    var generator = SplitMix64(printingSeedFor: "garbageIsDroppedOrRefused")
    var answered = 0
    for round in 0..<20_000 {
        let count = Int(generator.next() >> 58) + 10
        var packet = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        packet[2] &= 0x7F  // not a response, so it is parsed
        guard let bytes = respond(packet) else { continue }
        answered += 1
        let reply = try #require(DecodedResponse(bytes), "round \(round): a reply that does not decode: \(bytes)")
        #expect(reply.id == UInt16(packet[0]) << 8 | UInt16(packet[1]), "round \(round)")
        #expect(reply.flags & 0x8000 != 0, "round \(round): QR set")
        #expect([0, 1, 3, 4, 5].contains(reply.rcode), "round \(round): rcode \(reply.rcode)")
        if reply.rcode == 1 || reply.rcode == 4 || reply.rcode == 5 { #expect(reply.answers.isEmpty, "round \(round)") }
    }
    #expect(answered > 0, "random headers with a readable ID get a FORMERR at least")
}

@Test func newSnapshotsAreSeenFromTheNextBatch() throws {
    let (responder, store) = TestZone.makeStore()
    var session = responder.makeSession()
    var builder = PrefixTableBuilder()
    builder.insert(v4: TestZone.ip4("192.0.2.1"), prefixLength: 32, value: TableValue(listing: 1))
    store.publish(zone: try ZoneSnapshot(config: TestZone.config, table: builder.freeze()))
    responder.beginBatch(&session)
    var output = [UInt8](repeating: 0, count: 512)
    let query = makeQuery(TestZone.reverse4("192.0.2.1"))
    let count = query.withUnsafeBytes { q in output.withUnsafeMutableBytes { responder.respond(to: q, into: $0, transport: .udp, session: &session) } }
    #expect(DecodedResponse(Array(output[0..<count]))?.answers.count == 1)
}

@Test func severalZonesInOneProcess() throws {
    var first = PrefixTableBuilder()
    first.insert(v4: TestZone.ip4("192.0.2.1"), prefixLength: 32, value: TableValue(listing: 1))
    var second = PrefixTableBuilder()
    second.insert(v4: TestZone.ip4("192.0.2.2"), prefixLength: 32, value: TableValue(listing: 1))
    var other = TestZone.config
    other.name = "dnsbl.bl.example.org"  // nested inside the first zone: the longer suffix wins
    let store = SnapshotStore(ServedZones([
        try ZoneSnapshot(config: TestZone.config, table: first.freeze()),
        try ZoneSnapshot(config: other, table: second.freeze()),
    ]))
    let responder = Responder(store: store, clock: { 1 })
    func rcode(_ name: String) throws -> Int {
        try #require(DecodedResponse(respond(makeQuery(name), responder: responder)!)).rcode
    }
    #expect(try rcode("1.2.0.192.bl.example.org") == 0)
    #expect(try rcode("2.2.0.192.bl.example.org") == 3)
    #expect(try rcode("2.2.0.192.dnsbl.bl.example.org") == 0)
    #expect(try rcode("1.2.0.192.dnsbl.bl.example.org") == 3)
    let apex = try #require(DecodedResponse(respond(makeQuery("dnsbl.bl.example.org", type: 6), responder: responder)!))
    #expect(apex.answers.first?.name == "dnsbl.bl.example.org")
}
