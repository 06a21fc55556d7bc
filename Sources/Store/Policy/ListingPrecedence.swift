// ListingPrecedence.swift -- the one rule that decides what a prefix's listing is.

/// Everything the store holds about one prefix that can decide its listing.
///
/// Only the prefix's own rows count here, plus the exclusions and delistings that cover
/// it: a wider manual network is its own entry, and the DNS side's longest match (or
/// `show`'s) picks between them.
public struct ListingFacts: Hashable, Sendable {
    /// An exclusion of exactly this prefix.
    public var excluded = false
    /// An exclusion of a wider prefix.
    public var insideExclusion = false
    /// The prefix's own manual or imported entry, expired or not (the time decides).
    public var manual: ManualEntry?
    /// When the newest delisting that covers the prefix was made.
    public var delistedAt: Int64?
    /// The prefix's scored source (a host, or the IPv6 network a source is scored as).
    public var source: ScoredSource?

    public init(excluded: Bool = false, insideExclusion: Bool = false, manual: ManualEntry? = nil,
                delistedAt: Int64? = nil, source: ScoredSource? = nil) {
        self.excluded = excluded
        self.insideExclusion = insideExclusion
        self.manual = manual
        self.delistedAt = delistedAt
        self.source = source
    }
}

/// A manual (`rbld list`) or imported entry.
public struct ManualEntry: Hashable, Sendable {
    /// X of 127.0.0.X; nil: the zone's default.
    public var code: UInt8?
    /// Its own TXT template; nil: the zone's.
    public var text: String?
    /// When it stops (Unix seconds); nil: never.
    public var expires: Int64?

    public init(code: UInt8?, text: String?, expires: Int64?) {
        self.code = code
        self.text = text
        self.expires = expires
    }
}

/// What scoring says about a source, as far as its listing goes.
public struct ScoredSource: Hashable, Sendable {
    /// When its score listing ends (Unix seconds); nil: never listed.
    public var until: Int64?
    /// The time of its last hit that counted toward a listing (strong, or corroborated
    /// weak): a delisting holds a listing down until such a hit is newer.
    public var lastCounted: Int64
    /// The answer's code: the zone's ``ReturnCodes`` for the listing's kinds.
    public var code: UInt8
    /// When its weak evidence would stop listing it, had it been corroborated (when later
    /// than `until`): until then the source is held back for lack of corroboration.
    public var heldUntil: Int64?

    public init(until: Int64?, lastCounted: Int64, code: UInt8, heldUntil: Int64? = nil) {
        self.until = until
        self.lastCounted = lastCounted
        self.code = code
        self.heldUntil = heldUntil
    }

    public init(_ score: SourceScore, codes: ReturnCodes) {
        self.init(until: score.until, lastCounted: score.lastCounted, code: codes.code(kinds: score.kinds), heldUntil: score.heldUntil)
    }
}

/// The decision for one prefix at one time.
public enum ListingDecision: Hashable, Sendable {
    /// An exclusion: served as a `!` hole in wider listings.
    case excluded(Listing)
    /// A wider exclusion covers it: nothing of its own is served.
    case insideExclusion
    /// Its manual or imported entry answers.
    case manual(Listing)
    /// Its score listing answers.
    case scored(Listing)
    /// Its score would list it, but a delisting made at `since` holds it down until a
    /// newer hit.
    case delisted(since: Int64)
    /// Its weak evidence would list it until `until`, but is not corroborated: it waits
    /// for more (docs/POLICY.md), or for an operator's `rbld confirm`.
    case heldBack(until: Int64)
    /// Scoring never lists this range (the policy's never-list).
    case neverListed
    /// Nothing lists it now.
    case notListed

    /// The prefix's entry in the served table, if it has one.
    public var listing: Listing? {
        switch self {
        case .excluded(let listing), .manual(let listing), .scored(let listing): listing
        case .insideExclusion, .delisted, .heldBack, .neverListed, .notListed: nil
        }
    }
}

/// The listing precedence, written once: the bulk snapshot, the point lookups and `show`
/// all decide through ``decide(_:facts:policy:defaultCode:now:)``.
public enum ListingPrecedence {
    /// What `prefix`'s entry is at `now`.
    ///
    /// In this order: an exclusion wins over everything (the prefix is a hole; inside a
    /// wider exclusion it has no entry at all); a manual or imported entry that has not
    /// expired lists, whatever the score or a delisting says; scoring never lists the
    /// policy's never-list ranges; a running score listing lists unless a delisting made
    /// at or after the source's last counting hit holds it down; a source whose weak
    /// evidence would list it but is not corroborated is held back. Corroboration itself is
    /// judged hit by hit when the source is scored (``SourceScore/replay(_:policy:confirmed:rejected:)``):
    /// it decides `until`, and `heldUntil` says what uncorroborated evidence would add.
    ///
    /// - Parameter defaultCode: the zone's code for manual entries without their own.
    public static func decide(_ prefix: IPPrefix, facts: ListingFacts, policy: ListingPolicy,
                              defaultCode: UInt8, now: Int64) -> ListingDecision {
        if facts.excluded { return .excluded(Listing(prefix: prefix, excluded: true, code: 0)) }
        if facts.insideExclusion { return .insideExclusion }
        if let manual = facts.manual, (manual.expires ?? .max) > now {
            return .manual(Listing(prefix: prefix, code: manual.code ?? defaultCode, text: manual.text, expires: manual.expires))
        }
        // A source is one address, or an IPv6 network its hits are scored as.
        guard prefix.isHost || (prefix.family == .v6 && facts.source != nil) else { return .notListed }
        if policy.isNeverListed(prefix) { return .neverListed }
        guard let source = facts.source else { return .notListed }
        if let until = source.until, until > now {
            if let delisted = facts.delistedAt, delisted >= source.lastCounted { return .delisted(since: delisted) }
            return .scored(Listing(prefix: prefix, code: source.code, expires: until))
        }
        if let held = source.heldUntil, held > now { return .heldBack(until: held) }
        return .notListed
    }
}
