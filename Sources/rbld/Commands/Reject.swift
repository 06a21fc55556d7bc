// Reject.swift -- `rbld reject IP --reason TEXT`: drop a source's weak evidence.

import ArgumentParser
import Store

struct Reject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drop a source's weak evidence: its weak hits so far no longer count.",
        discussion: """
            For weak hits (wording alone) that were not backscatter. They stay recorded and \
            `rbld show` lists them, but they neither score nor corroborate: a held-back \
            source is no longer held back, and a listing that rested on them ends. Strong \
            hits stand (use `rbld delist` for those). Weak hits that arrive later are \
            evidence again. Fails (exit 65) when the source has no weak evidence. Written \
            to the audit trail; a running server answers within a second.
            """)

    @OptionGroup var act: AdminActArguments

    func run() throws {
        try act.run { db, zone, target, reason throws(StoreError) in
            try db.reject(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
