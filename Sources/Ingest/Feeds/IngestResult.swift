// IngestResult.swift -- a message between classification and the store, and what became of it.

/// A message after classification, before the store: its hit, or its final outcome.
public struct PreparedMessage: Sendable {
    public var origin: String
    /// nil only when the input could not be classified at all.
    public var classification: Classification?
    /// The hit to record (backscatter with a public source).
    public var hit: Hit?
    /// The outcome when no store write is needed (not backscatter, unattributable, quarantine).
    public var outcome: IngestOutcome?
}

/// One ingested message: where it came from, what the classifier said, what was done.
public struct IngestResult: Sendable {
    public var origin: String
    public var classification: Classification?
    public var outcome: IngestOutcome
}
