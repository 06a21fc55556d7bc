// RateLimiter.swift -- token buckets per client key, bounded in memory.

import Store
import Synchronization

/// A token bucket per client key: `perSecond` tokens a second up to `burst`; a request
/// takes its cost or is refused with the time until it could be taken.
///
/// Memory is bounded: beyond `maxClients` keys, buckets that have filled up again (clients
/// gone quiet) are forgotten, and if that is not enough, every bucket is.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let perSecond: Double
    private let burst: Double
    private let maxClients: Int
    private let buckets = Mutex<[IPPrefix: Bucket]>([:])

    init(_ limit: WebConfiguration.RateLimit) {
        perSecond = limit.perSecond
        burst = max(1, limit.burst)
        maxClients = max(16, limit.maxClients)
    }

    var isEnabled: Bool { perSecond > 0 }

    /// Takes `cost` tokens from `key`'s bucket at `now` (seconds on a monotonic clock).
    ///
    /// - Returns: nil when allowed; else the seconds to wait before `cost` would be allowed.
    func take(_ key: IPPrefix, cost: Double = 1, now: Double) -> Double? {
        guard isEnabled else { return nil }
        let cost = min(cost, burst)
        return buckets.withLock { buckets -> Double? in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * perSecond)
            bucket.updated = now
            defer {
                buckets[key] = bucket
                if buckets.count > maxClients { prune(&buckets, now: now) }
            }
            if bucket.tokens >= cost {
                bucket.tokens -= cost
                return nil
            }
            return (cost - bucket.tokens) / perSecond
        }
    }

    private func prune(_ buckets: inout [IPPrefix: Bucket], now: Double) {
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * perSecond < burst }
        if buckets.count > maxClients { buckets.removeAll(keepingCapacity: true) }
    }

    /// Keys remembered (tests).
    var clientCount: Int { buckets.withLock { $0.count } }
}
