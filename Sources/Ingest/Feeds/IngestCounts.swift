// IngestCounts.swift -- counts of ingest outcomes over a run, for summaries, logs and tests.

/// Counts of outcomes over a run, for the summary line and tests.
public struct IngestCounts: Hashable, Sendable, CustomStringConvertible {
    public var recorded = 0
    public var duplicate = 0
    public var ignored = 0
    public var notBackscatter = 0
    public var unattributable = 0
    public var quarantined = 0
    /// Damaged messages (``MessageDefects/severe``) processed all the same, a copy of each
    /// kept in quarantine; each is also counted under its outcome.
    public var damaged = 0
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
        damaged += other.damaged
        deferred += other.deferred
        failed += other.failed
    }

    public var description: String {
        "\(processed) processed: \(recorded) recorded, \(duplicate) duplicate, \(ignored) ignored, "
            + "\(notBackscatter) not-backscatter, \(unattributable) unattributable, \(quarantined) quarantined; "
            + "\(damaged) damaged (copied to quarantine); \(deferred) deferred, \(failed) failed"
    }
}
