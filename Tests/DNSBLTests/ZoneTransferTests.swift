// ZoneTransferTests.swift -- the zone as records answers as rbld does; AXFR/IXFR decisions.

@testable import DNSBL
import DNSTestSupport
import NIOCore
import Testing

/// A secondary's view of transferred records: RFC 1034 §4.3.2 lookup with RFC 4592
/// wildcards (closest encloser, source of synthesis), written from the RFCs for the test.
struct SecondaryModel {
    /// name → type → RDATA texts, names lowercase with the trailing dot.
    var records: [String: [String: [String]]] = [:]
    /// Every owner and each of its ancestors down to the apex.
    var existing: Set<String> = []
    let apex: String

    init(apex: String, lines: [String]) {
        self.apex = apex.lowercased()
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 4).map(String.init)
            guard fields.count == 5 else { continue }
            let name = fields[0].lowercased()
            records[name, default: [:]][fields[3], default: []].append(fields[4])
            var current = name
            while true {
                existing.insert(current)
                guard current != self.apex, let dot = current.firstIndex(of: ".") else { break }
                current = String(current[current.index(after: dot)...])
            }
        }
    }

    /// The response code (0 or 3), the RDATA of `type`, and whether a wildcard answered.
    func answer(_ name: String, type: String) -> (rcode: Int, rdata: [String], wildcard: Bool) {
        let name = name.lowercased()
        if let owned = records[name] { return (0, owned[type] ?? [], false) }
        if existing.contains(name) { return (0, [], false) }  // an empty non-terminal
        var encloser = name
        while !existing.contains(encloser) {
            guard let dot = encloser.firstIndex(of: ".") else { return (3, [], false) }
            encloser = String(encloser[encloser.index(after: dot)...])
        }
        guard let synthesized = records["*." + encloser] else { return (3, [], false) }
        return (0, synthesized[type] ?? [], true)
    }
}

/// The prefix-table tests' SplitMix64, for `random(in:using:)`.
extension PrefixTableTesting.RNG: RandomNumberGenerator {}

enum TransferTesting {
    static let zone = "bl.example.org"
    static let loopback = TransferClient(address: 0x7F00_0001, isIPv6: false, description: "127.0.0.1")

    /// An IPv4 network written `A.B.C.D/LENGTH`.
    static func network(_ text: String) -> ClientNetwork {
        let parts = text.split(separator: "/")
        let address = parts[0].split(separator: ".").reduce(UInt128(0)) { $0 << 8 | UInt128($1)! }
        return ClientNetwork(isIPv6: false, address: address, prefixLength: Int(parts[1])!)!
    }

    static func policy(allow: [String] = ["127.0.0.0/8"], key: TSIGKey? = nil) -> TransferPolicy {
        let networks = allow.map(network)
        return try! TransferPolicy(zones: [zone: ZoneTransferRule(allow: networks, key: key?.name)], keys: key.map { [$0] } ?? [])
    }

    /// Every message of a transfer, as sent.
    static func messages(_ transfers: ZoneTransfers, query: [UInt8], client: TransferClient = loopback) -> [[UInt8]] {
        let start = query.withUnsafeBytes { transfers.start(query: $0, client: client) }
        switch start {
        case .notATransfer: return []
        case .reply(let bytes, _): return [bytes]
        case .stream(var session, _):
            var output = [UInt8](repeating: 0, count: 65535)
            var messages: [[UInt8]] = []
            while true {
                let length = output.withUnsafeMutableBytes { session.nextMessage(into: $0) }
                if length == 0 { return messages }
                messages.append(Array(output[0..<length]))
                if messages.count > 100_000 { Issue.record("transfer does not end"); return messages }
            }
        }
    }

    /// The answer records of a transfer, decoded by libldns.
    static func records(_ transfers: ZoneTransfers, query: [UInt8] = makeQuery(zone, type: 252)) -> [String] {
        messages(transfers, query: query).flatMap { message -> [String] in
            switch LDNSMessage.parse(message) {
            case .success(let parsed): return parsed.answer
            case .failure(let error):
                Issue.record("libldns cannot read a transfer message: \(error)")
                return []
            }
        }
    }
}

@Suite struct ZoneAsRecordsTests {
    /// What rbld answers for A: response code and addresses; TXT text.
    func rbld(_ name: String, type: UInt16, responder: Responder) -> (rcode: Int, rdata: [String]) {
        guard let bytes = respond(makeQuery(name, type: type), transport: .tcp, responder: responder),
              case .success(let message) = LDNSMessage.parse(bytes)
        else { return (-1, []) }
        return (message.rcode, message.answer.map { String($0.split(separator: " ", maxSplits: 4)[4]) })
    }

    func name(v4 address: UInt32) -> String {
        (0..<4).map { String((address >> (8 * UInt32($0))) & 0xFF) }.joined(separator: ".") + ".bl.example.org."
    }

    func name(v6 address: UInt128) -> String {
        (0..<32).map { String(Int((address >> (4 * UInt128($0))) & 0xF), radix: 16) }.joined(separator: ".") + ".bl.example.org."
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func secondaryAnswersEveryAddressAsRbld(seed: UInt64) throws {
        var random = PrefixTableTesting.RNG(seed: seed)
        let now: UInt32 = 1_000_000
        var builder = PrefixTableBuilder()
        var probes4: [UInt32] = [0x7F00_0001, 0x7F00_0002, 0x7F00_0003]
        var probes6: [UInt128] = [0xFFFF_7F00_0001, 0xFFFF_7F00_0002]
        func value() -> TableValue {
            switch Int.random(in: 0..<10, using: &random) {
            case 0, 1: return .excluded
            case 2: return TableValue(listing: 2, expires: now - 5)           // expired
            case 3: return TableValue(listing: 1, expires: now + 50)          // expiring
            default: return TableValue(listing: UInt16.random(in: 1...3, using: &random))
            }
        }
        for _ in 0..<40 {
            let length = [8, 12, 16, 20, 23, 24, 25, 28, 30, 31, 32, 32, 32].randomElement(using: &random)!
            let address = 0x0A00_0000 | UInt32.random(in: 0...0x3_FFFF, using: &random) << 6  // clustered in 10.0.0.0/12
            builder.insert(v4: address, prefixLength: length, value: value())
            let mask: UInt32 = length == 0 ? 0 : .max << (32 - length)
            let start = address & mask, end = start | ~mask
            probes4 += [start, end, start &- 1, end &+ 1, start | (UInt32.random(in: 0...UInt32.max, using: &random) & ~mask)]
        }
        if seed % 2 == 0 { builder.insert(v4: 0x7F00_0000, prefixLength: 8, value: TableValue(listing: 2)) }  // 127/8 listed
        for _ in 0..<25 {
            let length = [32, 48, 60, 64, 112, 120, 124, 126, 127, 128, 128].randomElement(using: &random)!
            let address = UInt128(0x2001_0db8) << 96 | UInt128(UInt16.random(in: 0...3, using: &random)) << 80
                | UInt128(UInt64.random(in: 0...0xFF, using: &random))
            builder.insert(v6: address, prefixLength: length, value: value())
            let mask: UInt128 = .max << (128 - length)
            let start = address & mask, end = start | ~mask
            probes6 += [start, end, start &- 1, end &+ 1, start | (UInt128(UInt64.random(in: 0...UInt64.max, using: &random)) & ~mask)]
        }
        let snapshot = try ZoneSnapshot(config: TestZone.config, table: builder.freeze())
        let store = SnapshotStore(ServedZones([snapshot]))
        let responder = Responder(store: store, clock: { now })
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { Int64(now) })
        let lines = TransferTesting.records(transfers)
        #expect(lines.first?.contains(" SOA ") == true && lines.last?.contains(" SOA ") == true)
        let secondary = SecondaryModel(apex: "bl.example.org.", lines: lines)

        var compared = 0
        let names = probes4.map { name(v4: $0) } + probes6.filter { $0 >> 32 != 0xFFFF || $0 & 0xFFFF_FFFF >> 8 == 0x7F0000 }
            .map { name(v6: $0) }
        for probe in names {
            let ours = rbld(probe, type: 1, responder: responder)
            let theirs = secondary.answer(probe, type: "A")
            #expect(ours.rcode == theirs.rcode && ours.rdata == theirs.rdata,
                    "seed \(seed) \(probe) A: rbld \(ours), secondary \(theirs)")
            let txt = secondary.answer(probe, type: "TXT")
            if ours.rcode == 0, !txt.wildcard {
                let rbldTXT = rbld(probe, type: 16, responder: responder)
                #expect(rbldTXT.rdata == txt.rdata, "seed \(seed) \(probe) TXT")
            }
            compared += 1
        }
        #expect(compared > 200)
    }

    @Test func networksBecomeWildcardsAndHolesAreCarvedOut() throws {
        var builder = PrefixTableBuilder()
        builder.insert(v4: TestZone.ip4("192.0.2.0"), prefixLength: 24, value: TableValue(listing: 1))
        builder.insert(v4: TestZone.ip4("192.0.2.9"), prefixLength: 32, value: .excluded)
        builder.insert(v4: TestZone.ip4("198.51.0.0"), prefixLength: 16, value: TableValue(listing: 2))
        builder.insert(v4: TestZone.ip4("198.51.100.7"), prefixLength: 32, value: TableValue(listing: 1))
        let snapshot = try ZoneSnapshot(config: TestZone.config, table: builder.freeze())
        let store = SnapshotStore(ServedZones([snapshot]))
        let lines = TransferTesting.records(ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 1 }))
        let owners = Set(lines.map { String($0.split(separator: " ")[0]) })
        // The /24 with a hole: its 255 listed hosts, no wildcard, no name for the hole.
        #expect(!owners.contains("*.2.0.192.bl.example.org.") && !owners.contains("9.2.0.192.bl.example.org."))
        #expect(owners.contains("8.2.0.192.bl.example.org.") && owners.contains("10.2.0.192.bl.example.org."))
        // The /16: a wildcard, and one below the /24 that the host's name makes exist.
        #expect(owners.contains("*.51.198.bl.example.org.") && owners.contains("*.100.51.198.bl.example.org."))
        #expect(lines.contains("7.100.51.198.bl.example.org. 300 IN TXT \"Listed: 198.51.100.7 see https://example.org/?ip=198.51.100.7\""))
        #expect(lines.contains("*.51.198.bl.example.org. 300 IN TXT \"auto 198.51.0.0/16\""))
        // The test points.
        #expect(lines.contains("2.0.0.127.bl.example.org. 300 IN A 127.0.0.2"))
        #expect(!owners.contains("1.0.0.127.bl.example.org."))
        #expect(owners.contains("2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example.org."))
        #expect(lines.filter { $0.contains(" NS ") }.count == 2)
    }
}

@Suite struct ZoneTransferDecisionTests {
    let store = TestZone.makeStore().1

    func rcode(_ bytes: [[UInt8]]) -> Int? {
        guard bytes.count == 1, case .success(let message) = LDNSMessage.parse(bytes[0]) else { return nil }
        return message.rcode
    }

    @Test func clientOutsideTheAllowListIsRefused() {
        let transfers = ZoneTransfers(policy: TransferTesting.policy(allow: ["192.0.2.0/24"]), snapshots: store, clock: { 1 })
        #expect(rcode(TransferTesting.messages(transfers, query: makeQuery("bl.example.org", type: 252))) == 5)
        let inside = TransferClient(address: 0xC000_0205, isIPv6: false, description: "192.0.2.5")
        let served = TransferTesting.messages(transfers, query: makeQuery("bl.example.org", type: 252), client: inside)
        let first = served.first.flatMap { try? LDNSMessage.parse($0).get() }
        #expect(first?.rcode == 0 && first?.answer.first?.contains(" SOA ") == true && (first?.answer.count ?? 0) > 5)
    }

    /// A TCP peer's socket address as access lists see it; an IPv4-mapped IPv6 peer (a
    /// dual-stack listener) as its IPv4 address.
    @Test(arguments: [
        ("192.0.2.5", UInt128(0xC000_0205), false),
        ("2001:db8::1", UInt128(0x2001_0DB8) << 96 | 1, true),
        ("::ffff:192.0.2.5", UInt128(0xC000_0205), false),
    ])
    func aTransferClientIsReadFromItsSocketAddress(text: String, address: UInt128, isIPv6: Bool) throws {
        let client = TransferClient(try SocketAddress(ipAddress: text, port: 53))
        #expect(client.address == address && client.isIPv6 == isIPv6)
        #expect(client.clientAddress == (isIPv6 ? .v6(address) : .v4(UInt32(truncatingIfNeeded: address))))
        #expect(client.description == text)
        #expect(TransferClient(nil).description == "unknown")
    }

    @Test func aZoneNotServedIsNotAuthAndANameBelowTheApexToo() {
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 1 })
        #expect(rcode(TransferTesting.messages(transfers, query: makeQuery("other.example", type: 252))) == 9)
        #expect(rcode(TransferTesting.messages(transfers, query: makeQuery("2.0.0.127.bl.example.org", type: 252))) == 9)
    }

    @Test func aServedZoneWithoutTransferRuleIsRefused() throws {
        let other = try TransferPolicy(zones: ["other.example": ZoneTransferRule(allow: [TransferTesting.network("0.0.0.0/0")])])
        let transfers = ZoneTransfers(policy: other, snapshots: store, clock: { 1 })
        #expect(rcode(TransferTesting.messages(transfers, query: makeQuery("bl.example.org", type: 252))) == 5)
    }

    /// The counters behind the metrics: served by type, refused by the check that refused.
    @Test func transfersAreCountedByTypeAndRefusalsByCheck() throws {
        let transfers = ZoneTransfers(policy: TransferTesting.policy(allow: ["192.0.2.0/24"]), snapshots: store, clock: { 1 })
        let inside = TransferClient(address: 0xC000_0205, isIPv6: false, description: "192.0.2.5")
        _ = TransferTesting.messages(transfers, query: makeQuery("bl.example.org", type: 252), client: inside)
        _ = TransferTesting.messages(transfers, query: ixfrQuery(serial: 42), client: inside)
        _ = TransferTesting.messages(transfers, query: ixfrQuery(serial: 7), client: inside)
        _ = TransferTesting.messages(transfers, query: makeQuery("bl.example.org", type: 252))
        _ = TransferTesting.messages(transfers, query: makeQuery("other.example", type: 252), client: inside)
        _ = makeQuery("bl.example.org", type: 6).withUnsafeBytes { transfers.start(query: $0, client: inside) }
        var expected = TransferCounts()
        (expected.axfr, expected.ixfr, expected.refused) = (1, 2, [.acl: 1, .request: 1])
        #expect(transfers.counts() == expected, "a plain query is not counted")

        let key = try TSIGKey(name: "transfer-key", secret: TSIGTests.secretBytes)
        let signed = ZoneTransfers(policy: TransferTesting.policy(key: key), snapshots: store, clock: { 1 })
        _ = TransferTesting.messages(signed, query: makeQuery("bl.example.org", type: 252))
        #expect(signed.counts().refused == [.tsig: 1], "unsigned where the zone's key is required")
    }

    @Test func aQueryIsNotATransfer() {
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 1 })
        let start = makeQuery("bl.example.org", type: 6).withUnsafeBytes { transfers.start(query: $0, client: TransferTesting.loopback) }
        guard case .notATransfer = start else { Issue.record("SOA query taken as a transfer"); return }
    }

    @Test func ixfrFromTheCurrentOrANewerSerialGetsTheSOAAloneAndAnOlderOneTheZone() {
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 1 })
        let current = TransferTesting.messages(transfers, query: ixfrQuery(serial: 42))
        #expect(current.count == 1)
        if case .success(let message) = LDNSMessage.parse(current[0]) {
            #expect(message.answer.count == 1 && message.answer[0].contains(" SOA ") && message.answer[0].contains(" 42 "))
        }
        let older = TransferTesting.records(transfers, query: ixfrQuery(serial: 41))
        #expect(older.count > 5 && older.first?.contains(" SOA ") == true && older.last?.contains(" SOA ") == true)
        // RFC 1995 §2: a newer version than ours gets our SOA alone, as the current one does.
        let future = TransferTesting.records(transfers, query: ixfrQuery(serial: 43))
        #expect(future.count == 1 && future[0].contains(" SOA ") && future[0].contains(" 42 "))
    }

    /// An IXFR request: the question and the secondary's SOA in authority (RFC 1995 §3).
    func ixfrQuery(serial: UInt32) -> [UInt8] {
        var bytes = makeQuery("bl.example.org", type: 251)
        bytes[9] = 1  // NSCOUNT
        bytes += [0xC0, 0x0C, 0, 6, 0, 1, 0, 0, 0, 0]
        let rdata: [UInt8] = [0xC0, 0x0C, 0xC0, 0x0C] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: serial >> $0) }
            + [UInt8](repeating: 0, count: 16)
        bytes += [0, UInt8(rdata.count)] + rdata
        return bytes
    }

    @Test(arguments: [
        (UInt32(1), UInt32(0), true), (0, 1, false), (0, 0xFFFF_FFFF, true), (0xFFFF_FFFF, 0, false),
        (0x8000_0000, 0, false), (0, 0x8000_0000, false), (0x7FFF_FFFF, 0, true), (5, 5, false),
    ])
    func serialArithmetic(a: UInt32, b: UInt32, greater: Bool) {
        #expect(SerialNumber.isGreater(a, than: b) == greater)
    }
}

@Suite struct IncrementalTransferTests {
    static func config(serial: UInt32) -> ZoneConfig {
        var config = TestZone.config
        config.soa.serial = serial
        return config
    }

    /// A random table, and the same with some entries removed, changed and added.
    static func tables(seed: UInt64) -> (PrefixTable, PrefixTable) {
        var random = PrefixTableTesting.RNG(seed: seed)
        var entries: [(UInt32, Int, TableValue)] = []
        for _ in 0..<300 {
            let length = [16, 24, 25, 32, 32, 32].randomElement(using: &random)!
            let address = 0x0A00_0000 | UInt32.random(in: 0...0xFFFF, using: &random) << 4
            entries.append((address, length, random.chance(15) ? .excluded : TableValue(listing: UInt16.random(in: 1...2, using: &random))))
        }
        var old = PrefixTableBuilder()
        for (address, length, value) in entries { old.insert(v4: address, prefixLength: length, value: value) }
        var new = PrefixTableBuilder()
        for (address, length, value) in entries where !random.chance(10) {
            new.insert(v4: address, prefixLength: length, value: random.chance(10) ? TableValue(listing: 3) : value)
        }
        for _ in 0..<20 {
            new.insert(v4: 0x0A00_0000 | UInt32.random(in: 0...0xFFFFF, using: &random), prefixLength: 32, value: TableValue(listing: 1))
        }
        new.insert(v6: UInt128(0x2001_0db8) << 96 | 7, prefixLength: 128, value: TableValue(listing: 1))
        return (old.freeze(), new.freeze())
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theDifferenceTurnsTheOldZoneIntoTheNew(seed: UInt64) throws {
        let (oldTable, newTable) = Self.tables(seed: seed)
        let old = try ZoneSnapshot(config: Self.config(serial: 41), table: oldTable)
        let new = try ZoneSnapshot(config: Self.config(serial: 42), table: newTable)
        let before = TransferTesting.records(ZoneTransfers(policy: TransferTesting.policy(),
                                                           snapshots: SnapshotStore(ServedZones([old])), clock: { 1 }))
        let store = SnapshotStore(ServedZones([new]))
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 1 })
        let after = TransferTesting.records(transfers)
        transfers.retain(previous: old)
        let difference = TransferTesting.records(transfers, query: ZoneTransferDecisionTests().ixfrQuery(serial: 41))

        // RFC 1995 §4: SOA(new), SOA(old), deletions, SOA(new), additions, SOA(new).
        let soas = difference.indices.filter { difference[$0].contains(" SOA ") }
        try #require(soas.count == 4 && soas[0] == 0 && soas[1] == 1 && soas[3] == difference.count - 1)
        #expect(difference[0].contains(" 42 ") && difference[1].contains(" 41 ") && difference[soas[2]].contains(" 42 "))
        let deleted = difference[2..<soas[2]]
        let added = difference[(soas[2] + 1)..<soas[3]]
        #expect(!deleted.isEmpty && !added.isEmpty)
        #expect(difference.count < after.count, "a difference should be smaller than the zone")

        var zone = Dictionary(before.filter { !$0.contains(" SOA ") }.map { ($0, 1) }, uniquingKeysWith: +)
        for record in deleted {
            #expect(zone[record] != nil, "deletes a record the secondary does not have: \(record)")
            zone[record, default: 0] -= 1
            if zone[record] == 0 { zone[record] = nil }
        }
        for record in added { zone[record, default: 0] += 1 }
        let expected = Dictionary(after.filter { !$0.contains(" SOA ") }.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(zone == expected)
    }

    /// Entries clustered in a few networks (so prefixes nest, exclusions carve, hosts sit
    /// under wildcards), and the same table after a few edits, of both families.
    static func clusteredTables(seed: UInt64) -> (PrefixTable, PrefixTable) {
        var random = PrefixTableTesting.RNG(seed: seed)
        let bases4: [UInt32] = [0x0A00_0000, 0x0A01_0000, 0xC633_6400, 0x2D00_0000, 0x7F00_0000]
        let bases6: [UInt128] = [UInt128(0x2001_0db8) << 96, UInt128(0x2a00_1450) << 96]
        func entry4() -> (UInt32, Int, TableValue) {
            let length = [8, 12, 16, 20, 24, 25, 28, 32, 32, 32, 32].randomElement(using: &random)!
            let address = bases4.randomElement(using: &random)! | UInt32(truncatingIfNeeded: random.below(1 << 20))
            let value = random.chance(15) ? TableValue.excluded
                : TableValue(listing: UInt16(1 + random.below(3)), expires: random.chance(10) ? UInt32(random.below(3)) : 0)
            return (address, length, value)
        }
        func entry6() -> (UInt128, Int, TableValue) {
            let length = [32, 48, 56, 64, 128, 128].randomElement(using: &random)!
            let address = bases6.randomElement(using: &random)! | UInt128(random.next()) << 40 & (UInt128(1) << 96 - 1)
            return (address, length, random.chance(15) ? .excluded : TableValue(listing: UInt16(1 + random.below(2))))
        }
        var old = PrefixTableBuilder()
        var new = PrefixTableBuilder()
        for _ in 0..<(random.below(60) + 1) {
            let (address, length, value) = entry4()
            old.insert(v4: address, prefixLength: length, value: value)
            new.insert(v4: address, prefixLength: length, value: value)
        }
        for _ in 0..<random.below(20) {
            let (address, length, value) = entry6()
            old.insert(v6: address, prefixLength: length, value: value)
            new.insert(v6: address, prefixLength: length, value: value)
        }
        let entries4 = old.freeze().v4
        for _ in 0..<(random.below(4) + 1) {
            switch random.below(5) {
            case 0 where entries4.count > 0:
                var entries: [(UInt32, Int)] = []
                entries4.forEachEntry { prefix, _ in entries.append((prefix.start, Int(prefix.length))) }
                let (address, length) = entries[random.below(entries.count)]
                new.remove(v4: address, prefixLength: length)
            case 1:
                let (address, length, value) = entry6()
                new.insert(v6: address, prefixLength: length, value: value)
            default:
                let (address, length, value) = entry4()
                new.insert(v4: address, prefixLength: length, value: value)
            }
        }
        return (old.freeze(), new.freeze())
    }

    /// The difference walked only in the changed networks is the difference of the whole
    /// zone, name for name (the whole-family walk is the oracle).
    @Test func theChangedNetworksHoldEveryChangedName() throws {
        for seed in 0..<120 as Range<UInt64> {
            let (oldTable, newTable) = Self.clusteredTables(seed: seed)
            let now: UInt32 = 1
            let old = ZoneRecordRenderer(zone: try EncodedZone(Self.config(serial: 41)), now: now)
            let new = ZoneRecordRenderer(zone: try EncodedZone(Self.config(serial: 42)), now: now)
            let whole = IncrementalRecordStream.difference(
                from: oldTable, old, to: newTable, new, now: now,
                networks4: [TablePrefix(address: 0, prefixLength: 0)], networks6: [TablePrefix(address: 0, prefixLength: 0)],
                limit: .max)
            let networks4 = oldTable.v4.changedNetworks(comparedWith: newTable.v4, labelBits: 8)
            let networks6 = oldTable.v6.changedNetworks(comparedWith: newTable.v6, labelBits: 4)
            let changed = IncrementalRecordStream.difference(from: oldTable, old, to: newTable, new, now: now,
                                                             networks4: networks4, networks6: networks6, limit: .max)
            let expected = try #require(whole)
            let found = try #require(changed)
            #expect(found.deleted == expected.deleted && found.added == expected.added, "seed \(seed): \(networks4) \(networks6)")
            if found.deleted != expected.deleted || found.added != expected.added { return }
        }
    }

    @Test func identicalTablesHaveNoChangedNetworks() {
        let (table, _) = Self.clusteredTables(seed: 7)
        #expect(table.v4.changedNetworks(comparedWith: table.v4, labelBits: 8).isEmpty)
        #expect(table.v6.changedNetworks(comparedWith: table.v6, labelBits: 4).isEmpty)
    }

    @Test func aSerialNoLongerKeptGetsTheWholeZone() throws {
        let (_, newTable) = Self.tables(seed: 9)
        let new = try ZoneSnapshot(config: Self.config(serial: 42), table: newTable)
        let transfers = ZoneTransfers(policy: TransferTesting.policy(), snapshots: SnapshotStore(ServedZones([new])), clock: { 1 })
        let records = TransferTesting.records(transfers, query: ZoneTransferDecisionTests().ixfrQuery(serial: 30))
        #expect(records.filter { $0.contains(" SOA ") }.count == 2 && records.count == TransferTesting.records(transfers).count)
    }
}

@Suite struct MasterFileTests {
    @Test func theMasterFileHoldsExactlyTheTransferredRecords() throws {
        var builder = PrefixTableBuilder()
        builder.insert(v4: TestZone.ip4("192.0.2.0"), prefixLength: 24, value: TableValue(listing: 1))
        builder.insert(v4: TestZone.ip4("192.0.2.9"), prefixLength: 32, value: .excluded)
        builder.insert(v4: TestZone.ip4("198.51.0.0"), prefixLength: 16, value: TableValue(listing: 2))
        builder.insert(v4: TestZone.ip4("198.51.100.7"), prefixLength: 32, value: TableValue(listing: 3))
        builder.insert(v6: UInt128(0x2001_0db8) << 96, prefixLength: 48, value: TableValue(listing: 1, expires: 100))
        let snapshot = try ZoneSnapshot(config: TestZone.config, table: builder.freeze())
        let store = SnapshotStore(ServedZones([snapshot]))
        let transferred = TransferTesting.records(ZoneTransfers(policy: TransferTesting.policy(), snapshots: store, clock: { 40 }))
        var text = ""
        let names = snapshot.writeMasterFile(now: 40, comment: "test export", to: &text)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "; test export" && lines[1] == "$ORIGIN bl.example.org.")
        #expect(lines[2] == "@ 3600 IN SOA ns1.example.org. hostmaster.example.org. ( 42 600 300 86400 60 )")
        #expect(lines[3] == "@ 3600 IN NS ns1.example.org." && lines[4] == "@ 3600 IN NS ns2.example.net.")
        let records = lines.dropFirst(5).map { line -> String in
            let parts = line.split(separator: " ", maxSplits: 1)
            return "\(parts[0]).bl.example.org. \(parts[1])"
        }
        let expected = transferred.filter { !$0.contains(" SOA ") && !$0.contains(" NS ") }
        #expect(records == expected)
        #expect(names * 2 == records.count)
        #expect(records.contains { $0.hasPrefix("7.100.51.198.bl.example.org. 300 IN TXT \"yyy") && $0.contains("\" \"yyy") })
        #expect(records.contains("*.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.org. 60 IN A 127.0.0.2"))
    }

    @Test(arguments: [
        ([UInt8]("plain".utf8), "\"plain\""),
        ([0x22, 0x5C, 0x0A, 0xC3, 0xA9], "\"\\\"\\\\\\010\\195\\169\""),
        ([UInt8](repeating: 0x61, count: 256), "\"" + String(repeating: "a", count: 255) + "\" \"a\""),
    ])
    func characterStringsAreQuotedAndEscaped(bytes: [UInt8], text: String) {
        #expect(ZoneSnapshot.characterStrings(bytes) == text)
    }
}
