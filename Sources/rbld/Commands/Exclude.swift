// Exclude.swift -- `rbld exclude IP|CIDR --reason TEXT`: allowlist a network.
import ArgumentParser
import Foundation
import Ingest
import Store

struct Exclude: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exclude (allowlist) an address or network: never listed, by anything.",
        discussion: "Wins over manual listings, imports and scores until `rbld unexclude`. Written to the audit trail.")

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
            try db.exclude(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
