// Expire.swift -- `rbld expire`: remove expired listings, old evidence and old change-log rows.
import ArgumentParser
import Ingest
import Store

struct Expire: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove expired manual listings, old change-log rows and (optionally) old evidence.",
        discussion: """
            Serving never needs this: listings expire continuously, and the DNS answer \
            changes when the time passes. This keeps the store small. Evidence (hits) is \
            kept unless --hits-older-than or --retention is given; `rbld run` applies \
            --retention by itself every hour.
            """)

    @OptionGroup var store: StoreOptions

    @Option(help: "Delete hits older than this (e.g. 400d), sources with no newer hit that are not listed, and delistings made before it that hold down no listing any more.")
    var hitsOlderThan: String?

    @Flag(help: "Apply the zone's evidence retention: hits older than policy.keep-hits (unless --hits-older-than is given) and beyond the newest policy.max-hits-per-source of each source.")
    var retention = false

    @Option(help: "Delete change-log rows older than this.")
    var changesOlderThan = "7d"

    @Flag(help: "Count only; change nothing.")
    var dryRun = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let hitAge = try hitsOlderThan.map { try parseDurationArgument($0, option: "--hits-older-than") }
        let changeAge = try parseDurationArgument(changesOlderThan, option: "--changes-older-than")
        let db = try store.openStore(readOnly: false)
        let zone = try store.zoneName(in: db)
        let summary = try storeCall { () throws(StoreError) in
            try db.expire(zone: zone, hitsOlderThan: hitAge, changeLogOlderThan: changeAge, retention: retention,
                          dryRun: dryRun, actor: auditActor)
        }
        if json { try printJSON(summary); return }
        let verb = dryRun ? "would remove" : "removed"
        print("rbld: \(verb) \(summary.expiredListings) expired listing(s), \(summary.deletedHits) old hit(s), "
              + (retention ? "\(summary.cappedHits) hit(s) beyond each source's cap, " : "")
              + "\(summary.deletedSources) source(s), \(summary.deletedDelistings) spent delisting(s), "
              + "\(summary.prunedChanges) change-log row(s) in \(summary.zone)")
    }
}
