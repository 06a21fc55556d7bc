// ZoneRecordStream.swift -- a zone snapshot as resource records, written one at a time.

/// The records of a zone as a standard secondary holds them, written in wire form one
/// record at a time, so that a transfer never holds more than the message being filled.
///
/// Order (RFC 5936 §2.2): the SOA, the apex NS records, the IPv4 names, the IPv6 names,
/// the SOA again. Each name from ``ZoneNodeWalker`` gives an A record (127.0.0.X) and a
/// TXT record, the template with `$` replaced by the host's address, or for a wildcard by
/// its network in CIDR form (a wildcard cannot know the address asked for).
///
/// The RFC 5782 §5 test points are written whatever the table holds: `127.0.0.2` and
/// `::ffff:127.0.0.2` listed, `127.0.0.1` and `::ffff:127.0.0.1` never (carved out of any
/// wider listing).
///
/// Owner names are written as their address labels followed by a compression pointer to
/// the zone name (`apexPointer`), which the caller has put in the message already (the
/// echoed question).
public struct ZoneRecordStream {
    private enum Phase {
        case soa, nameservers(Int), v4, v6, closingSOA, done
    }

    public let snapshot: ZoneSnapshot
    private let renderer: ZoneRecordRenderer
    private var phase = Phase.soa
    private var v4: ZoneNodeWalker<UInt32>
    private var v6: ZoneNodeWalker<UInt128>
    private var pair = RecordPair()
    /// Records written so far.
    public private(set) var recordCount = 0

    /// - Parameter now: Unix seconds: listings expired by then are left out, and the TTL
    ///   of an expiring listing is capped at the time it has left, as in answers.
    public init(snapshot: ZoneSnapshot, now: UInt32) {
        self.snapshot = snapshot
        renderer = ZoneRecordRenderer(zone: snapshot.zone, now: now)
        (v4, v6) = Self.walkers(snapshot.table, now: now)
    }

    /// Walkers over both families, with the RFC 5782 test points laid over the table.
    static func walkers(_ table: PrefixTable, now: UInt32) -> (ZoneNodeWalker<UInt32>, ZoneNodeWalker<UInt128>) {
        (walker4(table, now: now), walker6(table, now: now))
    }

    /// The IPv4 names of `table` below `root` (all of them by default), test points included.
    static func walker4(_ table: PrefixTable, now: UInt32,
                        root: TablePrefix<UInt32> = TablePrefix(address: 0, prefixLength: 0)) -> ZoneNodeWalker<UInt32> {
        let listed4 = table.lookup(v4: Responder.testPointListed4) ?? Responder.defaultValue
        return ZoneNodeWalker(table.v4, overlay: [(Responder.testPointUnlisted4, .excluded),
                                                  (Responder.testPointListed4, listed4)], now: now, root: root)
    }

    /// The IPv6 names of `table` below `root` (all of them by default), test points included.
    static func walker6(_ table: PrefixTable, now: UInt32,
                        root: TablePrefix<UInt128> = TablePrefix(address: 0, prefixLength: 0)) -> ZoneNodeWalker<UInt128> {
        let listed6 = table.lookup(v6: Responder.testPointListed6) ?? Responder.defaultValue
        return ZoneNodeWalker(table.v6, overlay: [(Responder.testPointUnlisted6, .excluded),
                                                  (Responder.testPointListed6, listed6)], now: now, root: root)
    }

    /// The outcome of ``writeNext(into:apexPointer:)``.
    public enum Step: Equatable {
        /// One record was written.
        case written
        /// The next record does not fit; nothing was written.
        case full
        /// Every record has been written.
        case finished
    }

    /// Writes the next record, or reports that it does not fit (the writer is unchanged).
    ///
    /// - Parameter apexPointer: a compression pointer (`0xC000 | offset`) to the zone name
    ///   in the message.
    public mutating func writeNext(into writer: inout ResponseWriter, apexPointer: UInt16) -> Step {
        let start = writer.offset
        let step = write(into: &writer, apexPointer: apexPointer)
        if step == .full { writer.rewind(to: start) }
        if step == .written { recordCount &+= 1 }
        return step
    }

    private mutating func write(into writer: inout ResponseWriter, apexPointer: UInt16) -> Step {
        while true {
            if let step = pair.continueWriting(renderer, into: &writer, apexPointer: apexPointer) { return step }
            switch phase {
            case .soa, .closingSOA:
                guard renderer.writeSOA(into: &writer, apexPointer: apexPointer) else { return .full }
                if case .soa = phase { phase = .nameservers(0) } else { phase = .done }
                return .written
            case .nameservers(let index):
                guard index < renderer.zone.nsRData.count else { phase = .v4; continue }
                guard renderer.writeNS(index, into: &writer, apexPointer: apexPointer) else { return .full }
                phase = .nameservers(index + 1)
                return .written
            case .v4:
                guard let node = v4.next() else { phase = .v6; continue }
                pair.start(.v4(node))
            case .v6:
                guard let node = v6.next() else { phase = .closingSOA; continue }
                pair.start(.v6(node))
            case .done:
                return .finished
            }
        }
    }
}

/// A name of either address family.
enum AnyZoneNode: Equatable {
    case v4(ZoneNode<UInt32>)
    case v6(ZoneNode<UInt128>)

    var value: TableValue {
        switch self {
        case .v4(let node): node.value
        case .v6(let node): node.value
        }
    }

    /// Orders names as the walkers yield them: IPv4 first, then by (start, length).
    var order: (family: Int, start: UInt128, length: Int) {
        switch self {
        case .v4(let node): (0, UInt128(node.start), node.length)
        case .v6(let node): (1, node.start, node.length)
        }
    }
}

/// The A and TXT records of one name, written one after the other, possibly across two
/// messages.
struct RecordPair {
    private var node: AnyZoneNode?
    private var aWritten = false

    mutating func start(_ next: AnyZoneNode) {
        node = next
        aWritten = false
    }

    /// Writes the pending record of the current name: `.written`, `.full`, or nil when the
    /// name is done (or none was started).
    mutating func continueWriting(_ renderer: ZoneRecordRenderer, into writer: inout ResponseWriter,
                                  apexPointer: UInt16) -> ZoneRecordStream.Step? {
        guard let current = node else { return nil }
        if !aWritten {
            guard renderer.writeA(current, into: &writer, apexPointer: apexPointer) else { return .full }
            aWritten = true
            return .written
        }
        guard renderer.writeTXT(current, into: &writer, apexPointer: apexPointer) else { return .full }
        node = nil
        return .written
    }
}

/// Writes a zone snapshot's records: the apex SOA and NS, and a name's A and TXT.
struct ZoneRecordRenderer {
    let zone: EncodedZone
    let now: UInt32

    func writeSOA(into writer: inout ResponseWriter, apexPointer: UInt16) -> Bool {
        writer.write(apexPointer) && writer.write(RRType.soa.rawValue)
            && writer.write(DNSClass.internet.rawValue) && writer.write(zone.config.soa.ttl)
            && writer.write(UInt16(truncatingIfNeeded: zone.soaRData.count))
            && zone.soaRData.withUnsafeBytes({ writer.write($0) })
    }

    func writeNS(_ index: Int, into writer: inout ResponseWriter, apexPointer: UInt16) -> Bool {
        let rdata = zone.nsRData[index]
        return writer.write(apexPointer) && writer.write(RRType.ns.rawValue)
            && writer.write(DNSClass.internet.rawValue) && writer.write(zone.config.nsTTL)
            && writer.write(UInt16(truncatingIfNeeded: rdata.count)) && rdata.withUnsafeBytes({ writer.write($0) })
    }

    func writeA(_ node: AnyZoneNode, into writer: inout ResponseWriter, apexPointer: UInt16) -> Bool {
        writeOwner(node, into: &writer, apexPointer: apexPointer)
            && writer.write(RRType.a.rawValue) && writer.write(DNSClass.internet.rawValue)
            && writer.write(ttl(for: node.value)) && writer.write(UInt16(4))
            && writer.write(UInt32(0x7F00_0000) | UInt32(listing(for: node.value).code))
    }

    /// What a name's records say, for comparing two snapshots: code, template, TTL.
    func rendering(of node: AnyZoneNode) -> (code: UInt8, text: [UInt8], ttl: UInt32) {
        let listing = listing(for: node.value)
        return (listing.code, listing.text, ttl(for: node.value))
    }

    private func listing(for value: TableValue) -> EncodedListing {
        let index = Int(value.listing) &- 1  // ≥ 0: only live listings are walked
        return zone.listings[index >= 0 && index < zone.listings.count ? index : 0]
    }

    private func ttl(for value: TableValue) -> UInt32 {
        var ttl = zone.config.ttl
        if value.expires != 0 { ttl = min(ttl, value.expires &- now) }  // now < expires: live
        return ttl
    }

    /// The TXT text of a name: its template with `$` replaced by the host's address, or by
    /// a wildcard's network in CIDR form.
    func text(of node: AnyZoneNode) -> [UInt8] {
        var address = AddressText()
        var suffix: Int?
        switch node {
        case .v4(let inner):
            address.format(v4: inner.start)
            if inner.wildcard { suffix = inner.length }
        case .v6(let inner):
            address.format(v6: inner.start)
            if inner.wildcard { suffix = inner.length }
        }
        var shown: [UInt8] = (0..<address.count).map { address.bytes[$0] }
        if let suffix { shown += [0x2F] + Array(String(suffix).utf8) }  // "/"
        var text: [UInt8] = []
        for byte in listing(for: node.value).text {
            if byte == 0x24 { text += shown } else { text.append(byte) }  // "$"
        }
        return text
    }

    func writeTXT(_ node: AnyZoneNode, into writer: inout ResponseWriter, apexPointer: UInt16) -> Bool {
        guard writeOwner(node, into: &writer, apexPointer: apexPointer),
              writer.write(RRType.txt.rawValue), writer.write(DNSClass.internet.rawValue),
              writer.write(ttl(for: node.value))
        else { return false }
        let rdLengthOffset = writer.offset
        guard writer.write(UInt16(0)) else { return false }
        var strings = CharacterStrings(writer: writer)
        for byte in text(of: node) { strings.append(byte) }
        guard let finished = strings.finish() else { return false }
        writer = finished
        let rdLength = writer.offset &- rdLengthOffset &- 2
        guard rdLength <= Int(UInt16.max) else { return false }
        writer.patch(UInt16(rdLength), at: rdLengthOffset)
        return true
    }

    /// The owner: a wildcard label if any, the address labels least significant first,
    /// then the pointer to the zone name.
    private func writeOwner(_ node: AnyZoneNode, into writer: inout ResponseWriter, apexPointer: UInt16) -> Bool {
        let hexDigits: StaticString = "0123456789abcdef"
        switch node {
        case .v4(let inner):
            if inner.wildcard { guard writer.write(UInt8(1)), writer.write(UInt8(0x2A)) else { return false } }
            var octet = inner.length / 8
            while octet > 0 {
                octet -= 1
                let value = UInt8(truncatingIfNeeded: inner.start >> UInt32(24 - 8 * octet))
                var digits = InlineArray<3, UInt8>(repeating: 0)
                var count = 0
                if value >= 100 { digits[count] = 0x30 &+ value / 100; count += 1 }
                if value >= 10 { digits[count] = 0x30 &+ (value / 10) % 10; count += 1 }
                digits[count] = 0x30 &+ value % 10; count += 1
                guard writer.write(UInt8(count)) else { return false }
                for index in 0..<count { guard writer.write(digits[index]) else { return false } }
            }
        case .v6(let inner):
            if inner.wildcard { guard writer.write(UInt8(1)), writer.write(UInt8(0x2A)) else { return false } }
            var nibble = inner.length / 4
            while nibble > 0 {
                nibble -= 1
                let value = Int(truncatingIfNeeded: inner.start >> UInt128(124 - 4 * nibble)) & 0xF
                guard writer.write(UInt8(1)), writer.write(hexDigits.utf8Start[value]) else { return false }
            }
        }
        return writer.write(apexPointer)
    }
}

/// Appends text as RFC 1035 §3.3.14 character-strings of at most 255 bytes each.
private struct CharacterStrings {
    var writer: ResponseWriter
    var stringStart: Int
    var length = 0
    var ok: Bool

    init(writer: ResponseWriter) {
        self.writer = writer
        stringStart = writer.offset
        ok = self.writer.write(UInt8(0))
    }

    mutating func append(_ byte: UInt8) {
        guard ok else { return }
        if length == 255 {
            writer.patch(UInt8(255), at: stringStart)
            stringStart = writer.offset
            guard writer.write(UInt8(0)) else { ok = false; return }
            length = 0
        }
        guard writer.write(byte) else { ok = false; return }
        length += 1
    }

    func finish() -> ResponseWriter? {
        guard ok else { return nil }
        writer.patch(UInt8(truncatingIfNeeded: length), at: stringStart)
        return writer
    }
}
