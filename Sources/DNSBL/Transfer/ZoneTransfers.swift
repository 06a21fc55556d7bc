// ZoneTransfers.swift -- decides transfer requests (AXFR, IXFR) and streams the zone.

import Synchronization

/// The address a transfer request came from, for the access list.
public struct TransferClient: Sendable, CustomStringConvertible {
    /// The address as an integer; IPv4 in the low 32 bits.
    public var address: UInt128
    public var isIPv6: Bool
    public var description: String

    public init(address: UInt128, isIPv6: Bool, description: String) {
        (self.address, self.isIPv6, self.description) = (address, isIPv6, description)
    }

    /// The address as access lists match it (IPv4-mapped IPv6 as IPv4).
    var clientAddress: ClientAddress { isIPv6 ? .v6(address) : .v4(UInt32(truncatingIfNeeded: address)) }
}

/// What became of a transfer request, for the log and counters.
public struct TransferOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The zone asked for, as asked (lowercase).
    public var zone: String
    /// `AXFR` or `IXFR`, and for IXFR whether a difference or the full zone was sent.
    public var kind: String
    /// The response code sent.
    public var rcode: RCode
    /// Why the request was not served; nil when it was.
    public var refusal: String?
    /// The key that signed the request, if it was signed and the key is known.
    public var key: String?
    /// Which check refused the request; nil when it was served.
    public var refusedBy: Check?

    /// The checks a transfer request passes, in the counters' terms.
    public enum Check: String, Sendable, CaseIterable {
        /// The request itself: a malformed TSIG record, a class other than IN, a name that
        /// is not a served zone.
        case request
        /// TSIG: an unknown key, a MAC that does not verify, the time, or not signed with
        /// the zone's key.
        case tsig
        /// The access list: a zone not offered for transfer, a client outside `allow`.
        case acl
    }

    public var description: String {
        let base = "\(kind) \(zone)"
        let signed = key.map { " key \($0)" } ?? ""
        return refusal.map { "\(base)\(signed): \($0)" } ?? "\(base)\(signed)"
    }
}

/// Transfer requests served and refused since start, for the metrics.
public struct TransferCounts: Sendable, Equatable {
    /// AXFR requests answered with the zone.
    public var axfr = 0
    /// IXFR requests answered: a difference, the full zone, or the SOA alone (up to date).
    public var ixfr = 0
    /// Requests refused, by the check that refused them.
    public var refused: [TransferOutcome.Check: Int] = [:]

    public init() {}
}

/// RFC 1982 serial number arithmetic for 32-bit SOA serials.
public enum SerialNumber {
    /// Whether `a` is greater than `b` in serial number arithmetic (RFC 1982 §3.2); equal
    /// serials, and pairs exactly 2^31 apart, are neither greater nor less.
    public static func isGreater(_ a: UInt32, than b: UInt32) -> Bool {
        a != b && ((a < b && b &- a > 0x8000_0000) || (a > b && a &- b < 0x8000_0000))
    }
}

/// Answers zone transfer requests over TCP from the published snapshots (RFC 5936, RFC 1995).
///
/// Checks in order: the request is well formed (one question, class IN); its TSIG, when
/// there is one (RFC 8945 §5.2: unknown key → NOTAUTH/BADKEY, wrong MAC → NOTAUTH/BADSIG,
/// clock skew → NOTAUTH/BADTIME); the name is a served zone's apex (else NOTAUTH); the
/// zone is offered for transfer, the client is in its access list and the request is
/// signed with its key (else REFUSED). Then the zone streams from the snapshot current at
/// that moment: the transfer keeps that snapshot, whatever is published meanwhile.
///
/// IXFR (RFC 1995): a secondary that already has the current serial gets the SOA alone
/// (§4, "up to date"); one whose serial is among the last ``historyDepth`` snapshots
/// published gets the condensed difference from it (§5); any other, or a difference of more
/// than ``incrementalLimit`` names, gets the whole zone in AXFR form, which §4 allows.
public final class ZoneTransfers: Sendable {
    public let policy: TransferPolicy
    private let snapshots: SnapshotStore
    private let clock: @Sendable () -> Int64
    /// Earlier snapshots of the zones offered for transfer, oldest first, for IXFR.
    private let history = Mutex<[String: [ZoneSnapshot]]>([:])
    /// Requests served and refused (transfers are rare: a lock is cheap enough).
    private let counted = Mutex(TransferCounts())
    /// Snapshots kept per zone: a secondary more changes behind gets a full transfer.
    public static let historyDepth = 4
    /// Changed names above which a full transfer is sent instead of a difference.
    public static let incrementalLimit = 100_000

    /// - Parameter clock: Unix seconds, for TSIG times and expiring listings.
    public init(policy: TransferPolicy, snapshots: SnapshotStore, clock: @escaping @Sendable () -> Int64) {
        self.policy = policy
        self.snapshots = snapshots
        self.clock = clock
    }

    /// Keeps `previous` (a snapshot about to be replaced) for IXFR, if its zone is offered
    /// for transfer; the oldest beyond ``historyDepth`` is let go.
    public func retain(previous: ZoneSnapshot) {
        let name = previous.config.name
        guard policy.zones[name] != nil else { return }
        history.withLock { history in
            var kept = history[name, default: []].filter { $0.config.soa.serial != previous.config.soa.serial }
            kept.append(previous)
            if kept.count > Self.historyDepth { kept.removeFirst(kept.count - Self.historyDepth) }
            history[name] = kept
        }
    }

    /// The retained snapshot of `zone` with `serial`, if any.
    func retained(zone: String, serial: UInt32) -> ZoneSnapshot? {
        history.withLock { $0[zone]?.last { $0.config.soa.serial == serial } }
    }

    /// How a request starts.
    public enum Start {
        /// Not AXFR or IXFR: answer it as a query.
        case notATransfer
        /// One message, and done: an error, or the SOA of an up-to-date IXFR.
        case reply([UInt8], TransferOutcome)
        /// The zone, message by message.
        case stream(ZoneTransferSession, TransferOutcome)
    }

    /// Whether `query` asks for a transfer, cheaply (type AXFR or IXFR, any class).
    public static func isTransferRequest(_ query: UnsafeRawBufferPointer) -> Bool {
        guard case .answer(let parsed) = Query.classify(query) else { return false }
        return parsed.type == .axfr || parsed.type == .ixfr
    }

    /// Requests served and refused so far.
    public func counts() -> TransferCounts { counted.withLock { $0 } }

    /// Decides a request (see the type's discussion) and counts the outcome.
    public func start(query: UnsafeRawBufferPointer, client: TransferClient) -> Start {
        let start = decide(query: query, client: client)
        let outcome: TransferOutcome
        switch start {
        case .notATransfer: return start
        case .reply(_, let decided), .stream(_, let decided): outcome = decided
        }
        counted.withLock { counts in
            if let check = outcome.refusedBy {
                counts.refused[check, default: 0] += 1
            } else if outcome.kind == "AXFR" {
                counts.axfr += 1
            } else {
                counts.ixfr += 1
            }
        }
        return start
    }

    private func decide(query: UnsafeRawBufferPointer, client: TransferClient) -> Start {
        guard case .answer(let parsed) = Query.classify(query), parsed.type == .axfr || parsed.type == .ixfr else {
            return .notATransfer
        }
        let kind = parsed.type == .axfr ? "AXFR" : "IXFR"
        let zoneText = Self.presentation(query, from: WireLimits.headerSize)
        var outcome = TransferOutcome(zone: zoneText, kind: kind, rcode: .noError, refusal: nil, key: nil)
        let now = clock()

        func fail(_ rcode: RCode, _ reason: String, by check: TransferOutcome.Check, signer: TSIGSigner? = nil) -> Start {
            outcome.rcode = rcode
            outcome.refusal = reason
            outcome.refusedBy = check
            return .reply(Self.bare(rcode, query: query, parsed: parsed, signer: signer, now: now), outcome)
        }

        // TSIG first: a response to a signed request is signed when the key checks out.
        var signer: TSIGSigner?
        var signedBy: String?
        switch TSIG.find(in: query) {
        case .malformed:
            return fail(.formErr, "malformed TSIG record", by: .request)
        case .none:
            break
        case .record(let record):
            let keyName = Self.presentation(record.keyName, from: 0)
            guard let key = policy.keys[keyName] else {
                outcome.rcode = .notAuth
                outcome.refusal = "unknown TSIG key \(keyName)"
                outcome.refusedBy = .tsig
                return .reply(Self.unsignedTSIGError(.badKey, query: query, parsed: parsed, record: record, now: now), outcome)
            }
            switch TSIG.verify(record, message: query, key: key, now: now) {
            case .badTime?:
                outcome.key = key.name
                let ours = Array(TSIG.timerBytes(time: UInt64(max(0, now)), fudge: 0).prefix(6))
                outcome.rcode = .notAuth
                outcome.refusal = "TSIG time outside the fudge (BADTIME)"
                outcome.refusedBy = .tsig
                let timeSigner = TSIGSigner(key: key, requestMAC: record.mac, originalID: record.originalID)
                return .reply(Self.bare(.notAuth, query: query, parsed: parsed, signer: timeSigner, now: now,
                                        tsigError: TSIG.Failure.badTime.rawValue, otherData: ours), outcome)
            case let failure?:
                outcome.rcode = .notAuth
                outcome.refusal = failure == .badTruncation ? "TSIG MAC truncated (BADTRUNC)"
                    : failure == .badKey ? "TSIG algorithm is not hmac-sha256 (BADKEY)" : "TSIG signature does not verify (BADSIG)"
                outcome.refusedBy = .tsig
                return .reply(Self.unsignedTSIGError(failure, query: query, parsed: parsed, record: record, now: now), outcome)
            case nil:
                signer = TSIGSigner(key: key, requestMAC: record.mac, originalID: record.originalID)
                signedBy = key.name
                outcome.key = key.name
            }
        }

        guard parsed.qclass == .internet else { return fail(.refused, "class is not IN", by: .request, signer: signer) }
        guard let snapshot = Self.zone(at: query, parsed: parsed, in: snapshots.load()) else {
            return fail(.notAuth, "not a zone served here", by: .request, signer: signer)
        }
        guard let rule = policy.zones[snapshot.config.name] else {
            return fail(.refused, "zone not offered for transfer", by: .acl, signer: signer)
        }
        guard rule.allow.isEmpty || rule.allow.contains(where: { $0.contains(client.clientAddress) }) else {
            return fail(.refused, "client \(client) not in the allow list", by: .acl, signer: signer)
        }
        if let required = rule.key, signedBy != required {
            return fail(.refused, signedBy == nil ? "not signed with key \(required)" : "signed with another key than \(required)",
                        by: .tsig, signer: signer)
        }

        let serial = snapshot.config.soa.serial
        let moment = UInt32(clamping: max(0, now))
        var records = ZoneTransferSession.Records.full(ZoneRecordStream(snapshot: snapshot, now: moment))
        if parsed.type == .ixfr, let theirs = Self.ixfrSerial(query, parsed: parsed) {
            // RFC 1995 §2: the same or a newer version than ours gets our SOA alone.
            if theirs == serial || SerialNumber.isGreater(theirs, than: serial) {
                outcome.kind = theirs == serial ? "IXFR (up to date)" : "IXFR (\(theirs) is newer than ours: SOA alone)"
                return .reply(Self.soaOnly(snapshot, query: query, parsed: parsed, signer: signer, now: now), outcome)
            }
            if SerialNumber.isGreater(serial, than: theirs), let old = retained(zone: snapshot.config.name, serial: theirs),
               let difference = IncrementalRecordStream(from: old, to: snapshot, now: moment, limit: Self.incrementalLimit) {
                records = .incremental(difference)
                outcome.kind = "IXFR (difference from \(theirs))"
            } else {
                outcome.kind = "IXFR (full zone: no difference kept from \(theirs))"
            }
        }
        let session = ZoneTransferSession(snapshot: snapshot, records: records, query: query, parsed: parsed,
                                          signer: signer, clock: clock)
        return .stream(session, outcome)
    }

    // MARK: - Reading the request

    /// The served zone whose apex is the question name, if any.
    static func zone(at query: UnsafeRawBufferPointer, parsed: Query, in zones: ServedZones) -> ZoneSnapshot? {
        let name = (WireLimits.headerSize..<parsed.nameEnd).map { asciiLowercase(query[$0]) }
        return zones.zones.first { $0.zone.wireName == name }
    }

    /// The serial of the SOA in an IXFR request's authority section (RFC 1995 §3).
    static func ixfrSerial(_ query: UnsafeRawBufferPointer, parsed: Query) -> UInt32? {
        guard parsed.header.authorityCount >= 1 else { return nil }
        var offset = parsed.questionEnd
        for _ in 0..<Int(parsed.header.answerCount) {
            guard let end = TSIG.skipName(query, from: offset), end + 10 <= query.count else { return nil }
            offset = end + 10 + Int(query.loadBigEndianUInt16(at: end + 8))
        }
        guard let ownerEnd = TSIG.skipName(query, from: offset), ownerEnd + 10 <= query.count,
              query.loadBigEndianUInt16(at: ownerEnd) == RRType.soa.rawValue
        else { return nil }
        let rdataEnd = ownerEnd + 10 + Int(query.loadBigEndianUInt16(at: ownerEnd + 8))
        guard rdataEnd <= query.count, rdataEnd - 20 >= ownerEnd + 10 else { return nil }
        // SERIAL is the first of the five 32-bit fields that end the RDATA.
        return UInt32(query.loadBigEndianUInt16(at: rdataEnd - 20)) << 16 | UInt32(query.loadBigEndianUInt16(at: rdataEnd - 18))
    }

    /// A wire name as dotted text, lowercase, without the trailing dot (for logs and keys).
    static func presentation(_ bytes: UnsafeRawBufferPointer, from start: Int) -> String {
        var labels: [String] = []
        var offset = start
        while offset < bytes.count {
            let length = Int(bytes[offset])
            guard length > 0, length & 0xC0 == 0, offset + 1 + length <= bytes.count else { break }
            labels.append(String(decoding: (offset + 1..<offset + 1 + length).map { asciiLowercase(bytes[$0]) }, as: UTF8.self))
            offset += 1 + length
        }
        return labels.joined(separator: ".")
    }

    static func presentation(_ bytes: [UInt8], from start: Int) -> String {
        bytes.withUnsafeBytes { presentation($0, from: start) }
    }

    // MARK: - Single-message replies

    /// Header and question with `rcode` and no records, signed when `signer` is given
    /// (`tsigError` and `otherData` go into its TSIG record).
    static func bare(_ rcode: RCode, query: UnsafeRawBufferPointer, parsed: Query, signer: TSIGSigner?, now: Int64,
                     tsigError: UInt16 = 0, otherData: [UInt8] = []) -> [UInt8] {
        withMessage { writer in
            guard writeHeader(&writer, query: query, parsed: parsed, rcode: rcode, authoritative: rcode != .refused && rcode != .formErr)
            else { return }
            if var signer { _ = signer.sign(&writer, now: now, error: tsigError, otherData: otherData) }
        }
    }

    /// An error answered with an unsigned TSIG record naming the error (RFC 8945 §5.3.2).
    static func unsignedTSIGError(_ failure: TSIG.Failure, query: UnsafeRawBufferPointer, parsed: Query,
                                  record: TSIGRecord, now: Int64) -> [UInt8] {
        withMessage { writer in
            guard writeHeader(&writer, query: query, parsed: parsed, rcode: .notAuth, authoritative: false) else { return }
            _ = TSIGSigner.writeRecord(&writer, keyName: record.keyName, time: UInt64(max(0, now)), mac: [],
                                       originalID: record.originalID, error: failure.rawValue, otherData: [])
        }
    }

    /// The SOA alone: the secondary of an IXFR is up to date (RFC 1995 §4).
    static func soaOnly(_ snapshot: ZoneSnapshot, query: UnsafeRawBufferPointer, parsed: Query, signer: TSIGSigner?,
                        now: Int64) -> [UInt8] {
        withMessage { writer in
            guard writeHeader(&writer, query: query, parsed: parsed, rcode: .noError, authoritative: true) else { return }
            var records = ZoneRecordStream(snapshot: snapshot, now: UInt32(clamping: max(0, now)))
            guard records.writeNext(into: &writer, apexPointer: 0xC000 | UInt16(WireLimits.headerSize)) == .written
            else { return }
            writer.patch(UInt16(1), at: 6)
            if var signer { _ = signer.sign(&writer, now: now) }
        }
    }

    private static func withMessage(_ body: (inout ResponseWriter) -> Void) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { buffer.deallocate() }
        var writer = ResponseWriter(buffer, limit: buffer.count)
        body(&writer)
        return Array(UnsafeRawBufferPointer(rebasing: buffer[0..<writer.offset]))
    }

    /// Header (ID and RD echoed, QR set) and the question copied from the query.
    static func writeHeader(_ writer: inout ResponseWriter, query: UnsafeRawBufferPointer, parsed: Query, rcode: RCode,
                            authoritative: Bool) -> Bool {
        var flags: UInt16 = 0x8000 | (parsed.header.flags & 0x0100) | (rcode.rawValue & 0xF)
        if authoritative { flags |= 0x0400 }
        return writer.write(parsed.header.id) && writer.write(flags) && writer.write(UInt16(1)) && writer.write(UInt16(0))
            && writer.write(UInt16(0)) && writer.write(UInt16(0))
            && writer.write(UnsafeRawBufferPointer(rebasing: query[WireLimits.headerSize..<parsed.questionEnd]))
    }
}

/// One zone transfer in progress: the snapshot it started with and how far it got.
///
/// Each message holds the question (so owner names can point at the zone name in it),
/// as many records as fit, and a TSIG record when the request was signed. Memory is
/// the caller's message buffer and a walker's stack, whatever the zone's size.
public struct ZoneTransferSession {
    /// The records sent: the whole zone, or a difference (IXFR).
    enum Records {
        case full(ZoneRecordStream)
        case incremental(IncrementalRecordStream)

        mutating func writeNext(into writer: inout ResponseWriter, apexPointer: UInt16) -> ZoneRecordStream.Step {
            switch self {
            case .full(var stream):
                defer { self = .full(stream) }
                return stream.writeNext(into: &writer, apexPointer: apexPointer)
            case .incremental(var stream):
                defer { self = .incremental(stream) }
                return stream.writeNext(into: &writer, apexPointer: apexPointer)
            }
        }

        var recordCount: Int {
            switch self {
            case .full(let stream): stream.recordCount
            case .incremental(let stream): stream.recordCount
            }
        }
    }

    private var records: Records
    private let question: [UInt8]
    private let id: UInt16
    private let recursionDesired: UInt16
    private var signer: TSIGSigner?
    private let clock: @Sendable () -> Int64
    private var finished = false
    /// The zone and its SOA serial.
    public let zone: String
    public let serial: UInt32
    public private(set) var messageCount = 0
    public var recordCount: Int { records.recordCount }

    /// Largest message: the 16-bit TCP length prefix allows 65,535 bytes (RFC 1035 §4.2.2).
    public static let maximumMessageSize = WireLimits.maxTCPMessage

    init(snapshot: ZoneSnapshot, records: Records, query: UnsafeRawBufferPointer, parsed: Query, signer: TSIGSigner?,
         clock: @escaping @Sendable () -> Int64) {
        self.records = records
        question = Array(query[WireLimits.headerSize..<parsed.questionEnd])
        id = parsed.header.id
        recursionDesired = parsed.header.flags & 0x0100
        self.signer = signer
        self.clock = clock
        zone = snapshot.config.name
        serial = snapshot.config.soa.serial
    }

    /// Writes the next message into `buffer` (at least 65,535 bytes) and returns its
    /// length; 0 when the transfer is complete.
    public mutating func nextMessage(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard !finished else { return 0 }
        let limit = min(buffer.count, Self.maximumMessageSize)
        var writer = ResponseWriter(buffer, limit: limit - (signer?.recordSize ?? 0))
        guard writer.write(id), writer.write(UInt16(0x8400) | recursionDesired), writer.write(UInt16(1)),
              writer.write(UInt32(0)), writer.write(UInt16(0)), question.withUnsafeBytes({ writer.write($0) })
        else { finished = true; return 0 }
        var count: UInt16 = 0
        loop: while count < UInt16.max {
            switch records.writeNext(into: &writer, apexPointer: 0xC000 | UInt16(WireLimits.headerSize)) {
            case .written: count += 1
            case .full: break loop
            case .finished:
                finished = true
                break loop
            }
        }
        guard count > 0 else { finished = true; return 0 }  // nothing left, or a record larger than a message
        writer.patch(count, at: 6)
        writer.setLimit(limit)
        if var active = signer {
            _ = active.sign(&writer, now: clock())  // room was kept back
            signer = active
        }
        messageCount += 1
        return writer.offset
    }
}
