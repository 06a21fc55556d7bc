// Store+DelistRequests.swift -- delisting requests from listed parties: self-service and operator review.

/// When a listed party may remove its own listing, per zone.
///
/// The defaults follow the CBL's: a listing made by scoring is removed at once on request
/// (a newer hit lists the source again); a source that asked more than `maxDelistings`
/// times within `window` waits for an operator instead; a manual listing is never removed
/// by self-service.
public struct SelfServicePolicy: Hashable, Sendable, Codable {
    /// Whether self-service removes score listings at all (false: every request waits for
    /// an operator).
    public var enabled: Bool
    /// Self-service delistings of one address within `window` before requests go to review.
    public var maxDelistings: Int
    /// Seconds.
    public var window: Int64

    public init(enabled: Bool = true, maxDelistings: Int = 2, window: Int64 = 30 * 86400) {
        self.enabled = enabled
        self.maxDelistings = maxDelistings
        self.window = window
    }

    public static let defaults = SelfServicePolicy()
}

/// One request to delist an address, and what became of it.
public struct DelistRequest: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable, CaseIterable {
        /// Removed at once by self-service.
        case delisted
        /// Waits for an operator (manual listing, too many self-service delistings, or
        /// self-service off).
        case pending
        /// Nothing to remove: not listed, excluded, or already delisted.
        case refused
        /// An operator delisted it.
        case approved
        /// An operator kept the listing.
        case denied
    }

    public var id: Int64
    public var zone: String
    public var time: Int64
    public var address: String
    /// The requesting client's address.
    public var client: String
    public var email: String
    public var reason: String
    public var status: Status
    /// Why that outcome, in words for the requester.
    public var note: String
    public var decided: Int64?
    public var decidedBy: String?
    public var auditID: Int64?
}

extension Store {
    /// Longest e-mail address and reason kept (RFC 5321 §4.5.3.1 for the address).
    public static let delistEmailMaxLength = 254
    public static let delistReasonMaxLength = 2000

    /// Records a delisting request for `host` and carries it out when self-service applies.
    ///
    /// In one transaction: the address's answer is decided as `show` decides it; a listing
    /// made by scoring is delisted at once (an ordinary delisting, audited with `actor`)
    /// unless the address used self-service more than `policy.maxDelistings` times within
    /// `policy.window`, or self-service is off, and then the request waits for an operator;
    /// so does a manual listing, which self-service never removes. An address that is not
    /// listed, excluded or already delisted is refused. Every request is kept, with its
    /// outcome, and audited.
    ///
    /// - Parameters:
    ///   - client: the requesting client's address (kept with the request).
    ///   - actor: who the audit trail names (`web:CLIENT`).
    /// - Throws: `.invalidInput` for a network, an empty or overlong e-mail or reason;
    ///   `.notFound` for an unknown zone.
    public func requestDelisting(_ host: IPPrefix, zone: String, client: String, email: String, reason: String,
                                 policy: SelfServicePolicy, actor: String) throws(StoreError) -> DelistRequest {
        guard host.isHost else { throw StoreError(.invalidInput, "a delisting request names one address, not the network \(host)") }
        guard !email.isEmpty, email.utf8.count <= Store.delistEmailMaxLength else {
            throw StoreError(.invalidInput, "the e-mail address must have 1 to \(Store.delistEmailMaxLength) bytes")
        }
        guard !reason.isEmpty, reason.utf8.count <= Store.delistReasonMaxLength else {
            throw StoreError(.invalidInput, "the reason must have 1 to \(Store.delistReasonMaxLength) bytes")
        }
        return try db.writeTransaction { () throws(StoreError) -> DelistRequest in
            let now = clock()
            guard let zoneID = try existingZoneID(zone) else { throw StoreError(.notFound, "no zone \(ZoneSettings.normalizedName(zone))") }
            let report = try report(for: host, zone: zone, now: now, hitLimit: 0, auditLimit: 0)
            var status = DelistRequest.Status.refused
            var note: String
            var auditID: Int64?
            switch report.status {
            case .listed where Store.isManualAnswer(report):
                status = .pending
                note = "\(host) is listed by an operator (\(report.matchedPrefix ?? host.description)); an operator will review the request"
            case .listed:
                // Counted over the source the address is scored with (an IPv6 host's network),
                // so that asking from its neighbours does not reset the count.
                let source = report.source.flatMap(IPPrefix.init) ?? host
                let recent = try selfServiceDelistings(zoneID: zoneID, within: source, since: now - policy.window)
                if !policy.enabled {
                    status = .pending
                    note = "self-service delisting is off in \(report.zone); an operator will review the request"
                } else if recent >= policy.maxDelistings {
                    status = .pending
                    note = "\(source) was delisted by self-service \(recent) time\(recent == 1 ? "" : "s") in the last "
                        + "\(policy.window / 86400) days; an operator will review the request"
                } else {
                    let result = try delist(host, zone: zone, actor: actor, reason: "self-service: \(reason)")
                    status = .delisted
                    auditID = result.auditID
                    note = "\(host) is delisted; a newer hit lists it again"
                }
            case .excluded:
                note = "\(host) is excluded from \(report.zone): it is never listed"
            case .delisted:
                note = "\(host) is already delisted from \(report.zone)"
            case .heldBack, .specialPurpose, .notListed:
                note = "\(host) is not listed in \(report.zone)"
            }
            if auditID == nil {
                auditID = try audit(zoneID: zoneID, actor: actor, action: "delist-request", prefix: host,
                                    reason: reason, before: nil, after: try Store.json(["status": status.rawValue, "note": note]))
            }
            let insert = try db.statement("""
                INSERT INTO delist_requests(zone_id, time, family, addr, client, email, reason, status, note, audit_id)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """)
            insert.bind(1, zoneID).bind(2, now).bind(3, Int64(host.family == .v4 ? 4 : 6)).bindAddress(4, host)
                .bind(5, client).bind(6, email).bind(7, reason).bind(8, status.rawValue).bind(9, note).bind(10, auditID)
            try insert.run()
            return DelistRequest(id: db.lastInsertRowID, zone: report.zone, time: now, address: host.description, client: client,
                                 email: email, reason: reason, status: status, note: note, auditID: auditID)
        }
    }

    /// Whether the answer for `report`'s address comes from a manual or imported entry (the
    /// address's own, or a network around it): self-service never removes those.
    public static func isManualAnswer(_ report: SourceReport) -> Bool {
        guard let matched = report.matchedPrefix else { return false }
        return (matched != report.address && matched != report.source) || report.manual.contains { $0.prefix == matched }
    }

    /// Self-service delistings of any address in `source` (a host, or a network scored as
    /// one) since `since`. Addresses are stored big-endian at full length, so a range of
    /// blobs is a range of addresses.
    func selfServiceDelistings(zoneID: Int64, within source: IPPrefix, since: Int64) throws(StoreError) -> Int {
        let statement = try db.statement("""
            SELECT count(*) FROM delist_requests
            WHERE zone_id = ?1 AND family = ?2 AND addr BETWEEN ?3 AND ?5 AND time > ?4 AND status = 'delisted'
            """)
        statement.bind(1, zoneID).bind(2, Int64(source.family == .v4 ? 4 : 6)).bindAddress(3, source).bind(4, since)
            .bindAddress(5, family: source.family, address: source.lastAddress)
        defer { statement.reset() }
        _ = try statement.step()
        return statement.int(0)
    }

    /// Delisting requests of `zone`, newest first: only those waiting for an operator when
    /// `pendingOnly`.
    public func delistRequests(zone: String, pendingOnly: Bool, limit: Int = 200) throws(StoreError) -> [DelistRequest] {
        try db.readTransaction { () throws(StoreError) -> [DelistRequest] in
            guard let zoneID = try existingZoneID(zone) else { return [] }
            let statement = pendingOnly
                ? try db.statement("""
                    SELECT id, time, family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, client, email, reason, status, note, decided, decided_by, audit_id
                    FROM delist_requests WHERE zone_id = ?1 AND status = 'pending' ORDER BY time DESC, id DESC LIMIT ?2
                    """)
                : try db.statement("""
                    SELECT id, time, family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, client, email, reason, status, note, decided, decided_by, audit_id
                    FROM delist_requests WHERE zone_id = ?1 ORDER BY id DESC LIMIT ?2
                    """)
            statement.bind(1, zoneID).bind(2, limit)
            defer { statement.reset() }
            var requests: [DelistRequest] = []
            while try statement.step() { requests.append(try delistRequest(from: statement, zone: zone)) }
            return requests
        }
    }

    /// One request by id.
    public func delistRequest(id: Int64, zone: String) throws(StoreError) -> DelistRequest? {
        try db.readTransaction { () throws(StoreError) -> DelistRequest? in
            guard let zoneID = try existingZoneID(zone) else { return nil }
            let statement = try db.statement("""
                SELECT id, time, family, addr, CASE family WHEN 4 THEN 32 ELSE 128 END, client, email, reason, status, note, decided, decided_by, audit_id
                FROM delist_requests WHERE zone_id = ?1 AND id = ?2
                """)
            statement.bind(1, zoneID).bind(2, id)
            defer { statement.reset() }
            return try statement.step() ? try delistRequest(from: statement, zone: zone) : nil
        }
    }

    private func delistRequest(from statement: Statement, zone: String) throws(StoreError) -> DelistRequest {
        guard let host = statement.prefix(2) else { throw corruptRow("delist_requests") }
        return DelistRequest(id: statement.int64(0), zone: ZoneSettings.normalizedName(zone), time: statement.int64(1),
                             address: host.description, client: statement.text(5) ?? "", email: statement.text(6) ?? "",
                             reason: statement.text(7) ?? "", status: DelistRequest.Status(rawValue: statement.text(8) ?? "") ?? .pending,
                             note: statement.text(9) ?? "", decided: statement.optionalInt64(10), decidedBy: statement.text(11),
                             auditID: statement.optionalInt64(12))
    }

    /// An operator's decision on a pending request: `approve` delists the address (as
    /// `rbld delist` does, manual listings included; an address inside a wider manual
    /// listing is excluded from it instead), otherwise the listing stays.
    ///
    /// - Throws: `.notFound` for no such request; `.conflict` when it is not pending.
    public func decideDelistRequest(id: Int64, zone: String, approve: Bool, actor: String,
                                    reason: String) throws(StoreError) -> DelistRequest {
        try db.writeTransaction { () throws(StoreError) -> DelistRequest in
            let now = clock()
            guard let zoneID = try existingZoneID(zone), var request = try delistRequest(id: id, zone: zone) else {
                throw StoreError(.notFound, "no delisting request \(id) in \(ZoneSettings.normalizedName(zone))")
            }
            guard request.status == .pending else {
                throw StoreError(.conflict, "delisting request \(id) is \(request.status.rawValue), not pending")
            }
            guard let host = IPPrefix(request.address) else { throw corruptRow("delist_requests") }
            if approve {
                do throws(StoreError) {
                    let result = try delist(host, zone: zone, actor: actor, reason: "request \(id) approved: \(reason)")
                    request.auditID = result.auditID
                    request.note = "delisted by an operator"
                } catch {
                    guard error.code == .conflict else { throw error }
                    let current = try report(for: host, zone: zone, now: now, hitLimit: 0, auditLimit: 0)
                    if current.status == .listed, let wider = current.matchedPrefix {
                        // Inside an operator's wider listing: the address alone is taken
                        // out of it, not the whole network.
                        let result = try exclude(host, zone: zone, actor: actor, reason: "request \(id) approved: \(reason)")
                        request.auditID = result.auditID
                        request.note = "\(host) was excluded from the operator's listing \(wider)"
                    } else {
                        // Nothing is listed any more (expired, or delisted meanwhile): the
                        // request is answered all the same.
                        request.auditID = try audit(zoneID: zoneID, actor: actor, action: "delist-request", prefix: host, reason: reason,
                                                    before: nil, after: try Store.json(["status": "approved", "request": "\(id)"]))
                        request.note = "approved; \(host) was no longer listed"
                    }
                }
                request.status = .approved
            } else {
                request.auditID = try audit(zoneID: zoneID, actor: actor, action: "delist-request", prefix: host,
                                            reason: reason, before: nil, after: try Store.json(["status": "denied", "request": "\(id)"]))
                request.status = .denied
                request.note = "an operator kept the listing: \(reason)"
            }
            request.decided = now
            request.decidedBy = actor
            let update = try db.statement("""
                UPDATE delist_requests SET status = ?2, note = ?3, decided = ?4, decided_by = ?5, audit_id = ?6 WHERE id = ?1
                """)
            update.bind(1, id).bind(2, request.status.rawValue).bind(3, request.note).bind(4, now).bind(5, actor).bind(6, request.auditID)
            try update.run()
            return request
        }
    }
}
