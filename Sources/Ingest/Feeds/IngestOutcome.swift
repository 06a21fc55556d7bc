// IngestOutcome.swift -- what ingesting one message did.

public import Store

/// What ingest did with one message.
public enum IngestOutcome: Hashable, Sendable {
    /// A new hit was committed for `source`; `listed` when its score listing now runs.
    case recorded(source: IPPrefix, kind: HitKind, listed: Bool)
    /// The same message (by digest) was recorded before: counted once, nothing changed.
    case duplicate(source: IPPrefix)
    /// Backscatter from a special-purpose address the policy never lists (RFC 6890).
    case ignored(reason: String)
    /// Not backscatter: processed, nothing stored.
    case notBackscatter
    /// No public source IP could be attributed: processed, nothing stored.
    case unattributable
    /// Cannot be processed for good (not a mail message, refused by the store): the feed
    /// keeps the message in quarantine with this error as the reason.
    case quarantine(IngestError)

    /// The name used in counts and logs.
    public var label: String {
        switch self {
        case .recorded: "recorded"
        case .duplicate: "duplicate"
        case .ignored: "ignored"
        case .notBackscatter: "not-backscatter"
        case .unattributable: "unattributable"
        case .quarantine: "quarantined"
        }
    }

    /// Whether the message was fully processed (its input may be marked done).
    public var isProcessed: Bool {
        if case .quarantine = self { return false }
        return true
    }
}
