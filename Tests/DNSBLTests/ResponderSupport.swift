// ResponderSupport.swift -- builds queries, runs the responder in-process, decodes replies.
@testable import DNSBL

/// A query in wire form (RFC 1035 §4.1), with optional EDNS.
func makeQuery(
    _ name: String, type: UInt16 = 1, qclass: UInt16 = 1, id: UInt16 = 0xBEEF, flags: UInt16 = 0x0100,
    edns: (size: UInt16, version: UInt8, dnssecOK: Bool)? = nil
) -> [UInt8] {
    var bytes: [UInt8] = []
    func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    u16(id); u16(flags); u16(1); u16(0); u16(0); u16(edns == nil ? 0 : 1)
    for label in name.split(separator: ".") {
        bytes.append(UInt8(label.utf8.count))
        bytes += Array(label.utf8)
    }
    bytes.append(0)
    u16(type); u16(qclass)
    if let edns {
        bytes.append(0); u16(41); u16(edns.size)
        bytes += [0, edns.version, edns.dnssecOK ? 0x80 : 0, 0]
        u16(0)
    }
    return bytes
}

/// A decoded resource record; names are read with pointer following (bounded).
struct DecodedRecord: Equatable {
    var name: String
    var type: UInt16
    var qclass: UInt16
    var ttl: UInt32
    var rdata: [UInt8]
}

/// A decoded response, independent of the code under test.
struct DecodedResponse {
    var id: UInt16
    var flags: UInt16
    var rcode: Int { Int(flags & 0xF) }
    var aa: Bool { flags & 0x0400 != 0 }
    var tc: Bool { flags & 0x0200 != 0 }
    var rd: Bool { flags & 0x0100 != 0 }
    var questionBytes: [UInt8]
    var answers: [DecodedRecord]
    var authority: [DecodedRecord]
    var additional: [DecodedRecord]
    var opt: DecodedRecord? { additional.first { $0.type == 41 } }

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 12 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }
        id = u16(0)
        flags = u16(2)
        let counts = [u16(4), u16(6), u16(8), u16(10)].map(Int.init)
        var offset = 12
        func readName() -> String? {
            var labels: [String] = []
            var position = offset
            var jumped = false
            var hops = 0
            while true {
                guard position < bytes.count else { return nil }
                let length = Int(bytes[position])
                if length == 0 { if !jumped { offset = position + 1 }; break }
                if length & 0xC0 == 0xC0 {
                    guard position + 1 < bytes.count, hops < 20 else { return nil }
                    if !jumped { offset = position + 2 }
                    position = Int(u16(position) & 0x3FFF)
                    jumped = true
                    hops += 1
                    continue
                }
                guard position + 1 + length <= bytes.count else { return nil }
                labels.append(String(decoding: bytes[(position + 1)..<(position + 1 + length)], as: UTF8.self))
                position += 1 + length
            }
            return labels.joined(separator: ".")
        }
        let questionStart = offset
        for _ in 0..<counts[0] {
            guard readName() != nil, offset + 4 <= bytes.count else { return nil }
            offset += 4
        }
        questionBytes = Array(bytes[questionStart..<offset])
        func readRecords(_ count: Int) -> [DecodedRecord]? {
            var records: [DecodedRecord] = []
            for _ in 0..<count {
                guard let name = readName(), offset + 10 <= bytes.count else { return nil }
                let type = u16(offset), qclass = u16(offset + 2)
                let ttl = UInt32(u16(offset + 4)) << 16 | UInt32(u16(offset + 6))
                let length = Int(u16(offset + 8))
                offset += 10
                guard offset + length <= bytes.count else { return nil }
                records.append(DecodedRecord(name: name, type: type, qclass: qclass, ttl: ttl,
                                             rdata: Array(bytes[offset..<(offset + length)])))
                offset += length
            }
            return records
        }
        guard let answers = readRecords(counts[1]), let authority = readRecords(counts[2]),
              let additional = readRecords(counts[3]), offset == bytes.count else { return nil }
        (self.answers, self.authority, self.additional) = (answers, authority, additional)
    }

    /// TXT RDATA as its character-strings.
    static func strings(_ rdata: [UInt8]) -> [String] {
        var strings: [String] = []
        var offset = 0
        while offset < rdata.count {
            let length = Int(rdata[offset])
            strings.append(String(decoding: rdata[(offset + 1)..<min(rdata.count, offset + 1 + length)], as: UTF8.self))
            offset += 1 + length
        }
        return strings
    }
}

/// A served zone for tests: bl.example.org with a few listings.
enum TestZone {
    static let template = "Listed: $ see https://example.org/?ip=$"
    static let config = ZoneConfig(
        name: "bl.example.org",
        soa: SOAFields(mname: "ns1.example.org", rname: "hostmaster.example.org", serial: 42, minimum: 60, ttl: 3600),
        nameservers: ["ns1.example.org", "ns2.example.net"], nsTTL: 3600, ttl: 300,
        listings: [ListingClass(code: 2, text: template), ListingClass(code: 6, text: "auto $"),
                   ListingClass(code: 2, text: String(repeating: "y", count: 600))])

    static func ip4(_ text: String) -> UInt32 {
        text.split(separator: ".").reduce(UInt32(0)) { $0 << 8 | UInt32($1)! }
    }

    /// One responder for the read-only tests (building a table per query would be slow).
    static let shared = makeStore().0

    static func makeStore(now: UInt32 = 1_000_000) -> (Responder, SnapshotStore) {
        var builder = PrefixTableBuilder()
        builder.insert(v4: ip4("198.51.100.7"), prefixLength: 32, value: TableValue(listing: 1))
        builder.insert(v4: ip4("203.0.113.0"), prefixLength: 24, value: TableValue(listing: 1))
        builder.insert(v4: ip4("203.0.113.9"), prefixLength: 32, value: .excluded)
        builder.insert(v4: ip4("198.51.100.8"), prefixLength: 32, value: TableValue(listing: 2))
        builder.insert(v4: ip4("198.51.100.9"), prefixLength: 32, value: TableValue(listing: 3))
        builder.insert(v4: ip4("198.51.100.10"), prefixLength: 32, value: TableValue(listing: 1, expires: now + 100))
        builder.insert(v4: ip4("198.51.100.11"), prefixLength: 32, value: TableValue(listing: 1, expires: now))
        builder.insert(v6: 0x2001_0db8_0000_0000_0000_0000_0000_0001, prefixLength: 128, value: TableValue(listing: 1))
        let snapshot = try! ZoneSnapshot(config: config, table: builder.freeze())
        let store = SnapshotStore(ServedZones([snapshot]))
        return (Responder(store: store, clock: { now }), store)
    }

    static func reverse4(_ ip: String) -> String {
        ip.split(separator: ".").reversed().joined(separator: ".") + ".bl.example.org"
    }

    static func reverse6(_ hex32: String) -> String {
        hex32.reversed().map(String.init).joined(separator: ".") + ".bl.example.org"
    }
}

/// Runs one query through the responder; nil when it is dropped.
func respond(_ query: [UInt8], transport: Transport = .udp, responder: Responder? = nil) -> [UInt8]? {
    let responder = responder ?? TestZone.shared
    var session = responder.makeSession()
    responder.beginBatch(&session)
    var output = [UInt8](repeating: 0, count: 65535)
    let count = query.withUnsafeBytes { input in
        output.withUnsafeMutableBytes { out in
            responder.respond(to: input, into: out, transport: transport, session: &session)
        }
    }
    return count == 0 ? nil : Array(output[0..<count])
}
