// Stats.swift -- `rbld stats`: counts of listings, sources, hits and the store.
import ArgumentParser
import Ingest
import Store

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show counts of listings, sources, hits and the store.")

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print the counts as JSON.")
    var json = false

    func run() throws {
        let db = try store.openStore(readOnly: true)
        let zone = try store.zoneName(in: db)
        let stats = try storeCall { () throws(StoreError) in try db.statistics(zone: zone, now: unixNow()) }
        if json { try printJSON(stats); return }
        print("\(stats.zone) in \(store.db) (schema \(stats.schemaVersion), serial \(stats.serial))")
        printFields([
            ("served entries", "\(stats.activeListings)"),
            ("manual (imported)", "\(stats.manualImported)"),
            ("manual (admin)", "\(stats.manualAdmin)"),
            ("exclusions", "\(stats.exclusions)"),
            ("delistings", "\(stats.delistings)"),
            ("sources", "\(stats.sources) (\(stats.sourcesListed) listed by score, \(stats.sourcesHeldBack) held back for corroboration)"),
            ("hits", "\(stats.hits) (\(stats.hitsLast24h) in 24 h, \(stats.hitsLast7d) in 7 d)"),
            ("hits by kind", stats.hitsByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")),
            ("change log rows", "\(stats.changeLogRows)"),
            ("audit rows", "\(stats.auditRows)"),
            ("database", "\(stats.databaseBytes / 1024) KiB"),
            ("retention", "hits kept \(durationText(stats.retention.keepHits)), at most \(stats.retention.maxHitsPerSource) per source; "
                + "due: \(stats.retention.oldHits) old hit(s), \(stats.retention.oldSources) source(s), "
                + "\(stats.retention.hitsBeyondCap) hit(s) beyond a source's cap"),
        ], indent: "  ")
    }
}
