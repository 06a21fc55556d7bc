// Ingester+Mbox.swift -- an mbox file's messages ingested a batch per transaction.

extension Ingester {
    /// Ingests the messages of the mbox file at `path`, `batch` at a time, each batch in
    /// one store transaction; the file itself is never changed.
    ///
    /// `record` gets each stored message's result and bytes, in file order, once its batch
    /// is committed (the caller counts it and keeps what needs keeping in quarantine).
    /// The first batch the store does not take ends the file: that batch and every message
    /// after it are left out, and the error and the batch's size are returned, so that the
    /// caller can say so and retry the file later (a retried message is a duplicate by
    /// digest, counted once).
    ///
    /// - Parameter commit: runs each batch's commit (the caller may time it).
    /// - Throws: `.unreadable` when the file cannot be read.
    public func ingestMbox(
        at path: String, batch: Int, now: Int64,
        commit: (() throws(IngestError) -> [IngestOutcome]) throws(IngestError) -> [IngestOutcome] = { body throws(IngestError) in try body() },
        record: (IngestResult, [UInt8]) -> Void
    ) throws(IngestError) -> (failure: IngestError, messages: Int)? {
        var pending: [PreparedMessage] = []
        var bytes: [[UInt8]] = []
        var failed: (failure: IngestError, messages: Int)?
        func flush() {
            guard failed == nil, !pending.isEmpty else { return }
            do {
                let outcomes = try commit { () throws(IngestError) in try self.commit(pending) }
                for (index, outcome) in outcomes.enumerated() {
                    record(IngestResult(origin: pending[index].origin, classification: pending[index].classification,
                                        outcome: outcome, damage: pending[index].damage), bytes[index])
                }
            } catch {
                failed = (error, pending.count)
            }
            pending.removeAll(keepingCapacity: true)
            bytes.removeAll(keepingCapacity: true)
        }
        do {
            try Mbox.forEachMessage(inFile: path) { entry in
                guard failed == nil else { return }
                let message = FeedMessage(bytes: entry.bytes, origin: "\(path)#\(entry.index)", receivedTime: entry.time)
                pending.append(Ingester.prepare(message, trustedNetworks: trustedNetworks, now: now))
                bytes.append(entry.bytes)
                if pending.count >= batch { flush() }
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw IngestError(.unreadable, "\(path): \(error)")
        }
        flush()
        return failed
    }
}
