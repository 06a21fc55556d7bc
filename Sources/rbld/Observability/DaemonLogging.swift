// DaemonLogging.swift -- the daemons' log level, which SIGHUP can change while they run.

import Logging
import Synchronization

/// The log handler of `rbld run` and `rbld serve`: it writes through swift-log's default
/// handler, and its level follows a process-wide override once one is set.
///
/// swift-log treats a logger's level as a value: each copy keeps its own. The daemons hand
/// copies of one logger to every service, so a new `log-level` read on SIGHUP is applied
/// through the override (the pattern swift-log's `LogHandler` documentation describes).
struct DaemonLogHandler: LogHandler {
    /// Set by SIGHUP's reload; nil: each handler's own level.
    private static let override = Mutex<Logger.Level?>(nil)

    /// Every daemon logger of the process logs at `level` from now on.
    static func setLevel(_ level: Logger.Level) { override.withLock { $0 = level } }

    private var inner: any LogHandler
    private var ownLevel: Logger.Level

    init(label: String, level: Logger.Level) {
        inner = Logger(label: label).handler
        ownLevel = level
    }

    var logLevel: Logger.Level {
        get { Self.override.withLock { $0 } ?? ownLevel }
        set { ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { inner.log(event: event) }
}

extension Logger {
    /// The logger a daemon hands to its services, at `level` until SIGHUP says otherwise.
    static func daemon(label: String, level: Logger.Level) -> Logger {
        Logger(label: label) { label in DaemonLogHandler(label: label, level: level) }
    }
}
