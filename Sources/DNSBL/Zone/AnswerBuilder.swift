// AnswerBuilder.swift -- writes one authoritative answer: header, question, records, OPT.

/// The address a listing answer is about, for `$` in TXT templates.
enum ListedAddress {
    case v4(UInt32)
    case v6(UInt128)
}

/// Writes the response to one in-zone query.
///
/// Layout (RFC 1035 §4.1): header, the question copied byte for byte from the query (so
/// 0x20 case survives), answer and authority records whose owners are compression pointers
/// into that question (`C0 0C` for the query name, `C0 xx` for the zone apex), then OPT.
/// When the records do not fit the size limit, they are all dropped and TC is set
/// (RFC 2181 §9).
struct AnswerBuilder {
    let query: Query
    let packet: UnsafeRawBufferPointer
    let zone: EncodedZone
    /// Offset of the zone apex inside the question name, target of owner pointers.
    let apexOffset: Int

    private static let ownerIsQuestion: UInt16 = 0xC000 | UInt16(WireLimits.headerSize)
    private var apexPointer: UInt16 { 0xC000 | UInt16(truncatingIfNeeded: apexOffset) }  // < 268 < 2^14

    // MARK: Sections

    func apex(into writer: inout ResponseWriter, counters: inout ResponderCounters) -> Int {
        let type = query.type
        guard type == .soa || type == .ns || type == .any else {
            return negative(.noError, into: &writer, counters: &counters)
        }
        return write(.noError, into: &writer, counters: &counters) { writer in
            if type == .ns {
                for rdata in zone.nsRData {
                    guard writeRecord(owner: apexPointer, type: .ns, ttl: zone.config.nsTTL, rdata: rdata, into: &writer)
                    else { return nil }
                }
                return (UInt16(truncatingIfNeeded: zone.nsRData.count), 0)
            }
            // SOA, and ANY answered with the SOA alone (RFC 8482 §4.1).
            guard writeRecord(owner: apexPointer, type: .soa, ttl: zone.config.soa.ttl, rdata: zone.soaRData, into: &writer)
            else { return nil }
            return (1, 0)
        }
    }

    func listing(
        _ value: TableValue?, address: ListedAddress, now: UInt32, into writer: inout ResponseWriter,
        counters: inout ResponderCounters
    ) -> Int {
        guard let value, value.listing > 0, value.expires == 0 || now < value.expires else {
            counters.notListed &+= 1
            return negative(.nxDomain, into: &writer, counters: &counters)
        }
        let type = query.type
        guard type == .a || type == .txt || type == .any else {
            return negative(.noError, into: &writer, counters: &counters)
        }
        counters.listed &+= 1
        let classIndex = Int(value.listing) &- 1  // ≥ 0: listing > 0 above
        // Read in place: a copy of the listing would retain its text on every answer.
        let listing = classIndex < zone.listings.count ? classIndex : 0
        var ttl = zone.config.ttl
        if value.expires != 0 { ttl = min(ttl, value.expires &- now) }  // now < expires above
        return write(.noError, into: &writer, counters: &counters) { writer in
            if type == .txt {
                guard writeTXT(zone.listings[listing].text, address: address, ttl: ttl, into: &writer) else { return nil }
            } else {
                // A, and ANY answered with the A record alone (RFC 8482 §4.1).
                guard writer.write(Self.ownerIsQuestion), writer.write(RRType.a.rawValue),
                      writer.write(DNSClass.internet.rawValue), writer.write(ttl), writer.write(UInt16(4)),
                      writer.write(UInt32(0x7F00_0000) | UInt32(zone.listings[listing].code))
                else { return nil }
            }
            return (1, 0)
        }
    }

    /// A client policy's code for an address query, whatever its listing: A `code`, TXT
    /// `text`, ANY as A (RFC 8482), NODATA for other types; with the negative TTL, so the
    /// code does not outlive the client's state in caches for long.
    func policy(
        code: UInt32, text: [UInt8], address: ListedAddress, into writer: inout ResponseWriter,
        counters: inout ResponderCounters
    ) -> Int {
        let type = query.type
        guard type == .a || type == .txt || type == .any else {
            return negative(.noError, into: &writer, counters: &counters)
        }
        let ttl = zone.negativeTTL
        return write(.noError, into: &writer, counters: &counters) { writer in
            if type == .txt {
                guard writeTXT(text, address: address, ttl: ttl, into: &writer) else { return nil }
            } else {
                guard writer.write(Self.ownerIsQuestion), writer.write(RRType.a.rawValue),
                      writer.write(DNSClass.internet.rawValue), writer.write(ttl), writer.write(UInt16(4)),
                      writer.write(code)
                else { return nil }
            }
            return (1, 0)
        }
    }

    /// NXDOMAIN, or NODATA for `.noError`: no answer, the SOA in authority (RFC 2308 §3, §5).
    func negative(_ rcode: RCode, into writer: inout ResponseWriter, counters: inout ResponderCounters) -> Int {
        if rcode == .noError { counters.noData &+= 1 }
        return write(rcode, into: &writer, counters: &counters) { writer in
            guard writeRecord(owner: apexPointer, type: .soa, ttl: zone.negativeTTL, rdata: zone.soaRData, into: &writer)
            else { return nil }
            return (0, 1)
        }
    }

    // MARK: Framing

    /// Writes header and question, lets `records` fill the sections (returning the answer and
    /// authority counts, or nil when out of space), then OPT; falls back to TC=1.
    private func write(
        _ rcode: RCode, into writer: inout ResponseWriter, counters: inout ResponderCounters,
        records: (inout ResponseWriter) -> (answers: UInt16, authority: UInt16)?
    ) -> Int {
        let fullLimit = writer.limit
        let optSize = query.edns == nil ? 0 : Responder.optSize
        guard fullLimit >= query.questionEnd &+ optSize else { return 0 }  // cannot even echo
        writer.setLimit(fullLimit &- optSize)                              // room for OPT kept back

        var flags: UInt16 = 0x8000 | 0x0400 | (query.header.flags & 0x7900) | (rcode.rawValue & 0xF)
        _ = writer.write(query.header.id)
        let flagsOffset = writer.offset
        _ = writer.write(flags)
        _ = writer.write(UInt16(1))
        let countsOffset = writer.offset
        _ = writer.write(UInt32(0))                                  // AN, NS, patched below
        _ = writer.write(UInt16(0))                                  // AR, patched below
        _ = writer.write(UnsafeRawBufferPointer(rebasing: packet[WireLimits.headerSize..<query.questionEnd]))
        let questionEnd = writer.offset

        if let counts = records(&writer) {
            writer.patch(counts.answers, at: countsOffset)
            writer.patch(counts.authority, at: countsOffset &+ 2)
        } else {
            writer.rewind(to: questionEnd)
            flags |= 0x0200  // TC
            writer.patch(flags, at: flagsOffset)
            counters.truncated &+= 1
        }
        writer.setLimit(fullLimit)
        if let edns = query.edns {
            _ = Responder.writeOPT(rcode: rcode, edns: edns, into: &writer)  // space reserved above
            writer.patch(UInt16(1), at: countsOffset &+ 4)
        }
        return writer.offset
    }

    // MARK: Records

    private func writeRecord(
        owner: UInt16, type: RRType, ttl: UInt32, rdata: [UInt8], into writer: inout ResponseWriter
    ) -> Bool {
        guard writer.write(owner), writer.write(type.rawValue), writer.write(DNSClass.internet.rawValue),
              writer.write(ttl), writer.write(UInt16(truncatingIfNeeded: rdata.count))
        else { return false }
        return rdata.withUnsafeBytes { writer.write($0) }
    }

    /// TXT (RFC 1035 §3.3.14) from a template, `$` replaced by the address, split into
    /// character-strings of at most 255 bytes.
    private func writeTXT(_ template: [UInt8], address: ListedAddress, ttl: UInt32, into writer: inout ResponseWriter) -> Bool {
        guard writer.write(Self.ownerIsQuestion), writer.write(RRType.txt.rawValue),
              writer.write(DNSClass.internet.rawValue), writer.write(ttl)
        else { return false }
        let rdLengthOffset = writer.offset
        guard writer.write(UInt16(0)) else { return false }
        var text = AddressText()
        switch address {
        case .v4(let value): text.format(v4: value)
        case .v6(let value): text.format(v6: value)
        }
        var stringStart = writer.offset
        guard writer.write(UInt8(0)) else { return false }
        var stringLength = 0
        var ok = true
        func emit(_ byte: UInt8) {
            if stringLength == 255 {
                writer.patch(UInt8(255), at: stringStart)
                stringStart = writer.offset
                guard writer.write(UInt8(0)) else { ok = false; return }
                stringLength = 0
            }
            guard writer.write(byte) else { ok = false; return }
            stringLength &+= 1  // ≤ 255
        }
        for byte in template where ok {
            if byte == 0x24 {  // "$"
                for index in 0..<text.count where ok { emit(text.bytes[index]) }
            } else {
                emit(byte)
            }
        }
        guard ok else { return false }
        writer.patch(UInt8(truncatingIfNeeded: stringLength), at: stringStart)
        let rdLength = writer.offset &- rdLengthOffset &- 2  // bytes after the RDLENGTH field
        guard rdLength <= Int(UInt16.max) else { return false }
        writer.patch(UInt16(rdLength), at: rdLengthOffset)
        return true
    }
}
