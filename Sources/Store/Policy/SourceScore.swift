// SourceScore.swift -- one source's score and listing state, folded hit by hit.

/// The scoring state of one source: its decayed score and its current listing, if any.
///
/// A pure value: ``adding(kind:at:policy:)`` folds one hit in, so the policy can be tested
/// without a database and out-of-order hits can be replayed in time order.
public struct SourceScore: Hashable, Sendable {
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var hitCount: Int
    /// The decayed score as of `lastSeen` (the last hit included).
    public var score: Double
    /// Kinds of the hits of the current listing (or of the recent hits building up to one).
    public var kinds: Set<HitKind>
    /// Every kind ever seen from this source.
    public var allKinds: Set<HitKind>
    /// When the current (or last) listing began; nil when never listed.
    public var listedSince: Int64?
    /// When the current (or last) listing ends; nil when never listed.
    public var until: Int64?

    /// The state after the source's first hit.
    public init(firstHit kind: HitKind, at time: Int64, policy: ListingPolicy) {
        firstSeen = time
        lastSeen = time
        hitCount = 1
        score = policy.weight(kind)
        kinds = [kind]
        allKinds = [kind]
        if score >= policy.threshold {
            listedSince = time
            until = time + policy.expiry
        }
    }

    /// Memberwise, for the store.
    public init(firstSeen: Int64, lastSeen: Int64, hitCount: Int, score: Double, kinds: Set<HitKind>,
                allKinds: Set<HitKind>, listedSince: Int64?, until: Int64?) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.hitCount = hitCount
        self.score = score
        self.kinds = kinds
        self.allKinds = allKinds
        self.listedSince = listedSince
        self.until = until
    }

    /// Folds in a hit at `time` (not earlier than `lastSeen`; replay older ones in order).
    ///
    /// While listed, a hit extends the listing to `time + expiry` and adds its kind. When
    /// not listed, the decayed score plus the hit's weight must reach the threshold to
    /// start a new listing; kinds of hits older than the expiry are forgotten.
    public func adding(kind: HitKind, at time: Int64, policy: ListingPolicy) -> SourceScore {
        precondition(time >= lastSeen, "hits must be folded in time order")
        var next = self
        next.score = policy.decay(score, from: lastSeen, to: time) + policy.weight(kind)
        next.hitCount += 1
        next.lastSeen = time
        next.allKinds.insert(kind)
        if let until, until > time {
            next.until = time + policy.expiry
            next.kinds.insert(kind)
            return next
        }
        // Not listed at `time`: recent kinds carry over into a new listing, stale ones don't.
        next.kinds = time - lastSeen < policy.expiry ? kinds.union([kind]) : [kind]
        if next.score >= policy.threshold {
            next.listedSince = time
            next.until = time + policy.expiry
        }
        return next
    }

    /// True when the source is listed at `now` (before delistings, exclusions, ranges).
    public func isListed(at now: Int64) -> Bool { (until ?? .min) > now }

    /// The score decayed to `now`.
    public func score(at now: Int64, policy: ListingPolicy) -> Double {
        now <= lastSeen ? score : policy.decay(score, from: lastSeen, to: now)
    }

    /// The return code of the current listing: 2 + the kinds' bits.
    public var code: UInt8 { ReturnCode.code(kinds: kinds) }

    /// Replays hits (in any order) from scratch.
    public static func replay(_ hits: [(time: Int64, kind: HitKind)], policy: ListingPolicy) -> SourceScore? {
        let ordered = hits.sorted { $0.time < $1.time }
        guard let first = ordered.first else { return nil }
        var state = SourceScore(firstHit: first.kind, at: first.time, policy: policy)
        for hit in ordered.dropFirst() { state = state.adding(kind: hit.kind, at: hit.time, policy: policy) }
        return state
    }
}

extension HitKind {
    /// The stored bitmask of a set of kinds.
    static func mask(_ kinds: Set<HitKind>) -> Int64 { kinds.reduce(0) { $0 | $1.maskBit } }
    static func set(_ mask: Int64) -> Set<HitKind> { Set(kinds(inMask: mask)) }
}
