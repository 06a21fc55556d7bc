// WebStatistics.swift -- what /stats shows: DNS queries per second sampled here, and the store's daily history, cached.

import Logging
import ServiceLifecycle
import Store
import Synchronization

/// Samples the DNS server's answered-query counter every `sampleInterval` (a service under
/// the application), keeping the last hour or so, and caches the store's daily history per
/// zone for `historyLifetime` seconds (reading it scans every hit).
final class WebStatistics: Service, Sendable {
    struct Sample: Sendable, Codable {
        /// Unix seconds.
        var time: Int64
        var queriesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case time
            case queriesPerSecond = "queries_per_second"
        }
    }

    let queriesAnswered: (@Sendable () -> UInt64)?
    let sampleInterval: Duration
    let sampleCount = 360
    let historyLifetime: Int64 = 300
    let clock: @Sendable () -> Int64
    private let samples = Mutex<[Sample]>([])
    private let histories = Mutex<[String: ZoneHistory]>([:])

    init(queriesAnswered: (@Sendable () -> UInt64)?, sampleInterval: Duration, clock: @escaping @Sendable () -> Int64) {
        self.queriesAnswered = queriesAnswered
        self.sampleInterval = sampleInterval
        self.clock = clock
    }

    func run() async throws {
        // A service that returns ends the application: without a counter, wait for shutdown.
        guard let queriesAnswered else {
            try? await gracefulShutdown()
            return
        }
        var last = queriesAnswered()
        var lastTime = ContinuousClock.now
        while !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { [sampleInterval] in try await Task.sleep(for: sampleInterval) } } catch { return }
            if Task.isShuttingDownGracefully { return }
            let count = queriesAnswered()
            let time = ContinuousClock.now
            let elapsed = time - lastTime
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let sample = Sample(time: clock(), queriesPerSecond: seconds > 0 ? Double(count &- last) / seconds : 0)
            samples.withLock { samples in
                samples.append(sample)
                if samples.count > sampleCount { samples.removeFirst(samples.count - sampleCount) }
            }
            last = count
            lastTime = time
        }
    }

    var querySamples: [Sample] { samples.withLock { $0 } }

    /// The zone's history, from the cache when it is young enough.
    func history(zone: String, pool: StorePool, dayCount: Int) throws(StoreError) -> ZoneHistory {
        let now = clock()
        if let cached = histories.withLock({ $0[zone] }), now - cached.now < historyLifetime, cached.days.count == dayCount {
            return cached
        }
        let fresh = try pool.read { store throws(StoreError) in try store.history(zone: zone, now: now, dayCount: dayCount) }
        histories.withLock { $0[zone] = fresh }
        return fresh
    }
}
