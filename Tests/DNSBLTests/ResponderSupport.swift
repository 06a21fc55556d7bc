// ResponderSupport.swift -- a test zone, and the responder run in-process.

@testable import DNSBL
import DNSTestSupport

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
