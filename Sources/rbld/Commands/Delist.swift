// Delist.swift -- `rbld delist IP|CIDR --reason TEXT`.
import ArgumentParser
import Foundation
import Ingest
import Store

struct Delist: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delist an address or network until a newer hit arrives.",
        discussion: """
            Removes manual listings at or inside the prefix, and suppresses scored \
            listings inside it until a hit newer than the delisting is recorded. Fails \
            (exit 65) when nothing there is listed. Written to the audit trail.
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "IP address or CIDR network.")
    var prefix: String

    @Option(help: "Why (required; written to the audit trail).")
    var reason: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must not be empty") }
    }

    func run() throws {
        let target = try parsePrefixArgument(prefix)
        try runAdminAction(store: store, json: json) { db, zone throws(StoreError) in
            try db.delist(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
