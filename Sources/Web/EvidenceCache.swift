// EvidenceCache.swift -- redacted evidence, remembered per hit and source.

import Store
import Synchronization

/// The redactor's answers, remembered: redacting one hit costs more than the rest of a
/// lookup (a profile of the API showed about half of a lookup's time in it), and a stored
/// hit never changes, so its public view changes only with the redactor.
///
/// Bounded: beyond `capacity` remembered hits, all are forgotten at once.
final class EvidenceCache: Sendable {
    private struct Key: Hashable {
        var hit: SourceReport.Evidence
        var source: IPPrefix
    }

    private struct State {
        var redactor: EvidenceRedactor
        /// Grows with every new redactor, so an answer of the previous one is not kept.
        var generation = 0
        var entries: [Key: PublicEvidence] = [:]
    }

    private let state: Mutex<State>
    let capacity: Int

    init(_ redactor: EvidenceRedactor, capacity: Int = 20_000) {
        state = Mutex(State(redactor: redactor))
        self.capacity = max(1, capacity)
    }

    /// Uses `redactor` from now on, forgetting what the previous one made.
    func replace(_ redactor: EvidenceRedactor) {
        state.withLock { $0 = State(redactor: redactor, generation: $0.generation + 1) }
    }

    /// `redactor.evidence(hit, source: source)`, remembered.
    func evidence(_ hit: SourceReport.Evidence, source: IPPrefix) -> PublicEvidence {
        let key = Key(hit: hit, source: source)
        let (cached, redactor, generation) = state.withLock { ($0.entries[key], $0.redactor, $0.generation) }
        if let cached { return cached }
        // Redacted outside the lock: other lookups go on meanwhile.
        let fresh = redactor.evidence(hit, source: source)
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = fresh
        }
        return fresh
    }

    /// Hits remembered (tests).
    var count: Int { state.withLock { $0.entries.count } }
}
