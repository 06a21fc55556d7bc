// StoreMigrationTests.swift -- a store file of an older schema opens, migrates and keeps its data.

import Foundation
import Testing
import TestSupport
@testable import Store

struct StoreMigrationTests {
    let directory = TemporaryDirectory()
    let clock = TestClock()
    let zone = "bl.example.org"

    /// Runs SQL in the sqlite3 shell and returns what it printed.
    func query(_ path: String, _ sql: String) throws -> String {
        let (termination, output) = try ChildProcess.run("/usr/bin/sqlite3", [path, sql])
        guard termination == .exited(0) else { throw StoreError(.io, "sqlite3 failed: \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// A schema-1 file as an rbld of schema 1 wrote it (migration 1 only), with one zone, one
    /// hit of 77.1.2.3 and its source row.
    func makeVersion1File(_ path: String, digest: [UInt8]) throws {
        let time = clock.now - 3600
        let state = SourceScore(firstHit: .dsn, at: time, policy: .defaults)
        let hex = digest.map { String(format: "%02x", $0) }.joined()
        try sqlite3(path, """
            PRAGMA journal_mode = WAL;
            BEGIN;
            \(Schema.migrations[0].description)
            INSERT INTO zones(id, name, settings, policy, created) VALUES (1, '\(zone)',
                \(Self.quoted(try Store.json(ZoneSettings.defaults(zone: zone)))), \(Self.quoted(try Store.json(ListingPolicy.defaults))), \(time));
            INSERT INTO hits(id, zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
                VALUES (1, 1, \(time), \(time), 4, x'4d010203', 'dsn', '…@trap.example.org', 'mx.trap.example.org', x'\(hex)', 'Subject: old');
            INSERT INTO sources(zone_id, family, addr, first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id)
                VALUES (1, 4, x'4d010203', \(time), \(time), 1, \(state.score), \(HitKind.mask(state.kinds)), \(HitKind.mask(state.allKinds)),
                        \(state.listedSince!), \(state.until!), 1);
            INSERT INTO change_log(zone_id, time, family) VALUES (1, \(time), 0);
            PRAGMA application_id = 1919052900;
            PRAGMA user_version = 1;
            COMMIT;
            """)
    }

    @Test func version1FileMigratesKeepingHitsAndDeduplication() throws {
        let path = directory.file("v1.sqlite")
        let digest = (0..<32).map { UInt8($0 * 7 & 0xFF) }
        try makeVersion1File(path, digest: digest)
        #expect(try query(path, "PRAGMA user_version") == "1")
        #expect(try query(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_autoindex_hits_1'") == "1")

        #expect(throws: StoreError(.newerSchema, "")) { try Store(path: path, readOnly: true, clock: clock.function) }
        let store = try Store(path: path, clock: clock.function)
        #expect(try query(path, "PRAGMA user_version") == "\(Store.schemaVersion)")
        #expect(try query(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE tbl_name = 'hits' ORDER BY name)")
                == "hits,hits_by_source")
        #expect(try query(path, "SELECT sql LIKE '%UNIQUE%(zone_id, family, addr, digest)' FROM sqlite_schema WHERE name = 'hits_by_source'") == "1",
                "schema 4: unique per source and digest")
        #expect(try query(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'sources_by_until'") == "0", "dropped by schema 3")

        // The old hit is still the evidence, and still deduplicates its message.
        let before = try store.report(for: prefix("77.1.2.3"), zone: zone, now: clock.now)
        #expect(before.status == .listed && before.hitCount == 1)
        #expect(before.lastHits.map(\.digest) == [digest.map { String(format: "%02x", $0) }.joined()])
        let hit = Hit(source: prefix("77.1.2.3"), kind: .virus, time: clock.now, trap: "…@trap.example.org", digest: digest)
        #expect(try store.recordHit(hit, zone: zone) == .duplicate)
        // A digest sharing the first 8 bytes is another message.
        var sibling = hit
        sibling.digest[31] ^= 1
        #expect(try store.recordHit(sibling, zone: zone) == .recorded(listed: true, code: 18))
        #expect(try store.report(for: prefix("77.1.2.3"), zone: zone, now: clock.now).hitCount == 2)
        #expect(try store.integrityCheck().isEmpty)
    }

    /// A schema-4 file (before evidence strength): its hits become strong hits without a trap
    /// key, its listings and delistings answer as before, and new weak evidence is judged
    /// against the old strong hits.
    @Test func version4FileMigratesToEvidenceStrength() throws {
        let path = directory.file("v4.sqlite")
        let listed = SourceScore(firstHit: .dsn, at: clock.now - 3600, policy: .defaults)
        let delisted = SourceScore(firstHit: .virus, at: clock.now - 7200, policy: .defaults)
        func sourceRow(_ address: String, _ state: SourceScore, hitID: Int) -> String {
            """
            INSERT INTO sources(zone_id, family, addr, first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id)
                VALUES (1, 4, x'\(address)', \(state.firstSeen), \(state.lastSeen), 1, \(state.score), \(HitKind.mask(state.kinds)),
                        \(HitKind.mask(state.allKinds)), \(state.listedSince!), \(state.until!), \(hitID));
            """
        }
        try sqlite3(path, """
            PRAGMA journal_mode = WAL;
            BEGIN;
            \(Schema.migrations[0..<4].map(\.description).joined(separator: "\n"))
            INSERT INTO zones(id, name, settings, policy, created) VALUES (1, '\(zone)',
                \(Self.quoted(try Store.json(ZoneSettings.defaults(zone: zone)))),
                \(Self.quoted(#"{"expiry":2419200,"halfLife":604800,"neverList":[],"threshold":1,"weights":{}}"#)), \(clock.now));
            INSERT INTO hits(id, zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
                VALUES (1, 1, \(listed.firstSeen), \(listed.firstSeen), 4, x'4d010203', 'dsn', '…@trap.example.org', NULL, x'01', NULL),
                       (2, 1, \(delisted.firstSeen), \(delisted.firstSeen), 4, x'4d010204', 'virus', '…@trap.example.org', NULL, x'02', NULL);
            \(sourceRow("4d010203", listed, hitID: 1))
            \(sourceRow("4d010204", delisted, hitID: 2))
            INSERT INTO delistings(zone_id, family, addr, plen, created, actor, reason) VALUES (1, 4, x'4d010204', 32, \(clock.now - 60), 'alice', 'fixed');
            PRAGMA application_id = 1919052900;
            PRAGMA user_version = 4;
            COMMIT;
            """)
        let store = try Store(path: path, clock: clock.function)
        #expect(try query(path, "PRAGMA user_version") == "\(Store.schemaVersion)")
        #expect(try query(path, "SELECT group_concat(strength || ':' || (trap_key IS NULL), ',') FROM hits") == "0:1,0:1")
        #expect(try query(path, "SELECT count(*) FROM sources WHERE last_counted IS NULL AND weak_hits = 0 AND held_until IS NULL") == "2")
        #expect(try store.trapKeySecret().count == 32)
        #expect(try store.listingPolicy(zone: zone).corroboration == ListingPolicy.Corroboration(), "a stored policy gets the new defaults")

        #expect(try store.listing(for: prefix("77.1.2.3"), zone: zone, now: clock.now)?.expires == listed.until)
        #expect(try store.listing(for: prefix("77.1.2.4"), zone: zone, now: clock.now) == nil, "still delisted")
        #expect(try store.report(for: prefix("77.1.2.4"), zone: zone, now: clock.now).status == .delisted)
        // A weak hit within the window of the old strong hit is corroborated by it; one on a
        // source without strong evidence is held back.
        let weak = { (address: String, digest: UInt8) in
            Hit(source: prefix(address), kind: .autoreply, strength: .weak, time: clock.now, trap: "…@trap.example.org",
                trapKey: [1], digest: [digest])
        }
        #expect(try store.recordHit(weak("77.1.2.3", 3), zone: zone) == .recorded(listed: true, code: 6))
        #expect(try store.recordHit(weak("77.1.2.5", 4), zone: zone) == .recorded(listed: false, code: 6))
        #expect(try store.report(for: prefix("77.1.2.5"), zone: zone, now: clock.now).status == .heldBack)
        #expect(try store.integrityCheck().isEmpty)
    }

    /// A schema-6 file (before IPv6 sources scored per network): its IPv6 sources stay single
    /// addresses and answer as before; new hits from the same network count for the /64.
    @Test func version6FileMigratesToSourcesWithALength() throws {
        let path = directory.file("v6.sqlite")
        let state = SourceScore(firstHit: .dsn, at: clock.now - 3600, policy: .defaults)
        let host = "2a001450400100020000000000000005"  // 2a00:1450:4001:2::5
        try sqlite3(path, """
            PRAGMA journal_mode = WAL;
            BEGIN;
            \(Schema.migrations[0..<6].map(\.description).joined(separator: "\n"))
            INSERT INTO zones(id, name, settings, policy, created) VALUES (1, '\(zone)',
                \(Self.quoted(try Store.json(ZoneSettings.defaults(zone: zone)))),
                \(Self.quoted(#"{"expiry":2419200,"halfLife":604800,"neverList":[],"threshold":1,"weights":{}}"#)), \(clock.now));
            INSERT INTO hits(id, zone_id, time, recorded, family, addr, kind, trap, reporter, digest, excerpt)
                VALUES (1, 1, \(state.firstSeen), \(state.firstSeen), 6, x'\(host)', 'dsn', '…@trap.example.org', NULL, x'01', NULL);
            INSERT INTO sources(zone_id, family, addr, first_seen, last_seen, hit_count, score, kinds, all_kinds, listed_since, until, last_hit_id)
                VALUES (1, 6, x'\(host)', \(state.firstSeen), \(state.lastSeen), 1, \(state.score), \(HitKind.mask(state.kinds)),
                        \(HitKind.mask(state.allKinds)), \(state.listedSince!), \(state.until!), 1);
            PRAGMA application_id = 1919052900;
            PRAGMA user_version = 6;
            COMMIT;
            """)
        let store = try Store(path: path, clock: clock.function)
        #expect(try query(path, "PRAGMA user_version") == "\(Store.schemaVersion)")
        #expect(try query(path, "SELECT (SELECT plen IS NULL FROM sources) || ',' || (SELECT client IS NULL FROM hits)") == "1,1")
        #expect(try store.listingPolicy(zone: zone).ipv6Prefix == 64, "a stored policy gets the new default")
        #expect(try store.activeListings(zone: zone, now: clock.now).map(\.prefix) == [prefix("2a00:1450:4001:2::5")])
        #expect(try store.report(for: prefix("2a00:1450:4001:2::5"), zone: zone, now: clock.now).source == nil)

        let hit = Hit(source: prefix("2a00:1450:4001:2::6"), kind: .dsn, time: clock.now, trap: "…@trap.example.org", digest: [2])
        #expect(try store.recordHit(hit, zone: zone) == .recorded(listed: true, code: 2))
        #expect(try store.activeListings(zone: zone, now: clock.now).map(\.prefix).sorted()
                == [prefix("2a00:1450:4001:2::/64"), prefix("2a00:1450:4001:2::5")])
        let old = try store.report(for: prefix("2a00:1450:4001:2::5"), zone: zone, now: clock.now)
        #expect(old.matchedPrefix == "2a00:1450:4001:2::5" && old.source == nil, "its own entry is the longest match")
        #expect(try store.report(for: prefix("2a00:1450:4001:2::6"), zone: zone, now: clock.now).source == "2a00:1450:4001:2::/64")
        #expect(try store.integrityCheck().isEmpty)
    }

    @Test func newStoreIsAtTheCurrentVersion() throws {
        let path = directory.file("new.sqlite")
        _ = try Store(path: path, clock: clock.function)
        #expect(try query(path, "PRAGMA user_version") == "\(Store.schemaVersion)")
        #expect(Store.schemaVersion == Schema.migrations.count)
    }

    /// Duplicates by digest within one batch and across batches, with digests of any length
    /// (short, sharing a prefix, or equal). A message is one hit per source: the same bytes
    /// attributed to another source (another trusted-network setting) count there too.
    @Test func deduplicationIsByTheWholeDigestPerSource() throws {
        let store = try Store(path: directory.file("dedupe.sqlite"), clock: clock.function)
        func hit(_ address: String, _ digest: String, at offset: Int64 = 0) -> Hit {
            Hit(source: prefix(address), kind: .dsn, time: clock.now + offset, trap: "…@trap.example.org", digest: Array(digest.utf8))
        }
        let first = try store.recordHits([hit("20.0.0.1", "ab"), hit("20.0.0.2", "abcdefgh-1"), hit("20.0.0.1", "ab"),
                                          hit("20.0.0.3", "abcdefgh-2"), hit("20.0.0.3", "abcdefgh-1"),
                                          hit("20.0.0.3", "abcdefgh-2")], zone: zone)
        #expect(first == [.recorded(listed: true, code: 2), .recorded(listed: true, code: 2), .duplicate,
                          .recorded(listed: true, code: 2), .recorded(listed: true, code: 2), .duplicate])
        let second = try store.recordHits([hit("20.0.0.3", "abcdefgh-2"), hit("20.0.0.3", "abcdefgh"), hit("20.0.0.3", "a"),
                                           hit("20.0.0.1", "ab", at: 60)], zone: zone)
        #expect(second == [.duplicate, .recorded(listed: true, code: 2), .recorded(listed: true, code: 2), .duplicate])
        #expect(try store.statistics(zone: zone, now: clock.now).hits == 6)
        #expect(try store.report(for: prefix("20.0.0.3"), zone: zone, now: clock.now).hitCount == 4)
        #expect(try store.integrityCheck().isEmpty)
    }
}
