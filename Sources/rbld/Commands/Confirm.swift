// Confirm.swift -- `rbld confirm IP --reason TEXT`: list a held-back source as if corroborated.

import ArgumentParser
import Store

struct Confirm: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a source held back for lack of corroboration, as if its weak evidence were corroborated.",
        discussion: """
            A source whose hits are all weak evidence (wording alone) is held back until \
            corroborated: more weak hits from other traps, or a strong hit (see `rbld hits \
            --weak` and `rbld show`). Confirming vouches for its weak hits up to now: the \
            source is listed from them, until the policy's expiry after the last one; weak \
            hits that arrive later are judged as usual. Fails (exit 65) when the address is \
            not held back. Written to the audit trail; a running server answers within a second.
            """)

    @OptionGroup var act: AdminActArguments

    func run() throws {
        try act.run { db, zone, target, reason throws(StoreError) in
            try db.confirm(target, zone: zone, actor: auditActor, reason: reason)
        }
    }
}
