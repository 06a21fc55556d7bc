// LMTPInFlight.swift -- the number of LMTP deliveries in progress, for a graceful stop.

import Synchronization

/// Counts deliveries in progress, so a graceful stop can wait for them.
final class LMTPInFlight: Sendable {
    private let count = Atomic<Int>(0)
    func begin() { count.wrappingAdd(1, ordering: .relaxed) }
    func end() { count.wrappingSubtract(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
