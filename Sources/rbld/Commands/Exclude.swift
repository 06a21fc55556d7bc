// Exclude.swift -- `rbld exclude IP|CIDR --reason TEXT`: allowlist a network.
import ArgumentParser
import Store

struct Exclude: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exclude (allowlist) an address or network: never listed, by anything.",
        discussion: "Wins over manual listings, imports and scores until `rbld unexclude`. Written to the audit trail.")

    @OptionGroup var act: AdminActArguments

    func run() throws {
        try act.run { db, zone, target, reason throws(StoreError) in
            try db.exclude(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
