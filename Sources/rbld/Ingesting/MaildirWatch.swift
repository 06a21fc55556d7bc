// MaildirWatch.swift -- the ingest daemon's Maildir loop: passes over every trap until stopped.

import Ingest
import Logging

/// Runs Maildir passes over every trap until ``StopFlag`` is raised (daemon mode), or once.
///
/// Between passes it waits for inotify events (or 200 ms). A bad message never stops the
/// loop (it is quarantined, or skipped when even that fails); a busy or unavailable store
/// backs off (0.2 s doubling up to 5 s) and retries, leaving the messages in `new/`.
final class MaildirWatch {
    let feeds: [MaildirFeed]
    let logger: Logger
    let pollMilliseconds: Int32
    private(set) var totals = IngestCounts()

    init(feeds: [MaildirFeed], logger: Logger, pollMilliseconds: Int32 = 200) {
        self.feeds = feeds
        self.logger = logger
        self.pollMilliseconds = pollMilliseconds
    }

    /// One pass over every trap; returns true when the store was unavailable.
    @discardableResult
    func runOnce(stop: StopFlag) -> Bool {
        var storeFailed = false
        for feed in feeds {
            if stop.isRaised { break }
            let pass = feed.runOnce(shouldStop: { stop.isRaised })
            totals.add(pass.counts)
            for problem in pass.problems {
                logger.warning("\(problem.reason)", metadata: ["maildir": "\(feed.maildir.path)", "code": "\(problem.code.rawValue)"])
            }
            if let failure = pass.storeFailure {
                storeFailed = true
                logger.warning("store unavailable; messages stay in new/ for a retry",
                               metadata: ["maildir": "\(feed.maildir.path)", "error": "\(failure.reason)"])
            }
            if pass.counts.processed > 0 {
                logger.info("maildir pass", metadata: ["maildir": "\(feed.maildir.path)", "counts": "\(pass.counts)"])
            }
        }
        return storeFailed
    }

    /// Watches until `stop` is raised; the batch in flight is finished first.
    func watch(stop: StopFlag) {
        let watcher = DirectoryWatcher(directories: feeds.map(\.maildir.newPath))
        logger.notice("watching Maildirs", metadata: [
            "maildirs": "\(feeds.map(\.maildir.path).joined(separator: " "))",
            "mode": "\(watcher.isNotifying ? "inotify" : "poll")",
        ])
        var backoff: Int32 = 0
        while !stop.isRaised {
            for feed in feeds { feed.ingester.followStoreFile() }
            if runOnce(stop: stop) {
                backoff = min(max(backoff * 2, pollMilliseconds), 5000)
            } else {
                backoff = 0
            }
            var waited: Int32 = 0
            let pause = max(backoff, pollMilliseconds)
            while waited < pause, !stop.isRaised {
                // Short slices, so a stop request is noticed within one poll interval.
                if watcher.wait(milliseconds: min(pollMilliseconds, pause - waited)), backoff == 0 { break }
                waited += pollMilliseconds
            }
        }
        logger.notice("Maildir watch stopped", metadata: ["counts": "\(totals)"])
    }
}
