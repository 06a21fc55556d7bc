// Store+Import.swift -- loading list files (rbldnsd or plain) as manual entries, in one transaction.

/// What an import changed.
public struct ImportSummary: Hashable, Sendable, Codable {
    public var zone: String
    /// Entries (listings and exclusions) that were not in the store.
    public var added: Int = 0
    /// Entries whose answer (code or TXT) changed.
    public var updated: Int = 0
    /// Earlier imported entries missing from this import (only with `replace`).
    public var removed: Int = 0
    /// Entries already present with the same answer.
    public var unchanged: Int = 0
    /// Entries that match an admin-managed row (from `rbld list`/`exclude`), left alone.
    public var keptAdmin: Int = 0
    /// Input entries for a prefix that appeared again later (the last one wins).
    public var duplicates: Int = 0
    /// True when the zone's settings changed (`$SOA`, `$NS`, `$TTL`, `:A:TXT`).
    public var settingsChanged = false
    /// The change serial after the import.
    public var serial: Int64 = 0
    /// The audit row describing this import.
    public var auditID: Int64 = 0

    public init(zone: String) { self.zone = zone }
}

extension Store {
    /// Audit rows per changed entry are written when an import changes at most this many;
    /// above it the import's one summary row (which every imported row references) stands.
    static let importAuditDetailLimit = 1000

    /// Imports a parsed list file: its zone settings and entries, in one transaction.
    ///
    /// - Parameters:
    ///   - skipBad: import the good lines even when the file had errors. Without it, a
    ///     file with any error changes nothing.
    /// - Throws: `.invalidInput` naming the first bad lines when the file had errors and
    ///   `skipBad` is false; storage errors otherwise.
    public func importListFile(_ file: ListFileResult, zone: String, replace: Bool, skipBad: Bool,
                               actor: String, reason: String) throws(StoreError) -> ImportSummary {
        if !file.errors.isEmpty, !skipBad {
            let shown = file.errors.prefix(5).map(\.description).joined(separator: "\n")
            let more = file.errors.count > 5 ? "\n(\(file.errors.count - 5) more)" : ""
            throw StoreError(.invalidInput, "\(file.errors.count) bad line\(file.errors.count == 1 ? "" : "s"); nothing imported:\n\(shown)\(more)")
        }
        return try db.writeTransaction { () throws(StoreError) -> ImportSummary in
            var settingsChanged = false
            if !file.settings.isEmpty {
                let zoneID = try zoneID(creating: zone)
                let current = try zoneConfig(zoneID).settings
                let merged = file.settings.applied(to: current)
                if merged != current {
                    try saveZoneSettingsInTransaction(merged, actor: actor, reason: reason)
                    settingsChanged = true
                }
            }
            var summary = try importEntries(file.entries, zone: zone, replace: replace, actor: actor, reason: reason)
            summary.settingsChanged = settingsChanged
            summary.serial = try changeSerial()
            return summary
        }
    }

    /// Imports manual entries (listings and `!` exclusions) into a zone, in ONE transaction.
    ///
    /// With `replace`, the entries replace all earlier *imported* entries of the zone (the
    /// rbldnsd-file model: the file is the list); entries added by `rbld list`/`exclude`
    /// are never touched by imports. Only differences are written, so re-importing the same
    /// file writes nothing but its audit row.
    ///
    /// Audit: one summary row per import, referenced by every row it wrote; per-entry rows
    /// too when at most ``importAuditDetailLimit`` entries changed. Change log: the changed
    /// prefixes (and the entries inside changed exclusions), or one rebuild marker.
    public func importEntries(_ entries: [ImportEntry], zone: String, replace: Bool,
                              actor: String, reason: String) throws(StoreError) -> ImportSummary {
        try db.writeTransaction { () throws(StoreError) -> ImportSummary in
            let zoneID = try zoneID(creating: zone)
            let now = clock()
            var summary = ImportSummary(zone: ZoneSettings.normalizedName(zone))
            let auditID = try audit(zoneID: zoneID, actor: actor, action: "import", prefix: nil, reason: reason,
                                    before: nil, after: nil)
            summary.auditID = auditID

            // Sorted, last-wins unique input, split into listings and exclusions.
            var sorted = entries
            sorted.sort { a, b in a.prefix != b.prefix ? a.prefix < b.prefix : a.line < b.line }
            var listings: [ImportEntry] = [], exclusions: [ImportEntry] = []
            listings.reserveCapacity(sorted.count)
            for entry in sorted {
                if entry.excluded {
                    if let last = exclusions.last, last.prefix == entry.prefix { exclusions.removeLast(); summary.duplicates += 1 }
                    exclusions.append(entry)
                } else {
                    if let last = listings.last, last.prefix == entry.prefix { listings.removeLast(); summary.duplicates += 1 }
                    listings.append(entry)
                }
            }
            sorted = []

            var changed: [IPPrefix] = []
            var details: [(action: String, prefix: IPPrefix, before: EntryState?, after: EntryState?)] = []
            let keepDetails = { (count: Int) in count <= Store.importAuditDetailLimit }

            // Listings: merge-join the sorted input with the zone's rows (index order).
            let existingListings = try loadManualRows(zoneID: zoneID)
            var inserts: [Int] = [], updates: [(row: ManualRow, index: Int)] = [], deletes: [ManualRow] = []
            mergeJoin(listings, existingListings) { entryIndex, row in
                switch (entryIndex, row) {
                case let (index?, row?):
                    if row.origin != .import { summary.keptAdmin += 1 }
                    else if row.code == listings[index].code && row.text == listings[index].text && row.expires == nil { summary.unchanged += 1 }
                    else { updates.append((row, index)) }
                case let (index?, nil): inserts.append(index)
                case let (nil, row?): if replace, row.origin == .import { deletes.append(row) }
                case (nil, nil): break
                }
            }
            let insertListing = try db.statement("""
                INSERT INTO manual_listings(zone_id, family, addr, plen, code, txt, origin, created, expires, audit_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, NULL, ?8)
                """)
            insertListing.bind(1, zoneID).bind(7, now).bind(8, auditID)
            for index in inserts {
                let entry = listings[index]
                insertListing.resetKeepingBindings()
                insertListing.bindPrefix(2, entry.prefix).bind(5, entry.code.map(Int64.init)).bind(6, entry.text)
                try insertListing.run()
                changed.append(entry.prefix)
            }
            insertListing.reset()
            let updateListing = try db.statement("""
                UPDATE manual_listings SET code = ?5, txt = ?6, expires = NULL, created = ?7, audit_id = ?8
                WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
                """)
            for (_, index) in updates {
                let entry = listings[index]
                updateListing.reset()
                updateListing.bind(1, zoneID).bindPrefix(2, entry.prefix).bind(5, entry.code.map(Int64.init))
                    .bind(6, entry.text).bind(7, now).bind(8, auditID)
                try updateListing.run()
                changed.append(entry.prefix)
            }
            let deleteListing = try db.statement("""
                DELETE FROM manual_listings WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
                """)
            for row in deletes {
                deleteListing.reset()
                deleteListing.bind(1, zoneID).bindPrefix(2, row.prefix)
                try deleteListing.run()
                changed.append(row.prefix)
            }
            summary.added += inserts.count
            summary.updated += updates.count
            summary.removed += deletes.count
            if keepDetails(inserts.count + updates.count + deletes.count) {
                for index in inserts { details.append(("import-list", listings[index].prefix, nil, EntryState(listings[index]))) }
                for (row, index) in updates {
                    details.append(("import-update", listings[index].prefix, EntryState(row), EntryState(listings[index])))
                }
                for row in deletes { details.append(("import-unlist", row.prefix, EntryState(row), nil)) }
            }

            // Exclusions: the same merge.
            let existingExclusions = try loadExclusionRows(zoneID: zoneID)
            var exclusionInserts: [Int] = [], exclusionDeletes: [ExclusionRow] = []
            mergeJoin(exclusions, existingExclusions) { entryIndex, row in
                switch (entryIndex, row) {
                case let (_?, row?): if row.origin != .import { summary.keptAdmin += 1 } else { summary.unchanged += 1 }
                case let (index?, nil): exclusionInserts.append(index)
                case let (nil, row?): if replace, row.origin == .import { exclusionDeletes.append(row) }
                case (nil, nil): break
                }
            }
            let insertExclusion = try db.statement("""
                INSERT INTO exclusions(zone_id, family, addr, plen, origin, created, audit_id)
                VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)
                """)
            var exclusionChanges: [IPPrefix] = []
            for index in exclusionInserts {
                insertExclusion.reset()
                insertExclusion.bind(1, zoneID).bindPrefix(2, exclusions[index].prefix).bind(5, now).bind(6, auditID)
                try insertExclusion.run()
                exclusionChanges.append(exclusions[index].prefix)
            }
            let deleteExclusion = try db.statement("""
                DELETE FROM exclusions WHERE zone_id = ?1 AND family = ?2 AND addr = ?3 AND plen = ?4
                """)
            for row in exclusionDeletes {
                deleteExclusion.reset()
                deleteExclusion.bind(1, zoneID).bindPrefix(2, row.prefix)
                try deleteExclusion.run()
                exclusionChanges.append(row.prefix)
            }
            summary.added += exclusionInserts.count
            summary.removed += exclusionDeletes.count
            if keepDetails(details.count + exclusionChanges.count) {
                for index in exclusionInserts { details.append(("import-exclude", exclusions[index].prefix, nil, EntryState(excluded: true))) }
                for row in exclusionDeletes { details.append(("import-unexclude", row.prefix, EntryState(excluded: true), nil)) }
            } else {
                details.removeAll()
            }

            // Change log: changed entries, plus what lies inside changed exclusions.
            changed += exclusionChanges
            if changed.count <= Store.changeLogBulkLimit {
                for exclusion in exclusionChanges {
                    changed += try contained(in: exclusion, zoneID: zoneID, now: now, limit: Store.changeLogBulkLimit + 1)
                    if changed.count > Store.changeLogBulkLimit { break }
                }
            }
            try logChanges(zoneID: zoneID, changed)

            for detail in details {
                try audit(zoneID: zoneID, actor: actor, action: detail.action, prefix: detail.prefix, reason: reason,
                          before: try detail.before.map { state throws(StoreError) in try Store.json(state) },
                          after: try detail.after.map { state throws(StoreError) in try Store.json(state) })
            }
            var recorded = summary
            recorded.serial = try changeSerial()
            let finish = try db.statement("UPDATE audit SET after = ?2 WHERE id = ?1")
            finish.bind(1, auditID).bind(2, try Store.json(ImportAuditRecord(summary: recorded, replace: replace, entries: entries.count)))
            try finish.run()
            return recorded
        }
    }

    /// Walks two prefix-sorted sequences together, calling `body` with each input index,
    /// stored row, or both when their prefixes match.
    private func mergeJoin<Row: PrefixRow>(_ entries: [ImportEntry], _ rows: [Row], _ body: (Int?, Row?) -> Void) {
        var entryIndex = 0, rowIndex = 0
        while entryIndex < entries.count || rowIndex < rows.count {
            if entryIndex == entries.count { body(nil, rows[rowIndex]); rowIndex += 1; continue }
            if rowIndex == rows.count { body(entryIndex, nil); entryIndex += 1; continue }
            let entryPrefix = entries[entryIndex].prefix, rowPrefix = rows[rowIndex].prefix
            if entryPrefix == rowPrefix {
                body(entryIndex, rows[rowIndex]); entryIndex += 1; rowIndex += 1
            } else if entryPrefix < rowPrefix {
                body(entryIndex, nil); entryIndex += 1
            } else {
                body(nil, rows[rowIndex]); rowIndex += 1
            }
        }
    }

    /// The zone's manual listings, in prefix order.
    func loadManualRows(zoneID: Int64) throws(StoreError) -> [ManualRow] {
        let statement = try db.statement("""
            SELECT family, addr, plen, code, txt, origin, expires FROM manual_listings WHERE zone_id = ?1
            ORDER BY family, addr, plen
            """)
        statement.bind(1, zoneID)
        var rows: [ManualRow] = []
        while try statement.step() {
            guard let prefix = statement.prefix(0) else { throw corruptRow("manual_listings") }
            rows.append(ManualRow(prefix: prefix, code: statement.isNull(3) ? nil : UInt8(clamping: statement.int(3)),
                                  text: statement.text(4), origin: Origin(rawValue: statement.int64(5)) ?? .admin,
                                  expires: statement.optionalInt64(6)))
        }
        // Blob order equals address order, so the rows come sorted; make sure anyway.
        if !Store.isSorted(rows) { rows.sort { $0.prefix < $1.prefix } }
        return rows
    }

    /// The zone's exclusions, in prefix order.
    func loadExclusionRows(zoneID: Int64) throws(StoreError) -> [ExclusionRow] {
        let statement = try db.statement("""
            SELECT family, addr, plen, origin FROM exclusions WHERE zone_id = ?1 ORDER BY family, addr, plen
            """)
        statement.bind(1, zoneID)
        var rows: [ExclusionRow] = []
        while try statement.step() {
            guard let prefix = statement.prefix(0) else { throw corruptRow("exclusions") }
            rows.append(ExclusionRow(prefix: prefix, origin: Origin(rawValue: statement.int64(3)) ?? .admin))
        }
        if !Store.isSorted(rows) { rows.sort { $0.prefix < $1.prefix } }
        return rows
    }

    /// Manual listings and listed sources strictly inside `network` (their state depends on
    /// an exclusion or delisting of `network`).
    func contained(in network: IPPrefix, zoneID: Int64, now: Int64, limit: Int) throws(StoreError) -> [IPPrefix] {
        var found: [IPPrefix] = []
        let manual = try db.statement("""
            SELECT family, addr, plen FROM manual_listings
            WHERE zone_id = ?1 AND family = ?2 AND addr >= ?3 AND addr <= ?4 LIMIT ?5
            """)
        manual.bind(1, zoneID).bind(2, Int64(network.family == .v4 ? 4 : 6)).bindAddress(3, network)
            .bindAddress(4, family: network.family, address: network.lastAddress).bind(5, limit)
        while try manual.step() {
            if let prefix = manual.prefix(0), prefix != network, network.contains(prefix) { found.append(prefix) }
        }
        let sources = try db.statement("""
            SELECT family, addr, coalesce(plen, CASE family WHEN 4 THEN 32 ELSE 128 END) FROM sources
            WHERE zone_id = ?1 AND family = ?2 AND addr >= ?3 AND addr <= ?4 AND until > ?5 LIMIT ?6
            """)
        sources.bind(1, zoneID).bind(2, Int64(network.family == .v4 ? 4 : 6)).bindAddress(3, network)
            .bindAddress(4, family: network.family, address: network.lastAddress).bind(5, now).bind(6, limit)
        while try sources.step() {
            if let prefix = sources.prefix(0), prefix != network, network.contains(prefix) { found.append(prefix) }
        }
        return found
    }
}

protocol PrefixRow { var prefix: IPPrefix { get } }

extension Store {
    static func isSorted(_ rows: [some PrefixRow]) -> Bool {
        rows.indices.dropFirst().allSatisfy { rows[$0 - 1].prefix < rows[$0].prefix }
    }
}

/// Who manages a manual row: imports replace only their own rows.
enum Origin: Int64, Codable {
    case `import` = 0
    case admin = 1
}

struct ManualRow: PrefixRow {
    var prefix: IPPrefix
    var code: UInt8?
    var text: String?
    var origin: Origin
    var expires: Int64?

    /// What the listing precedence needs of it.
    var entry: ManualEntry { ManualEntry(code: code, text: text, expires: expires) }
}

struct ExclusionRow: PrefixRow {
    var prefix: IPPrefix
    var origin: Origin
}

/// An entry's state as written to audit rows.
struct EntryState: Codable, Hashable {
    var excluded: Bool?
    var code: UInt8?
    var text: String?
    var expires: Int64?
    var origin: String?
    var kinds: [HitKind]?

    init(excluded: Bool? = nil, code: UInt8? = nil, text: String? = nil, expires: Int64? = nil, origin: Origin? = nil, kinds: [HitKind]? = nil) {
        self.excluded = excluded
        self.code = code
        self.text = text
        self.expires = expires
        self.origin = origin.map { $0 == .import ? "import" : "admin" }
        self.kinds = kinds
    }

    init(_ entry: ImportEntry) {
        self.init(excluded: entry.excluded ? true : nil, code: entry.code, text: entry.text, origin: .import)
    }

    init(_ row: ManualRow) {
        self.init(code: row.code, text: row.text, expires: row.expires, origin: row.origin)
    }
}

/// The import's summary audit row.
struct ImportAuditRecord: Codable {
    var summary: ImportSummary
    var replace: Bool
    var entries: Int
}

extension ImportSummary: CustomStringConvertible {
    /// `added 3, updated 1, removed 2, unchanged 10` (and what else applies).
    public var description: String {
        var parts = ["added \(added)", "updated \(updated)", "removed \(removed)", "unchanged \(unchanged)"]
        if keptAdmin > 0 { parts.append("\(keptAdmin) admin-managed left alone") }
        if duplicates > 0 { parts.append("\(duplicates) duplicate(s)") }
        if settingsChanged { parts.append("zone settings updated") }
        return parts.joined(separator: ", ")
    }
}
