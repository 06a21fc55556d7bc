// Unexclude.swift -- `rbld unexclude IP|CIDR`: remove an exclusion.
import ArgumentParser
import Ingest
import Store

struct Unexclude: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the exclusion of exactly this address or network.",
        discussion: "Fails (exit 65) when the prefix itself is not excluded. Written to the audit trail.")

    @OptionGroup var store: StoreOptions

    @Argument(help: "IP address or CIDR network.")
    var prefix: String

    @Option(help: "Why (written to the audit trail).")
    var reason = "exclusion removed"

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let target = try parsePrefixArgument(prefix)
        try runAdminAction(store: store, json: json) { db, zone throws(StoreError) in
            try db.unexclude(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
