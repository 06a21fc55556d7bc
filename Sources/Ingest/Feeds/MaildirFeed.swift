// MaildirFeed.swift -- one Maildir trap: read new/, commit hits, move to cur/ or quarantine.

import Glibc

/// What one pass over a Maildir did.
public struct MaildirPass: Sendable {
    public var counts = IngestCounts()
    /// Set when the pass stopped because the store is busy or unavailable; the unprocessed
    /// messages are still in `new/` and the caller should retry later.
    public var storeFailure: IngestError?
    /// Problems with single messages (quarantined, damaged and copied to quarantine, or
    /// stuck because even that failed), for warnings that name the input.
    public var problems: [IngestError] = []
}

/// Ingests the messages of one Maildir trap.
///
/// Each pass lists `new/` and works through it in batches: read and classify up to
/// ``batchLimit`` messages, commit their hits in one store transaction, then move each
/// message to `cur/` (processed) or into the quarantine (not processable). A damaged
/// message (``MessageDefects/severe``) is processed and moved to `cur/` too, after a copy
/// went to the quarantine. A message leaves `new/` only after the commit that recorded it
/// (and its copy, if any): killed at any moment, the feed finds unmoved messages in `new/`
/// again, and their hits are duplicates by digest, counted once.
///
/// Not thread-safe: one feed per thread (it owns the ingester's store connection).
public final class MaildirFeed {
    public let maildir: Maildir
    public let quarantine: Quarantine
    public let ingester: Ingester
    /// Messages committed per store transaction.
    public var batchLimit: Int
    /// Called for every message with its result (for logs and metrics).
    public var onResult: ((IngestResult) -> Void)?
    /// Called after each successful store commit with how long it took (for metrics).
    public var onCommit: ((Duration) -> Void)?
    /// Names that could neither be moved nor quarantined: skipped for the feed's lifetime
    /// so that a watch loop does not spin on them (they stay in `new/` for an operator).
    private var stuck: Set<String> = []

    public init(maildir: Maildir, quarantine: Quarantine? = nil, ingester: Ingester, batchLimit: Int = 256) {
        self.maildir = maildir
        self.quarantine = quarantine ?? Quarantine(path: maildir.quarantinePath)
        self.ingester = ingester
        self.batchLimit = max(1, batchLimit)
    }

    /// Processes the messages in `new/` now.
    ///
    /// - Parameter shouldStop: polled between messages; when it returns true, the
    ///   messages read so far are committed and moved, and the pass ends (SIGTERM).
    public func runOnce(shouldStop: () -> Bool = { false }) -> MaildirPass {
        var pass = MaildirPass()
        let names: [String]
        do {
            names = try maildir.newMessages().filter { !stuck.contains($0) }
        } catch {
            pass.problems.append(error)
            pass.counts.failed += 1
            return pass
        }
        var offset = 0
        while offset < names.count, !shouldStop() {
            let batch = names[offset..<min(offset + batchLimit, names.count)]
            offset += batch.count
            let stop = processBatch(batch, into: &pass, shouldStop: shouldStop)
            if stop || pass.storeFailure != nil { break }
        }
        return pass
    }

    /// One batch; returns true when `shouldStop` cut it short.
    private func processBatch(_ names: ArraySlice<String>, into pass: inout MaildirPass, shouldStop: () -> Bool) -> Bool {
        var prepared: [PreparedMessage] = []
        var taken: [String] = []
        var stopped = false
        let now = ingester.clock()
        for name in names {
            if shouldStop() { stopped = true; break }
            let path = maildir.newPath + "/" + name
            let read: (bytes: [UInt8], modified: Int64)
            do {
                read = try MessageReader.read(file: path)
            } catch {
                var info = stat()
                if lstat(path, &info) != 0 { continue }  // moved away by another reader meanwhile
                keepInQuarantine(name: name, error: error, into: &pass)
                continue
            }
            let message = FeedMessage(bytes: read.bytes, origin: path, receivedTime: read.modified)
            prepared.append(Ingester.prepare(message, trustedNetworks: ingester.trustedNetworks, now: now))
            taken.append(name)
        }
        guard !prepared.isEmpty else { return stopped }
        let outcomes: [IngestOutcome]
        do {
            let start = ContinuousClock.now
            outcomes = try ingester.commit(prepared)
            onCommit?(ContinuousClock.now - start)
        } catch {
            pass.storeFailure = error
            pass.counts.deferred += prepared.count
            return stopped
        }
        for (index, outcome) in outcomes.enumerated() {
            let name = taken[index]
            onResult?(IngestResult(origin: prepared[index].origin, classification: prepared[index].classification,
                                   outcome: outcome, damage: prepared[index].damage))
            if case .quarantine(let error) = outcome {
                keepInQuarantine(name: name, error: error, into: &pass)
                continue
            }
            if let damage = prepared[index].damage {
                // The copy before the move: a crash between them leaves the message in new/,
                // and the next pass copies it again (a duplicate copy, never a missing one).
                do {
                    try quarantine.keep(copyOf: maildir.newPath + "/" + name, reason: damage.reason)
                    pass.problems.append(damage)
                    pass.counts.damaged += 1
                } catch {
                    stuck.insert(name)
                    pass.problems.append(IngestError(error.code, "\(damage.reason); but \(error.reason); left in new/"))
                    pass.counts.failed += 1
                    continue
                }
            }
            do {
                try maildir.markProcessed(name)
                pass.counts.add(outcome)
            } catch {
                stuck.insert(name)
                pass.problems.append(error)
                pass.counts.failed += 1
            }
        }
        return stopped
    }

    private func keepInQuarantine(name: String, error: IngestError, into pass: inout MaildirPass) {
        let path = maildir.newPath + "/" + name
        do {
            try quarantine.keep(file: path, reason: error.reason)
            pass.problems.append(error)
            pass.counts.quarantined += 1
        } catch let failure {
            stuck.insert(name)
            pass.problems.append(IngestError(failure.code, "\(error.reason); and \(failure.reason)"))
            pass.counts.failed += 1
        }
    }
}
