// WebHarness.swift -- a real store file and the web site listening on a loopback port, for one test.

import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
@testable import Web

/// A store in a scratch folder and a ``WebSite`` serving it on 127.0.0.1 (a free port).
final class WebHarness: @unchecked Sendable {
    static let zone = "bl.test.example"

    let directory = TemporaryDirectory()
    let clock: TestClock
    let store: Store
    private(set) var site: WebSite!
    private(set) var port = 0
    private var task: Task<Void, any Error>?
    private let executor = ThreadExecutor(name: "web-test")

    /// Creates the store (with `zone`) and lets `seed` fill it before the site starts.
    init(clock: TestClock = TestClock(), seed: (Store) throws -> Void = { _ in }) throws {
        self.clock = clock
        store = try Store(path: directory.file("rbld.sqlite"), clock: clock.function)
        try store.saveZoneSettings(.defaults(zone: Self.zone))
        try seed(store)
    }

    var db: String { directory.file("rbld.sqlite") }

    /// The default configuration for this store: rate limits off unless `configure` sets them.
    func configuration() -> WebConfiguration {
        var configuration = WebConfiguration(host: "127.0.0.1", port: 0, db: db, zones: [Self.zone])
        configuration.rateLimit.perSecond = 0
        return configuration
    }

    /// Starts the site (on a thread of its own) and waits, at most 120 s, until it listens.
    func start(_ configure: (inout WebConfiguration) -> Void = { _ in }) async throws {
        var configuration = configuration()
        configure(&configuration)
        var logger = Logger(label: "web-test")
        logger.logLevel = .warning
        let site = try WebSite(configuration: configuration, logger: logger, clock: clock.function)
        self.site = site
        let bound = Mutex<String?>(nil)
        let app = site.application { address in bound.withLock { $0 = address } }
        task = Task(executorPreference: executor) { try await app.run() }
        // Generous: when the whole test run shares the machine, other suites hold the threads
        // this task resumes on for seconds at a time.
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            if let address = bound.withLock({ $0 }), let portText = address.split(separator: ":").last, let port = Int(portText) {
                self.port = port
                return
            }
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HTTPTestError(description: "the web site did not start listening within 120 s")
    }

    var client: HTTPTestClient { HTTPTestClient(port: port) }

    func stop() async {
        task?.cancel()
        _ = await task?.result
        executor.stop()
    }

    deinit {
        task?.cancel()
        executor.stop()
    }

    /// Records one hit for `address` (a public address) at `time`.
    static func hit(_ address: String, kind: HitKind = .dsn, time: Int64, trap: String = "…@trap.test.example",
                    excerpt: String? = nil, digest: UInt8 = 1) -> Hit {
        Hit(source: IPPrefix(address)!, kind: kind, time: time, trap: trap, reporter: nil,
            digest: [UInt8](repeating: digest, count: 32), excerpt: excerpt)
    }
}
