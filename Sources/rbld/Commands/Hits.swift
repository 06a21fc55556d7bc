// Hits.swift -- `rbld hits [--weak]`: the latest hits, or the sources held back for lack of corroboration.

import ArgumentParser
import Store

struct Hits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the latest hits, or (--weak) the sources held back for lack of corroboration.",
        discussion: """
            Without --weak: the hits recorded last, newest first, with their kind and \
            evidence strength. With --weak: the sources whose weak evidence (wording alone) \
            would list them but is not corroborated yet, with their weak hits, the distinct \
            traps those reached, first and last seen, until when the evidence would list \
            them, and what corroboration still lacks (the zone's policy: weak hits from \
            distinct traps within a window, or one strong hit). Act on one with \
            `rbld confirm IP --reason TEXT` (list it) or `rbld reject IP --reason TEXT` \
            (drop its weak evidence); `rbld show IP` shows its evidence.
            """)

    @OptionGroup var store: StoreOptions

    @Flag(help: "List the sources held back for lack of corroboration instead of hits.")
    var weak = false

    @Option(help: "How many rows at most.")
    var limit = 50

    @Flag(help: "Print the rows as JSON.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        let db = try store.openStore(readOnly: true)
        let zone = try store.zoneName(in: db)
        if weak {
            let held = try storeCall { () throws(StoreError) in try db.heldBackSources(zone: zone, now: unixNow(), limit: limit) }
            if json { try printJSON(held); return }
            guard !held.isEmpty else { print("rbld: no source held back for lack of corroboration in \(zone)"); return }
            print("\(zone): \(held.count) source\(held.count == 1 ? "" : "s") held back for lack of corroboration")
            printTable(header: ["ADDRESS", "WEAK HITS", "TRAPS", "FIRST SEEN", "LAST SEEN", "HELD UNTIL", "NEEDS"], rows: held.map { source in
                [source.address, "\(source.weakHits)", "\(source.traps)", Store.formatTime(source.firstSeen),
                 Store.formatTime(source.lastSeen), Store.formatTime(source.heldUntil),
                 "\(source.missingWeakHits) weak hit(s), \(source.missingTraps) more trap(s), or a strong hit"]
            })
            return
        }
        let hits = try storeCall { () throws(StoreError) in try db.recentHits(zone: zone, limit: limit) }
        if json { try printJSON(hits); return }
        guard !hits.isEmpty else { print("rbld: no hits in \(zone)"); return }
        printTable(header: ["TIME", "SOURCE", "KIND", "EVIDENCE", "TRAP", "REPORTER"], rows: hits.map { hit in
            [Store.formatTime(hit.time), hit.source, hit.kind, hit.strength, hit.trap, hit.reporter ?? "-"]
        })
    }
}
