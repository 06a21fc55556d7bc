// IngestOutcome.swift -- what ingesting one message did, and counts of outcomes.

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

/// Counts of outcomes over a run, for the summary line and tests.
public struct IngestCounts: Hashable, Sendable, CustomStringConvertible {
    public var recorded = 0
    public var duplicate = 0
    public var ignored = 0
    public var notBackscatter = 0
    public var unattributable = 0
    public var quarantined = 0
    /// Left in place for a later retry (store busy or unavailable).
    public var deferred = 0
    /// Inputs that could not even be quarantined (named on stderr; left in place).
    public var failed = 0

    public init() {}

    /// Messages that reached a final outcome (everything but deferred and failed).
    public var processed: Int { recorded + duplicate + ignored + notBackscatter + unattributable + quarantined }

    public mutating func add(_ outcome: IngestOutcome) {
        switch outcome {
        case .recorded: recorded += 1
        case .duplicate: duplicate += 1
        case .ignored: ignored += 1
        case .notBackscatter: notBackscatter += 1
        case .unattributable: unattributable += 1
        case .quarantine: quarantined += 1
        }
    }

    public mutating func add(_ other: IngestCounts) {
        recorded += other.recorded
        duplicate += other.duplicate
        ignored += other.ignored
        notBackscatter += other.notBackscatter
        unattributable += other.unattributable
        quarantined += other.quarantined
        deferred += other.deferred
        failed += other.failed
    }

    public var description: String {
        "\(processed) processed: \(recorded) recorded, \(duplicate) duplicate, \(ignored) ignored, "
            + "\(notBackscatter) not-backscatter, \(unattributable) unattributable, \(quarantined) quarantined; "
            + "\(deferred) deferred, \(failed) failed"
    }
}
