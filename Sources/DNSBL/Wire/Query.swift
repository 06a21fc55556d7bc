// Query.swift -- parse exactly what is answered: the header, one question, the OPT record.

/// The header fields of a query that a response echoes or depends on (RFC 1035 §4.1.1).
///
/// ```
///                                 1  1  1  1  1  1
///   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                      ID                       |
/// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
/// |                    QDCOUNT                    |
/// |                    ANCOUNT                    |
/// |                    NSCOUNT                    |
/// |                    ARCOUNT                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// ```
public struct Header: Sendable, Equatable {
    public var id: UInt16
    public var flags: UInt16
    public var questionCount: UInt16
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16

    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var opcode: UInt16 { (flags >> 11) & 0xF }
    public var recursionDesired: Bool { flags & 0x0100 != 0 }
    public var checkingDisabled: Bool { flags & 0x0010 != 0 }
}

/// The client's EDNS parameters (RFC 6891 §6.1.2–6.1.3).
public struct EDNS: Sendable, Equatable {
    /// Requestor's UDP payload size; values below 512 are treated as 512 (RFC 6891 §6.2.3).
    public var udpPayloadSize: Int
    public var version: UInt8
    /// DNSSEC OK, copied into the response (RFC 3225 §3).
    public var dnssecOK: Bool
}

/// A query that passed the structural checks: every position is an offset into the packet.
public struct Query: Sendable, Equatable {
    public var header: Header
    /// End of the question name (one past its root label); the name starts at 12.
    public var nameEnd: Int
    /// Number of labels in the question name, the root not counted.
    public var labelCount: Int
    public var type: RRType
    public var qclass: DNSClass
    /// End of the question section: the bytes `12..<questionEnd` are echoed verbatim.
    public var questionEnd: Int
    public var edns: EDNS?
}

/// What to do with a packet, decided without allocating.
public enum QueryVerdict: Sendable, Equatable {
    /// Well formed: answer it.
    case answer(Query)
    /// Reply with this code, echoing the header (and the question when `questionEnd` > 12).
    case reply(RCode, Header, questionEnd: Int, edns: EDNS?)
    /// No reply at all: too short to echo a header, or a response (QR=1).
    case drop
}

extension Query {
    /// Classifies a packet and parses its question and OPT record. RFC 1035 §4.1, RFC 6891 §6.
    ///
    /// Compression pointers are never followed: inside the question they are a format error
    /// (nothing precedes the question to point at), and the answer/authority/additional names
    /// are only skipped over, a pointer ending a name there.
    public static func classify(_ packet: UnsafeRawBufferPointer) -> QueryVerdict {
        let count = packet.count
        guard count >= WireLimits.headerSize else { return .drop }
        let header = Header(
            id: packet.loadBigEndianUInt16(at: 0),
            flags: packet.loadBigEndianUInt16(at: 2),
            questionCount: packet.loadBigEndianUInt16(at: 4),
            answerCount: packet.loadBigEndianUInt16(at: 6),
            authorityCount: packet.loadBigEndianUInt16(at: 8),
            additionalCount: packet.loadBigEndianUInt16(at: 10))
        if header.isResponse { return .drop }
        guard header.questionCount == 1 else {
            return .reply(header.opcode == 0 ? .formErr : .notImp, header, questionEnd: 12, edns: nil)
        }

        // The question name: labels of at most 63 bytes, at most 255 bytes in all.
        var offset = WireLimits.headerSize
        var labels = 0
        while true {
            guard offset < count else { return .reply(.formErr, header, questionEnd: 12, edns: nil) }
            let length = Int(packet[offset])
            if length == 0 { offset &+= 1; break }  // < count, checked above
            guard length <= WireLimits.maxLabelLength, offset &+ 1 &+ length < count else {
                return .reply(.formErr, header, questionEnd: 12, edns: nil)
            }
            offset &+= 1 &+ length  // no overflow: bounded by count above
            labels &+= 1            // no overflow: bounded by the 255-byte name check below
            guard offset &- WireLimits.headerSize < WireLimits.maxNameLength else {
                return .reply(.formErr, header, questionEnd: 12, edns: nil)
            }
        }
        let nameEnd = offset
        guard nameEnd &+ 4 <= count else { return .reply(.formErr, header, questionEnd: 12, edns: nil) }
        let type = RRType(rawValue: packet.loadBigEndianUInt16(at: nameEnd))
        let qclass = DNSClass(rawValue: packet.loadBigEndianUInt16(at: nameEnd &+ 2))
        let questionEnd = nameEnd &+ 4  // ≤ count, checked above

        // Skip answer and authority records; find the one OPT record among the additional ones.
        var edns: EDNS?
        offset = questionEnd
        let skipped = Int(header.answerCount) &+ Int(header.authorityCount)  // ≤ 2 · 65535
        let total = skipped &+ Int(header.additionalCount)
        var index = 0
        while index < total {
            guard let ownerEnd = skipName(packet, from: offset), ownerEnd &+ 10 <= count else {
                return .reply(.formErr, header, questionEnd: questionEnd, edns: nil)
            }
            let rrType = packet.loadBigEndianUInt16(at: ownerEnd)
            let rdLength = Int(packet.loadBigEndianUInt16(at: ownerEnd &+ 8))
            let end = ownerEnd &+ 10 &+ rdLength  // ≤ count + 65535, no overflow
            guard end <= count else { return .reply(.formErr, header, questionEnd: questionEnd, edns: nil) }
            if index >= skipped, rrType == RRType.opt.rawValue {
                // RFC 6891 §6.1.1: one OPT only, owned by the root.
                guard edns == nil, ownerEnd == offset &+ 1 else {
                    return .reply(.formErr, header, questionEnd: questionEnd, edns: nil)
                }
                let size = Int(packet.loadBigEndianUInt16(at: ownerEnd &+ 2))
                let version = packet[ownerEnd &+ 5]
                let doBit = packet[ownerEnd &+ 6] & 0x80 != 0
                edns = EDNS(udpPayloadSize: max(size, WireLimits.classicUDPSize), version: version, dnssecOK: doBit)
            }
            offset = end
            index &+= 1
        }

        if header.opcode != 0 { return .reply(.notImp, header, questionEnd: questionEnd, edns: edns) }
        if let edns, edns.version > WireLimits.ednsVersion {
            return .reply(.badVers, header, questionEnd: questionEnd, edns: edns)
        }
        return .answer(Query(
            header: header, nameEnd: nameEnd, labelCount: labels, type: type, qclass: qclass,
            questionEnd: questionEnd, edns: edns))
    }

    /// Returns the end of the name at `start` without following pointers, or nil when malformed.
    private static func skipName(_ packet: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var offset = start
        while offset < packet.count {
            let length = packet[offset]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return offset &+ 1 }
                offset &+= 1 &+ Int(length)  // loop condition re-checks the bound
                guard offset &- start <= WireLimits.maxNameLength else { return nil }
            case 0xC0:
                return offset &+ 2 <= packet.count ? offset &+ 2 : nil  // a pointer ends the name
            default:
                return nil  // 0x40 and 0x80 label types are not in use (RFC 6891 §5)
            }
        }
        return nil
    }
}

extension UnsafeRawBufferPointer {
    /// Reads a network-order 16-bit value; the caller has checked `offset + 2 <= count`.
    @inline(__always)
    func loadBigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
