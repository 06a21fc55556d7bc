// PublicationObserver.swift -- what publication reports as it goes (metrics, tests).

/// Told of every publication and every failed look at the store.
///
/// The executable's metrics implement it (`rbld_publication_lag_seconds`,
/// `rbld_publication_store_errors_total`, `rbld_publication_last_read_timestamp_seconds`),
/// so a server that keeps serving an old snapshot because its store cannot be read shows it;
/// and of every export written or failed (`rbld_exports_written_total`, `rbld_exports_failed_total`).
public protocol PublicationObserver: Sendable {
    /// A change (or an expiry) was served `lag` after the look at the store that found it.
    func published(lag: Duration)
    /// The store was read successfully at `time` (Unix seconds), whether or not it changed.
    func storeRead(at time: Int64)
    /// Reading the store failed; every zone keeps serving its last good snapshot.
    func storeReadFailed(_ error: any Error)
    /// An export of `zone` was written to `path` at `time` (Unix seconds).
    func exportWritten(zone: String, path: String, at time: Int64)
    /// An export of `zone` could not be written to `path`; the file there is the last one
    /// written.
    func exportFailed(zone: String, path: String, _ error: any Error)
}

extension PublicationObserver {
    public func exportWritten(zone: String, path: String, at time: Int64) {}
    public func exportFailed(zone: String, path: String, _ error: any Error) {}
}
