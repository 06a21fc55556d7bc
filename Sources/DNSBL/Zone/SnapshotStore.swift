// SnapshotStore.swift -- publishes served state to the serving threads.
import Synchronization

/// Holds the current `ServedZones`; serving threads check a generation counter once per
/// batch and take the lock only when something new was published.
public final class SnapshotStore: Sendable {
    private let current: Mutex<ServedZones>
    private let generationCounter = Atomic<UInt64>(0)

    public init(_ first: ServedZones) { current = Mutex(first) }

    /// The published generation; it grows by one with every `publish`.
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    public func load() -> ServedZones { current.withLock { $0 } }

    /// Swaps in `next`; readers see it from their next batch. The old state is freed by ARC
    /// after its last reader lets go of it.
    public func publish(_ next: ServedZones) {
        current.withLock { $0 = next }
        generationCounter.add(1, ordering: .releasing)
    }

    /// Replaces one zone, keeping the others.
    public func publish(zone snapshot: ZoneSnapshot) {
        current.withLock { $0 = $0.replacing(snapshot) }
        generationCounter.add(1, ordering: .releasing)
    }
}
