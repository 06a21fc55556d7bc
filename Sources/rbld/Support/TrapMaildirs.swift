// TrapMaildirs.swift -- trap Maildirs named by the operator, and where rejected mail goes.

import Foundation
import Ingest

/// A trap Maildir named by the operator; exit 66 when it is not one.
func trapMaildir(_ path: String) throws -> Maildir {
    guard Maildir.isMaildir(path) else { throw Failure(.noInput, "\(path): not a Maildir (needs cur/, new/ and tmp/)") }
    return Maildir(path: path)
}

/// Where messages that cannot be processed (and copies of damaged ones) are kept when the
/// configuration names no quarantine.
enum DefaultQuarantine {
    /// The configured quarantine, else the first trap Maildir's own (`DIR/.quarantine`),
    /// else `quarantine` next to the store (for stdin, LMTP and message files).
    static func path(configured: String?, maildirs: [Maildir], db: String) -> String {
        configured ?? maildirs.first?.quarantinePath ?? besideStore(db)
    }

    /// `quarantine` in the store's directory.
    static func besideStore(_ db: String) -> String {
        URL(fileURLWithPath: db).deletingLastPathComponent().path + "/quarantine"
    }
}
