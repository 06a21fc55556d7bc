// Delist.swift -- `rbld delist IP|CIDR --reason TEXT`.
import ArgumentParser
import Store

struct Delist: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delist an address or network until a newer hit arrives.",
        discussion: """
            Removes manual listings at or inside the prefix, and suppresses scored \
            listings inside it until a hit newer than the delisting is recorded. Fails \
            (exit 65) when nothing there is listed. Written to the audit trail.
            """)

    @OptionGroup var act: AdminActArguments

    func run() throws {
        try act.run { db, zone, target, reason throws(StoreError) in
            try db.delist(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
