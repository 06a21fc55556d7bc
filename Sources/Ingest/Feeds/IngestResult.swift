// IngestResult.swift -- a message between classification and the store, and what became of it.

public import Store

/// A message after classification, before the store: its hit, or its final outcome.
public struct PreparedMessage: Sendable {
    public var origin: String
    /// nil only when the input could not be classified at all.
    public var classification: Classification?
    /// The hit to record (backscatter with a public source).
    public var hit: Hit?
    /// The trap address the hit's message reached, in full: only its key is stored
    /// (``Ingester/commit(_:)`` makes it with the store's secret).
    var trapAddress: String?
    /// The outcome when no store write is needed (not backscatter, unattributable, quarantine).
    public var outcome: IngestOutcome?
    /// Set when the input is damaged (``MessageDefects/severe``): whatever the outcome, the
    /// feed keeps a copy in quarantine with this reason and logs a warning. Never set when
    /// the outcome is `.quarantine` (the whole message goes there anyway).
    public var damage: IngestError?
}

/// One ingested message: where it came from, what the classifier said, what was done.
public struct IngestResult: Sendable {
    public var origin: String
    public var classification: Classification?
    public var outcome: IngestOutcome
    /// See ``PreparedMessage/damage``: a copy belongs in quarantine.
    public var damage: IngestError?

    public init(origin: String, classification: Classification?, outcome: IngestOutcome, damage: IngestError? = nil) {
        self.origin = origin
        self.classification = classification
        self.outcome = outcome
        self.damage = damage
    }

    /// The message to keep in quarantine and why: the reason of a `.quarantine` outcome
    /// (the message itself goes there), else the damage (a copy goes there), else nil.
    public var quarantineReason: IngestError? {
        if case .quarantine(let problem) = outcome { return problem }
        return damage
    }
}
