// Responder.swift -- answers DNSBL queries from the published snapshot, allocation-free.

/// The DNSBL's answer logic: the DNS behaviour table (docs/DNS-BEHAVIOUR.md) over the served zones.
///
/// RFC 1035 (messages), RFC 5782 (DNSBL conventions and test points), RFC 2308 (negative
/// answers), RFC 6891 (EDNS0), RFC 8482 (ANY), RFC 8020 (empty non-terminals).
public struct Responder: QueryResponder {
    public let store: SnapshotStore
    /// Wall-clock time in Unix seconds; read once per batch. Injected so tests can move time.
    public let clock: @Sendable () -> UInt32
    /// Every answered query, counted per session (see ``QueryStatistics``).
    public let statistics: QueryStatistics
    /// Response rate limiting of UDP answers; nil: off.
    public let rateLimiter: ResponseRateLimiter?
    /// Refused networks, fixed-code networks and daily quotas; nil: every client alike.
    public let clientPolicy: ClientPolicy?
    /// Monotonic time in microseconds for the rate limiter; read once per batch while it is on.
    public let monotonicClock: @Sendable () -> UInt64

    public init(store: SnapshotStore, clock: @escaping @Sendable () -> UInt32,
                statistics: QueryStatistics = QueryStatistics(),
                rateLimiter: ResponseRateLimiter? = nil, clientPolicy: ClientPolicy? = nil,
                monotonicClock: @escaping @Sendable () -> UInt64 = Responder.continuousMicroseconds()) {
        self.store = store
        self.clock = clock
        self.statistics = statistics
        self.rateLimiter = rateLimiter
        self.clientPolicy = clientPolicy
        self.monotonicClock = monotonicClock
    }

    /// Microseconds of the process's `ContinuousClock` since this call.
    public static func continuousMicroseconds() -> @Sendable () -> UInt64 {
        let origin = ContinuousClock.now
        return {
            let (seconds, attoseconds) = (ContinuousClock.now - origin).components
            // Non-negative (monotonic clock); 2^64 µs is 584,000 years.
            return UInt64(seconds) &* 1_000_000 &+ UInt64(attoseconds / 1_000_000_000_000)
        }
    }

    /// Per-thread state: the snapshot in use, the time, and counters.
    public struct Session {
        public var zones: ServedZones
        var generation: UInt64
        public var now: UInt32
        /// Monotonic microseconds of this batch (while rate limiting is on).
        var microseconds: UInt64 = 0
        /// Responses this session has had limited; every `slip`-th one is sent truncated.
        var limitedCount = 0
        public var counters = ResponderCounters()
        /// This session's block of ``QueryStatistics``, and where each of `zones` counts.
        let recorder: QueryStatistics.Recorder
        var zoneSlots: QueryStatistics.ZoneSlots
    }

    public func makeSession() -> Session {
        let generation = store.generation
        let zones = store.load()
        return Session(zones: zones, generation: generation, now: clock(),
                       recorder: statistics.lease(), zoneSlots: statistics.zoneSlots(for: zones))
    }

    public func beginBatch(_ session: inout Session) {
        let generation = store.generation
        if generation != session.generation {
            session.zones = store.load()
            session.zoneSlots = statistics.zoneSlots(for: session.zones)
            session.generation = generation
        }
        session.now = clock()
        if rateLimiter != nil { session.microseconds = monotonicClock() }
    }

    public func respond(
        to query: UnsafeRawBufferPointer,
        into response: UnsafeMutableRawBufferPointer,
        transport: Transport,
        client: ClientAddress?,
        session: inout Session
    ) -> Int {
        var written: Int
        var rcode: RCode
        var zoneSlot = 0
        var type = QueryTypeBucket.other
        let questionEnd: Int
        let edns: EDNS?
        let listedBefore = session.counters.listed
        var refused = false
        if let clientPolicy, let client { refused = clientPolicy.refuses(client) }
        switch Query.classify(query) {
        case .drop:
            session.counters.dropped &+= 1  // wrapping counter
            return 0
        case let .reply(code, header, end, options):
            (questionEnd, edns, rcode) = (end, options, refused ? .refused : code)
            session.counters.count(rcode)
            var writer = ResponseWriter(response, limit: Self.sizeLimit(transport: transport, edns: edns))
            written = Self.writeBare(rcode, header: header, question: query, questionEnd: questionEnd,
                                     edns: edns, authoritative: false, into: &writer)
        case let .answer(parsed):
            (questionEnd, edns, type) = (parsed.questionEnd, parsed.edns, QueryTypeBucket(parsed.type))
            var writer = ResponseWriter(response, limit: Self.sizeLimit(transport: transport, edns: edns))
            if refused {
                rcode = .refused
                session.counters.count(rcode)
                written = Self.writeBare(.refused, header: parsed.header, question: query, questionEnd: questionEnd,
                                         edns: edns, authoritative: false, into: &writer)
            } else {
                written = answer(parsed, packet: query, client: client, into: &writer, session: &session, zoneSlot: &zoneSlot)
                // The RCODE as written (RFC 1035 §4.1.1): answers never carry an extended
                // RCODE, so the header's four bits are the whole code.
                rcode = written >= WireLimits.headerSize ? RCode(rawValue: UInt16(response[3] & 0x0F)) : .noError
            }
        }
        guard written >= WireLimits.headerSize else { return 0 }
        if refused { session.recorder.record(.refused) }

        // Response rate limiting (UDP only: a TCP client has shown its address is real).
        if transport == .udp, let rateLimiter, let client,
           !rateLimiter.admit(client, responseClass: .of(response), zone: zoneSlot, now: session.microseconds) {
            session.limitedCount &+= 1  // wrapping counter; only its remainder matters
            let slip = rateLimiter.slip
            guard slip > 0, session.limitedCount % slip == 0 else {
                session.counters.listed = listedBefore
                session.recorder.record(.rateLimitDropped)
                return 0
            }
            written = Self.writeSlip(into: response, questionEnd: questionEnd, rcode: rcode, edns: edns)
            session.counters.listed = listedBefore
            session.recorder.record(.rateLimitSlipped)
        }
        session.recorder.record(
            transport: transport, zoneSlot: zoneSlot, type: type,
            outcome: QueryOutcome(rcode, listed: session.counters.listed != listedBefore),
            truncated: response[2] & 0x02 != 0)
        return written
    }

    /// Turns a written response into its slip (RRL): header and question kept, TC=1, no
    /// records but OPT, so the client retries over TCP and the reply is no bigger than the
    /// query (RFC 1035 §4.1.1, RFC 6891 §6.1.1).
    static func writeSlip(into response: UnsafeMutableRawBufferPointer, questionEnd: Int, rcode: RCode, edns: EDNS?) -> Int {
        response[2] |= 0x02                                           // TC
        var writer = ResponseWriter(response, limit: response.count, continuingAt: questionEnd)
        writer.patch(UInt16(0), at: 6)                                // ANCOUNT
        writer.patch(UInt16(0), at: 8)                                // NSCOUNT
        writer.patch(UInt16(edns == nil ? 0 : 1), at: 10)             // ARCOUNT
        if let edns { _ = writeOPT(rcode: rcode, edns: edns, into: &writer) }  // fits: it did before
        return writer.offset
    }

    /// UDP answers fit the client's EDNS size (512 without EDNS), never above our own 1,232;
    /// TCP answers fit the 16-bit length prefix (RFC 1035 §4.2).
    @inline(__always)
    static func sizeLimit(transport: Transport, edns: EDNS?) -> Int {
        switch transport {
        case .tcp: return WireLimits.maxTCPMessage
        case .udp:
            guard let edns else { return WireLimits.classicUDPSize }
            return min(edns.udpPayloadSize, WireLimits.ednsUDPSize)
        }
    }

    // MARK: - Answers

    /// Answers an in-class query; sets `zoneSlot` to the matched zone's statistics slot.
    private func answer(
        _ query: Query, packet: UnsafeRawBufferPointer, client: ClientAddress?, into writer: inout ResponseWriter,
        session: inout Session, zoneSlot: inout Int
    ) -> Int {
        guard query.qclass == .internet else {
            session.counters.count(.refused)
            return Self.writeBare(.refused, header: query.header, question: packet,
                                  questionEnd: query.questionEnd, edns: query.edns, authoritative: false, into: &writer)
        }

        // Label start offsets (relative to the name's start at 12; a name is < 256 bytes).
        var labelStarts = InlineArray<128, UInt8>(repeating: 0)
        var offset = WireLimits.headerSize
        for index in 0..<query.labelCount {
            labelStarts[index] = UInt8(truncatingIfNeeded: offset &- WireLimits.headerSize)  // < 255
            offset &+= 1 &+ Int(packet[offset])  // labels were bounds-checked by classify
        }

        guard let position = Self.matchZone(query, packet: packet, labelStarts: labelStarts, zones: session.zones.zones)
        else {
            session.counters.count(.refused)
            return Self.writeBare(.refused, header: query.header, question: packet,
                                  questionEnd: query.questionEnd, edns: query.edns, authoritative: false, into: &writer)
        }
        let zone = session.zones.zones[position]
        zoneSlot = position < session.zoneSlots.count
            ? Int(session.zoneSlots[position]) : QueryStatistics.otherZonesSlot
        let encoded = zone.zone
        let relativeCount = query.labelCount &- encoded.labelCount  // ≥ 0: the zone matched a suffix
        let apexOffset = Self.suffixStart(query, labelStarts: labelStarts, suffixLabels: encoded.labelCount)
        // Only AXFR/IXFR would need more than a query; transfers are not offered here.
        if query.type == .axfr || query.type == .ixfr {
            session.counters.count(.refused)
            return Self.writeBare(.refused, header: query.header, question: packet,
                                  questionEnd: query.questionEnd, edns: query.edns, authoritative: true, into: &writer)
        }

        let response = AnswerBuilder(query: query, packet: packet, zone: encoded, apexOffset: apexOffset)
        if relativeCount == 0 {
            return response.apex(into: &writer, counters: &session.counters)
        }

        switch AddressName.parse(packet, labelStarts: labelStarts, count: relativeCount) {
        case .v4(let address):
            if let answered = policyAnswer(client, address: .v4(address), response: response, into: &writer, session: &session) {
                return answered
            }
            let value = Self.lookup(v4: address, in: zone)
            return response.listing(value, address: .v4(address), now: session.now, into: &writer,
                                    counters: &session.counters)
        case .v6(let address):
            if let answered = policyAnswer(client, address: .v6(address), response: response, into: &writer, session: &session) {
                return answered
            }
            let value = Self.lookup(v6: address, in: zone)
            return response.listing(value, address: .v6(address), now: session.now, into: &writer,
                                    counters: &session.counters)
        case .emptyNonTerminal:
            return response.negative(.noError, into: &writer, counters: &session.counters)
        case .notAnAddress:
            return response.negative(.nxDomain, into: &writer, counters: &session.counters)
        }
    }

    /// The client policy's answer to an address query, or nil when the address is answered
    /// as listed or not (counts the query against the client network's quota).
    @inline(__always)
    private func policyAnswer(
        _ client: ClientAddress?, address: ListedAddress, response: AnswerBuilder,
        into writer: inout ResponseWriter, session: inout Session
    ) -> Int? {
        guard let clientPolicy, let client else { return nil }
        switch clientPolicy.verdict(for: client, day: session.now / 86400) {
        case .answer:
            return nil
        case .fixedCode:
            session.recorder.record(.fixedCode)
            return response.policy(code: ClientPolicyConfiguration.fixedCode, text: clientPolicy.fixedText,
                                   address: address, into: &writer, counters: &session.counters)
        case .overQuota:
            session.recorder.record(.overQuota)
            return response.policy(code: ClientPolicyConfiguration.overQuotaCode, text: clientPolicy.quotaText,
                                   address: address, into: &writer, counters: &session.counters)
        }
    }

    /// The RFC 5782 §5 test points hold whatever the table says.
    static let testPointListed4: UInt32 = 0x7F00_0002     // 127.0.0.2
    static let testPointUnlisted4: UInt32 = 0x7F00_0001   // 127.0.0.1
    static let testPointListed6: UInt128 = 0xFFFF_7F00_0002    // ::FFFF:7F00:2
    static let testPointUnlisted6: UInt128 = 0xFFFF_7F00_0001  // ::FFFF:7F00:1
    static let defaultValue = TableValue(listing: 1)

    @inline(__always)
    static func lookup(v4 address: UInt32, in zone: ZoneSnapshot) -> TableValue? {
        if address == testPointListed4 { return zone.table.lookup(v4: address) ?? defaultValue }
        if address == testPointUnlisted4 { return nil }
        return zone.table.lookup(v4: address)
    }

    @inline(__always)
    static func lookup(v6 address: UInt128, in zone: ZoneSnapshot) -> TableValue? {
        if address == testPointListed6 { return zone.table.lookup(v6: address) ?? defaultValue }
        if address == testPointUnlisted6 { return nil }
        if let value = zone.table.lookup(v6: address) { return value }
        // An IPv4-mapped address (::ffff:0:0/96, RFC 4291 §2.5.5.2) is its IPv4 address.
        if address >> 32 == 0xFFFF { return lookup(v4: UInt32(truncatingIfNeeded: address), in: zone) }
        return nil
    }

    /// Where the last `suffixLabels` labels of the question name start (the root byte for 0).
    @inline(__always)
    static func suffixStart(_ query: Query, labelStarts: InlineArray<128, UInt8>, suffixLabels: Int) -> Int {
        suffixLabels == 0
            ? query.nameEnd &- 1
            : WireLimits.headerSize &+ Int(labelStarts[query.labelCount &- suffixLabels])  // 0 < suffixLabels ≤ labelCount
    }

    /// The position in `zones` of the most specific served zone whose name is a suffix of
    /// the question name.
    @inline(__always)
    static func matchZone(
        _ query: Query, packet: UnsafeRawBufferPointer, labelStarts: InlineArray<128, UInt8>, zones: [ZoneSnapshot]
    ) -> Int? {
        for (position, zone) in zones.enumerated() {
            let zoneLabels = zone.zone.labelCount
            guard query.labelCount >= zoneLabels else { continue }
            let start = suffixStart(query, labelStarts: labelStarts, suffixLabels: zoneLabels)
            let wire = zone.zone.wireName
            guard query.nameEnd &- start == wire.count else { continue }
            var matched = true
            wire.withUnsafeBufferPointer { zoneBytes in
                for index in 0..<zoneBytes.count where asciiLowercase(packet[start &+ index]) != zoneBytes[index] {
                    matched = false
                    break
                }
            }
            if matched { return position }
        }
        return nil
    }

    // MARK: - Bare responses (errors, REFUSED)

    /// Writes a header-and-question response with no records, plus OPT when the query had one.
    static func writeBare(
        _ rcode: RCode, header: Header, question: UnsafeRawBufferPointer, questionEnd: Int, edns: EDNS?,
        authoritative: Bool, into writer: inout ResponseWriter
    ) -> Int {
        let hasQuestion = questionEnd > WireLimits.headerSize
        var flags: UInt16 = 0x8000 | (header.flags & 0x7900)  // QR, echo opcode and RD
        if authoritative { flags |= 0x0400 }
        flags |= rcode.rawValue & 0xF
        guard writer.write(header.id), writer.write(flags), writer.write(UInt16(hasQuestion ? 1 : 0)),
              writer.write(UInt16(0)), writer.write(UInt16(0)), writer.write(UInt16(edns == nil ? 0 : 1))
        else { return 0 }
        if hasQuestion {
            let bytes = UnsafeRawBufferPointer(rebasing: question[WireLimits.headerSize..<questionEnd])
            guard writer.write(bytes) else { return 0 }
        }
        if let edns {
            guard writeOPT(rcode: rcode, edns: edns, into: &writer) else { return 0 }
        }
        return writer.offset
    }

    /// The OPT pseudo-record (RFC 6891 §6.1.2): root owner, our payload size, extended RCODE.
    static let optSize = 11

    @inline(__always)
    static func writeOPT(rcode: RCode, edns: EDNS, into writer: inout ResponseWriter) -> Bool {
        let extendedRCode = UInt8(truncatingIfNeeded: rcode.rawValue >> 4)
        return writer.write(UInt8(0)) && writer.write(RRType.opt.rawValue)
            && writer.write(UInt16(WireLimits.ednsUDPSize))
            && writer.write(extendedRCode) && writer.write(WireLimits.ednsVersion)
            && writer.write(UInt16(edns.dnssecOK ? 0x8000 : 0)) && writer.write(UInt16(0))
    }
}

/// Per-session answer tallies kept by the answer builder; the served metrics come from
/// ``QueryStatistics``, which reads `listed` to tell listing answers apart.
public struct ResponderCounters: Sendable, Equatable {
    public var listed = 0
    public var notListed = 0
    public var noData = 0
    public var refused = 0
    public var formErr = 0
    public var notImp = 0
    public var badVers = 0
    public var truncated = 0
    public var dropped = 0

    public init() {}

    @inline(__always)
    mutating func count(_ rcode: RCode) {
        switch rcode {
        case .refused: refused &+= 1
        case .formErr: formErr &+= 1
        case .notImp: notImp &+= 1
        case .badVers: badVers &+= 1
        default: break
        }
    }

    public static func + (lhs: Self, rhs: Self) -> Self {
        var sum = lhs
        sum.listed &+= rhs.listed; sum.notListed &+= rhs.notListed; sum.noData &+= rhs.noData
        sum.refused &+= rhs.refused; sum.formErr &+= rhs.formErr; sum.notImp &+= rhs.notImp
        sum.badVers &+= rhs.badVers; sum.truncated &+= rhs.truncated; sum.dropped &+= rhs.dropped
        return sum
    }
}
