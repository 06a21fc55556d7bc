// StoreExportTests.swift -- exports that other tools read with the same answers as rbld.

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreExportTests {
    let directory = TemporaryDirectory()
    let clock = TestClock()
    let zone = "bl.example.org"

    /// A store with CIDRs, holes, nested listings inside holes, scored hosts, v6.
    func populatedStore() throws -> Store {
        let store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        let file = ListFileParser.parse(Array("""
            $SOA 3600 ns1.example.org hostmaster.example.org 0 600 300 86400 60
            $NS 3600 ns1.example.org
            :127.0.0.2:Listed, see https://example.org/lookup?ip=$
            127.0.0.2
            45.0.0.0/8
            !45.7.0.0/16
            45.7.8.0/24 :127.0.0.3:Inner $
            !45.7.8.9
            46.1.0.0/20
            !46.1.3.128/25
            47.1.1.1
            2001:db9::/32
            !2001:db9:1::/48
            2001:dbc::/30
            2001:dbb::5 :4:
            """.utf8), format: .rbldnsd, fileName: "seed.zone")
        _ = try store.importListFile(file, zone: zone, replace: true, skipBad: false, actor: "t", reason: "seed")
        _ = try store.recordHit(Hit(source: prefix("48.1.2.3"), kind: .virus, time: clock.now, trap: "t", digest: [1]), zone: zone)
        _ = try store.recordHit(Hit(source: prefix("45.1.2.3"), kind: .autoreply, time: clock.now, trap: "t", digest: [2]), zone: zone)
        return store
    }

    /// Addresses to compare: inside and around every entry.
    static let probes: [String] = [
        "127.0.0.2", "127.0.0.1", "45.1.1.1", "45.1.2.3", "45.7.1.1", "45.7.8.1", "45.7.8.9", "45.8.0.0", "44.255.255.255",
        "46.1.0.1", "46.1.3.1", "46.1.3.129", "46.1.15.255", "46.1.16.0", "47.1.1.1", "47.1.1.2", "48.1.2.3", "48.1.2.4",
        "2001:db9::1", "2001:db9:1::1", "2001:db9:2::1", "2001:dbc::1", "2001:dbf:ffff::1", "2001:dc0::1", "2001:dbb::5", "2001:dbb::6",
    ]

    /// The answer a longest-match table of `listings` gives (nil: not listed).
    static func answer(_ listings: [Listing], _ address: IPPrefix) -> UInt8? {
        let matching = listings.filter { $0.prefix.contains(address) }
        guard let best = matching.max(by: { $0.prefix.length < $1.prefix.length }), !best.excluded else { return nil }
        return best.code
    }

    func export(_ store: Store, _ format: ListExporter.Format, family: IPPrefix.Family?) throws -> String {
        let snapshot = try store.activeSnapshot(zone: zone, now: clock.now)
        var text = ""
        ListExporter(settings: snapshot.settings, serial: snapshot.serial, now: clock.now)
            .write(snapshot.listings, format: format, family: family, to: &text)
        return text
    }

    @Test func rbldnsdExportParsesBackToTheSameListings() throws {
        let store = try populatedStore()
        let listings = try store.activeListings(zone: zone, now: clock.now)
        var reparsed: [ImportEntry] = []
        for family in [IPPrefix.Family.v4, .v6] {
            let text = try export(store, .rbldnsd, family: family)
            let result = ListFileParser.parse(Array(text.utf8), format: .rbldnsd, fileName: "export")
            #expect(result.errors.isEmpty && result.warnings.isEmpty, "\(result.errors)")
            #expect(result.settings.mname == "ns1.example.org" && result.settings.defaultCode == 2)
            reparsed += result.entries
        }
        let settings = try #require(try store.zoneSettings(zone))
        let back = reparsed.map { entry in
            Listing(prefix: entry.prefix, excluded: entry.excluded, code: entry.excluded ? 0 : entry.code ?? settings.defaultCode,
                    text: entry.text == settings.txtTemplate ? nil : entry.text)
        }
        let withoutExpiry = listings.map { Listing(prefix: $0.prefix, excluded: $0.excluded, code: $0.code, text: $0.text) }
        // Besides the listings: the test points the store does not hold (127.0.0.2 it does).
        let testPoints = [Listing(prefix: IPPrefix("127.0.0.1")!, excluded: true, code: 0, text: nil),
                          Listing(prefix: IPPrefix("::ffff:7f00:2")!, excluded: false, code: 2, text: nil),
                          Listing(prefix: IPPrefix("::ffff:7f00:1")!, excluded: true, code: 0, text: nil)]
        #expect(Set(back) == Set(withoutExpiry + testPoints))
        #expect(back.count == withoutExpiry.count + testPoints.count)
    }

    /// A mirror loading only the export answers the RFC 5782 test points as rbld does:
    /// 127.0.0.2 with the default answer unless a listed entry is its longest match,
    /// 127.0.0.1 never, even inside a listed network.
    @Test func rbldnsdExportCarriesTheTestPoints() throws {
        let store = try Store(path: directory.file("points.sqlite"), clock: clock.function)
        var text = try export(store, .rbldnsd, family: .v4)
        #expect(text.hasSuffix("\n127.0.0.2\n!127.0.0.1\n"))
        text = try export(store, .rbldnsd, family: .v6)
        #expect(text.hasSuffix("\n::ffff:7f00:2\n!::ffff:7f00:1\n"))
        let file = ListFileParser.parse(Array("127.0.0.0/8 :127.0.0.4:loopback $\n127.0.0.1\n".utf8), format: .rbldnsd,
                                        fileName: "points.zone")
        _ = try store.importListFile(file, zone: zone, replace: true, skipBad: false, actor: "t", reason: "points")
        text = try export(store, .rbldnsd, family: .v4)
        #expect(text.contains("\n127.0.0.0/8 :127.0.0.4:loopback $\n") && !text.contains("\n127.0.0.2\n"))
        #expect(!text.contains("\n127.0.0.1\n") && text.hasSuffix("\n!127.0.0.1\n"))
    }

    @Test func csvAndJSON() throws {
        let store = try populatedStore()
        let csv = try export(store, .csv, family: nil).split(separator: "\n")
        #expect(csv.first == "prefix,status,code,text,expires")
        #expect(csv.contains(#"2001:dbb::5,listed,127.0.0.4,"Listed, see https://example.org/lookup?ip=$","#))
        #expect(!csv.contains { $0.hasPrefix("45.7.8.0/24") }, "inside an exclusion: not served")
        #expect(csv.contains("45.7.8.9,excluded,,,"))
        #expect(csv.contains { $0.hasPrefix("48.1.2.3,listed,127.0.0.18,") && $0.hasSuffix("Z") })
        let json = try export(store, .json, family: nil)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let rows = object?["listings"] as? [[String: Any]]
        #expect(rows?.count == (try store.activeListings(zone: zone, now: clock.now).count))
        #expect(object?["zone"] as? String == zone)
    }

    /// rbldnsd, started on loopback with our rbldnsd export, answers like rbld.
    @Test(.enabled(if: RequiredTool.available("/usr/sbin/rbldnsd") && RequiredTool.available("/usr/bin/dig")))
    func rbldnsdServesTheExportWithTheSameAnswers() throws {
        let store = try populatedStore()
        let listings = try store.activeListings(zone: zone, now: clock.now)
        try export(store, .rbldnsd, family: .v4).write(toFile: directory.file("v4.zone"), atomically: true, encoding: .utf8)
        try export(store, .rbldnsd, family: .v6).write(toFile: directory.file("v6.zone"), atomically: true, encoding: .utf8)
        let port = 20000 + Int(getpid() % 20000)
        let server = try ChildProcess("/usr/sbin/rbldnsd", ["-n", "-b", "127.0.0.1/\(port)", "-w", directory.path,
                                                           "\(zone):ip4set:v4.zone", "\(zone):ip6trie:v6.zone"])
        defer { server.signal(SIGKILL); server.wait(seconds: 10) }
        usleep(300_000)
        for probe in Self.probes.map({ prefix($0) }) {
            let result = try run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(port)", "+short", "+tries=2", "+time=1",
                                                  Self.reverseName(probe) + "." + zone, "A"])
            let got = result.output.split(separator: "\n").first.map(String.init)
            let expected = Self.answer(listings, probe).map { "127.0.0.\($0)" }
            #expect(got == expected, "\(probe)")
        }
    }

    static func reverseName(_ address: IPPrefix) -> String {
        if address.family == .v4 {
            let value = UInt32(truncatingIfNeeded: address.address)
            return "\(value & 0xFF).\((value >> 8) & 0xFF).\((value >> 16) & 0xFF).\(value >> 24)"
        }
        return (0..<32).map { String(Int((address.address >> (4 * $0)) & 0xF), radix: 16) }.joined(separator: ".")
    }

    func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let (termination, output) = try ChildProcess.run(tool, arguments)
        guard case .exited(let status)? = termination else { return (-1, "\(tool): \(termination?.description ?? "timed out")\n" + output) }
        return (status, output)
    }
}
