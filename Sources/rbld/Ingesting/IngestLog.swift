// IngestLog.swift -- one-line texts and log entries for ingest results.

import Ingest
import Logging
import Store

/// One-line texts and log entries for ingest results.
enum IngestLog {
    /// A short text for a reply or a line of output.
    static func summary(_ outcome: IngestOutcome) -> String {
        switch outcome {
        case .recorded(let source, let kind, let listed): "recorded: \(kind) from \(source.addressText)\(listed ? ", listed" : "")"
        case .duplicate(let source): "duplicate of a recorded message from \(source.addressText), counted once"
        case .ignored(let reason): "not recorded: \(reason)"
        case .notBackscatter: "processed: not backscatter"
        case .unattributable: "processed: no public source to attribute"
        case .quarantine(let error): "quarantined: \(error.reason)"
        }
    }

    /// Logs one message's outcome at info level (shown with `--verbose`).
    static func result(origin: String, outcome: IngestOutcome, classification: Classification?, logger: Logger) {
        logger.info("\(summary(outcome))", metadata: [
            "origin": "\(origin)",
            "verdict": "\(classification?.verdict.rawValue ?? "-")",
            "kind": "\(classification?.kind.rawValue ?? "-")",
        ])
    }
}
