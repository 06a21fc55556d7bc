// StopFlag.swift -- a request to stop, set by a signal handler task, polled by feed loops.

import Synchronization

/// A one-way flag: once raised it stays raised. Feeds poll it between messages, so the
/// message in flight is finished before they stop.
public final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public func raise() { raised.store(true, ordering: .releasing) }

    public var isRaised: Bool { raised.load(ordering: .acquiring) }
}
