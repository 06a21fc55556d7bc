// Scratch.swift -- what tests of every module share: a scratch directory, a clock they move,
// and a seeded random number generator.

import Foundation

/// A fresh temporary directory, removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("rbld-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }
}

/// A clock (Unix seconds) that tests move by hand.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64

    public init(_ start: Int64 = 1_750_000_000) { value = start }

    public var now: Int64 {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }

    public func advance(_ seconds: Int64) { now += seconds }

    /// The clock as the `() -> Int64` the store and the publisher take.
    public var function: @Sendable () -> Int64 { { [self] in self.now } }
}

/// A small seeded generator (SplitMix64), so a failure reproduces from its seed.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for a randomized test: the seed comes from `RBLD_TEST_SEED` when set (to
    /// replay a failure), else from the system's generator; either way it is printed first,
    /// with the test's name, so a failing run says how to reproduce it.
    public init(printingSeedFor test: String) {
        let seed = ProcessInfo.processInfo.environment["RBLD_TEST_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64.max)
        print("\(test): seed \(seed) (replay with RBLD_TEST_SEED=\(seed))")
        self.init(seed: seed)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
