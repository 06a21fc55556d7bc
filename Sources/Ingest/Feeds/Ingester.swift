// Ingester.swift -- classify a message, turn a backscatter verdict into a hit, commit it.

public import Store

/// Feeds messages into the store: classify, attribute, record the hit with its evidence.
///
/// Classification (``prepare(_:trustedNetworks:now:)``) touches no state and may run on
/// any thread; ``commit(_:)`` writes the hits of a batch in ONE transaction, so a batch is
/// stored whole or not at all. A feed marks its inputs done (Maildir `new/` → `cur/`, LMTP
/// 250) only after `commit` returned: a crash before that leaves the input in place, and
/// the retry is a duplicate by digest, counted once.
///
/// A store file deleted or replaced at its path while a daemon runs (a backup restored) is
/// followed (``ReopeningStore``): until the new file can be opened, commits throw
/// `.storeUnavailable`, so no hit goes into the old file.
///
/// Not thread-safe (it owns one `Store` connection): one `Ingester` per thread.
public final class Ingester {
    /// The store's connection, reopened when the file at its path is replaced.
    let connection: ReopeningStore
    public let zone: String
    public let trustedNetworks: TrustedNetworks
    let clock: @Sendable () -> Int64
    /// When zone settings and policy were last re-read (an admin may change them while a
    /// daemon runs; the store caches them per connection).
    private var zonesReadAt: Int64 = 0
    private var secret: [UInt8]?
    private var trapKeys: [String: [UInt8]] = [:]
    /// The connection's reopenings when `secret` and the zones were read: another file
    /// may hold another secret.
    private var readFromOpening = 0

    /// Seconds between re-reads of the zone's policy by a long-running feed.
    public static let zoneReloadInterval: Int64 = 10

    public init(store: Store, zone: String, trustedNetworks: TrustedNetworks,
                clock: @escaping @Sendable () -> Int64 = Store.systemClock) {
        connection = ReopeningStore(store)
        self.zone = zone
        self.trustedNetworks = trustedNetworks
        self.clock = clock
    }

    /// Classifies and ingests one message in its own transaction (stdin, LMTP).
    ///
    /// - Throws: `IngestError` `.storeUnavailable` when the store is busy or unusable:
    ///   nothing was written, the caller must keep the message and retry later.
    public func ingest(_ message: FeedMessage) throws(IngestError) -> IngestResult {
        let prepared = Ingester.prepare(message, trustedNetworks: trustedNetworks, now: clock())
        let outcome = try commit([prepared])[0]
        return IngestResult(origin: message.origin, classification: prepared.classification, outcome: outcome,
                            damage: prepared.damage)
    }

    /// Classifies a message and builds its hit; no store access.
    ///
    /// Input that is not a message (empty, no header field) gets the outcome `.quarantine`.
    /// Damaged input (``severeDefects(_:in:)``) is processed as any other, and its
    /// ``PreparedMessage/damage`` tells the feed to keep a copy in quarantine.
    public static func prepare(_ message: FeedMessage, trustedNetworks: TrustedNetworks, now: Int64) -> PreparedMessage {
        let result = classify(message: message.bytes, trustedNetworks: trustedNetworks)
        var prepared = PreparedMessage(origin: message.origin, classification: result)
        if result.defects.contains(.noHeader) {
            let what = message.bytes.isEmpty ? "empty input" : "no RFC 5322 header field"
            prepared.outcome = .quarantine(IngestError(.notAMessage, "\(message.origin): not a mail message (\(what))"))
            return prepared
        }
        let severe = severeDefects(result.defects, in: message.bytes)
        if !severe.isEmpty {
            prepared.damage = IngestError(.damaged, "\(message.origin): damaged input (\(names(of: severe).joined(separator: ", "))); "
                                          + "processed as far as it was read, a copy kept in quarantine")
        }
        switch result.verdict {
        case .notBackscatter:
            prepared.outcome = .notBackscatter
            return prepared
        case .unattributable:
            prepared.outcome = .unattributable
            return prepared
        case .backscatter:
            break
        }
        guard let source = result.sourceIP else {
            prepared.outcome = .unattributable
            return prepared
        }
        let traps = message.recipients.isEmpty ? TrapAddress.fromHeader(message.bytes) : message.recipients
        var excerpt = "Reason: \(result.reason)\n"
        if !result.defects.isEmpty { excerpt += "Defects: \(Self.names(of: result.defects).joined(separator: ", "))\n" }
        excerpt += result.headerExcerpt
        prepared.hit = Hit(
            source: source,
            kind: HitKind(result.kind),
            strength: result.strength,
            time: message.receivedTime ?? now,
            trap: traps.first.map(TrapAddress.redacted) ?? "unknown",
            reporter: result.reportingMTA.map { String($0.prefix(255)) },
            digest: result.digest.bytes,
            excerpt: TrapAddress.redact(excerpt, addresses: message.recipients + traps))
        prepared.trapAddress = traps.first
        return prepared
    }

    /// Records the hits of prepared messages in one transaction and returns every
    /// message's outcome, in order.
    ///
    /// A hit the store refuses for good (invalid input) is isolated by retrying the batch
    /// one message at a time; only that message's outcome becomes `.quarantine`.
    ///
    /// - Throws: `.storeUnavailable` when the store is busy, unreadable or broken: nothing
    ///   of the batch was written.
    public func commit(_ batch: [PreparedMessage]) throws(IngestError) -> [IngestOutcome] {
        var hits = batch.compactMap(\.hit)
        var stored: [HitOutcome] = []
        if !hits.isEmpty {
            let store = try currentStore()
            var index = 0
            for message in batch where message.hit != nil {
                hits[index].trapKey = try message.trapAddress.map { address throws(IngestError) in try trapKey(address, store: store) }
                index += 1
            }
            let now = clock()
            if now - zonesReadAt >= Self.zoneReloadInterval || now < zonesReadAt {
                store.reloadZones()
                zonesReadAt = now
            }
            do {
                stored = try store.recordHits(hits, zone: zone)
            } catch where Self.isPermanent(error) && hits.count > 1 {
                return try batch.map { message throws(IngestError) in try commit([message])[0] }
            } catch where Self.isPermanent(error) {
                return batch.map { $0.outcome ?? .quarantine(IngestError(.rejectedByStore, "\($0.origin): store refused the hit: \(error.reason)")) }
            } catch {
                throw IngestError(.storeUnavailable, "store \(store.path): \(error.reason)")
            }
        }
        var next = stored.makeIterator()
        return batch.map { message in
            if let outcome = message.outcome { return outcome }
            guard let hit = message.hit, let result = next.next() else { return .unattributable }
            switch result {
            case .recorded(let listed, _): return .recorded(source: hit.source, kind: hit.kind, listed: listed)
            case .duplicate: return .duplicate(source: hit.source)
            case .ignored(let reason): return .ignored(reason: reason)
            }
        }
    }

    /// The defects of `bytes` that make it damaged input (``MessageDefects/severe``).
    ///
    /// An input that ends inside the header is damaged only when its last line is cut too:
    /// a header section that ends with a line break and no body is a complete message
    /// (RFC 5322 §3.5: the body is optional), as LMTP delivers an empty DATA.
    static func severeDefects(_ defects: MessageDefects, in bytes: [UInt8]) -> MessageDefects {
        var severe = defects.intersection(.severe)
        if severe.contains(.missingHeaderEnd), let last = bytes.last, last == 0x0A || last == 0x0D {
            severe.remove(.missingHeaderEnd)
        }
        return severe
    }

    /// Readable names of parse defects, for the evidence kept with a hit.
    static func names(of defects: MessageDefects) -> [String] {
        let all: [(MessageDefects, String)] = [
            (.messageTruncated, "message over the size limit, truncated"), (.headerTruncated, "header over the size limit"),
            (.tooManyHeaderFields, "too many header fields"), (.malformedHeaderLine, "malformed header line"),
            (.missingHeaderEnd, "no end of header"), (.nulBytes, "NUL bytes"), (.mimeTooDeep, "MIME nested too deep"),
            (.tooManyMIMEParts, "too many MIME parts"), (.malformedMultipart, "malformed multipart"),
            (.eightBitGarbage, "undecodable 8-bit text"), (.mboxSeparator, "mbox From_ line"), (.noHeader, "no header"),
        ]
        return all.filter { defects.contains($0.0) }.map(\.1)
    }

    /// Closes the store connection when the file at the path is not its file any more, and
    /// opens the new one when it can. An idle feed calls this now and then: a connection
    /// left open on the old file keeps its log in use, and no connection of any process
    /// opens the new file until that log is gone.
    public func followStoreFile() {
        _ = try? currentStore()
    }

    /// The connection to the file at the store's path; what was read from a file that was
    /// replaced since (secret, trap keys, zone settings) is forgotten.
    private func currentStore() throws(IngestError) -> Store {
        let store: Store
        do { store = try connection.current() } catch {
            throw IngestError(.storeUnavailable, "store \(connection.path): \(error.reason)")
        }
        if connection.reopenings != readFromOpening {
            readFromOpening = connection.reopenings
            secret = nil
            trapKeys.removeAll()
            zonesReadAt = 0
        }
        return store
    }

    /// The key of a trap address under the store's secret (read once). A trap network has
    /// few addresses and each receives many messages: keys are kept, not made again.
    private func trapKey(_ address: String, store: Store) throws(IngestError) -> [UInt8] {
        if let known = trapKeys[address] { return known }
        if secret == nil {
            do { secret = try store.trapKeySecret() } catch {
                throw IngestError(.storeUnavailable, "store \(store.path): \(error.reason)")
            }
        }
        let key = TrapAddress.key(address, secret: secret ?? [])
        if trapKeys.count >= Self.trapKeyCacheLimit { trapKeys.removeAll(keepingCapacity: true) }
        trapKeys[address] = key
        return key
    }

    /// Trap addresses whose keys are kept (a trap network of more starts over, never grows).
    static let trapKeyCacheLimit = 65_536

    /// Store errors that are about the hit, not the store: retrying will not help.
    static func isPermanent(_ error: StoreError) -> Bool {
        switch error.code {
        case .invalidInput, .conflict: true
        default: false
        }
    }
}
