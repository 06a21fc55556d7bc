// DNSMessages.swift -- DNS queries built and responses decoded by the tests themselves.
//
// Independent of the code under test: written from RFC 1035 §4.1, it shares nothing with
// DNSBL's wire code, so a bug there cannot hide in here.

/// A query in wire form (RFC 1035 §4.1), with optional EDNS.
public func makeQuery(
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
public struct DecodedRecord: Equatable, Sendable {
    public var name: String
    public var type: UInt16
    public var qclass: UInt16
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(name: String, type: UInt16, qclass: UInt16, ttl: UInt32, rdata: [UInt8]) {
        self.name = name
        self.type = type
        self.qclass = qclass
        self.ttl = ttl
        self.rdata = rdata
    }
}

/// A decoded response, independent of the code under test.
public struct DecodedResponse: Sendable {
    public var id: UInt16
    public var flags: UInt16
    public var rcode: Int { Int(flags & 0xF) }
    public var aa: Bool { flags & 0x0400 != 0 }
    public var tc: Bool { flags & 0x0200 != 0 }
    public var rd: Bool { flags & 0x0100 != 0 }
    public var questionBytes: [UInt8]
    public var answers: [DecodedRecord]
    public var authority: [DecodedRecord]
    public var additional: [DecodedRecord]
    public var opt: DecodedRecord? { additional.first { $0.type == 41 } }

    public init?(_ bytes: [UInt8]) {
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
    public static func strings(_ rdata: [UInt8]) -> [String] {
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
