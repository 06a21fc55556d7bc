// SourceScore.swift -- one source's score and listing state, folded hit by hit.

/// The scoring state of one source: its decayed score, its current listing if any, and
/// what its weak evidence would list were it corroborated.
///
/// A pure value: ``adding(kind:strength:at:counts:policy:)`` folds one hit in, and
/// ``replay(_:policy:confirmed:rejected:)`` folds a source's whole history, judging each
/// weak hit's corroboration on the way, so the policy can be tested without a database and
/// out-of-order hits replayed in time order.
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
    /// The time of the last hit that counted toward a listing (strong, or corroborated
    /// weak): a delisting holds a listing down until a hit that counts is newer.
    public var lastCounted: Int64
    /// Weak hits recorded (rejected ones included).
    public var weakHits: Int
    /// When the listing would end had every weak hit been corroborated, when that is later
    /// than ``until``: the source is held back for lack of corroboration until then.
    public var heldUntil: Int64?

    /// The state after the source's first hit.
    public init(firstHit kind: HitKind, strength: EvidenceStrength = .strong, at time: Int64, counts: Bool = true,
                policy: ListingPolicy) {
        self.init(firstSeen: time, lastSeen: time, hitCount: 1, score: policy.weight(kind, strength), kinds: [kind],
                  allKinds: [kind], listedSince: nil, until: nil, lastCounted: counts ? time : .min,
                  weakHits: strength == .weak ? 1 : 0)
        if counts, score >= policy.threshold {
            listedSince = time
            until = time + policy.expiry
        }
    }

    /// Memberwise, for the store.
    public init(firstSeen: Int64, lastSeen: Int64, hitCount: Int, score: Double, kinds: Set<HitKind>,
                allKinds: Set<HitKind>, listedSince: Int64?, until: Int64?, lastCounted: Int64? = nil,
                weakHits: Int = 0, heldUntil: Int64? = nil) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.hitCount = hitCount
        self.score = score
        self.kinds = kinds
        self.allKinds = allKinds
        self.listedSince = listedSince
        self.until = until
        self.lastCounted = lastCounted ?? lastSeen
        self.weakHits = weakHits
        self.heldUntil = heldUntil
    }

    /// Folds in a hit at `time` (not earlier than `lastSeen`; replay older ones in order).
    ///
    /// Every hit adds its weight to the score. A hit that `counts` (strong, or corroborated
    /// weak) extends a running listing to `time + expiry` and adds its kind, or, when not
    /// listed, starts a listing once the score reaches the threshold. A hit that does not
    /// count lists nothing, extends nothing, and adds its kind only to the kinds building
    /// up to a listing. When not listed, kinds of hits older than the expiry are forgotten.
    public func adding(kind: HitKind, strength: EvidenceStrength = .strong, at time: Int64, counts: Bool = true,
                       policy: ListingPolicy) -> SourceScore {
        precondition(time >= lastSeen, "hits must be folded in time order")
        var next = self
        next.score = policy.decay(score, from: lastSeen, to: time) + policy.weight(kind, strength)
        next.hitCount += 1
        next.lastSeen = time
        next.allKinds.insert(kind)
        if strength == .weak { next.weakHits += 1 }
        if counts { next.lastCounted = time }
        if let until, until > time {
            if counts {
                next.until = time + policy.expiry
                next.kinds.insert(kind)
            }
            return next
        }
        // Not listed at `time`: recent kinds carry over into a new listing, stale ones don't.
        next.kinds = time - lastSeen < policy.expiry ? kinds.union([kind]) : [kind]
        if counts, next.score >= policy.threshold {
            next.listedSince = time
            next.until = time + policy.expiry
        }
        return next
    }

    /// Records a hit that is not evidence any more (weak evidence an operator rejected):
    /// it was seen, so it counts among the hits, but it adds no score and lists nothing.
    public func recording(kind: HitKind, strength: EvidenceStrength, at time: Int64, policy: ListingPolicy) -> SourceScore {
        precondition(time >= lastSeen, "hits must be folded in time order")
        var next = self
        next.score = policy.decay(score, from: lastSeen, to: time)
        next.hitCount += 1
        next.lastSeen = time
        next.allKinds.insert(kind)
        if strength == .weak { next.weakHits += 1 }
        return next
    }

    /// True when the source is listed at `now` (before delistings, exclusions, ranges).
    public func isListed(at now: Int64) -> Bool { (until ?? .min) > now }

    /// True when weak evidence would list the source at `now`, but lacks corroboration.
    public func isHeldBack(at now: Int64) -> Bool { !isListed(at: now) && (heldUntil ?? .min) > now }

    /// The score decayed to `now`.
    public func score(at now: Int64, policy: ListingPolicy) -> Double {
        now <= lastSeen ? score : policy.decay(score, from: lastSeen, to: now)
    }

    /// One hit as the replay reads it.
    public struct Evidence: Hashable, Sendable {
        public var time: Int64
        public var kind: HitKind
        public var strength: EvidenceStrength
        /// Which trap it reached (the hit's trap key, or failing that its redacted trap):
        /// only compared, to count distinct traps.
        public var trap: [UInt8]

        public init(time: Int64, kind: HitKind, strength: EvidenceStrength = .strong, trap: [UInt8] = []) {
            self.time = time
            self.kind = kind
            self.strength = strength
            self.trap = trap
        }
    }

    /// Replays strong hits (in any order) from scratch.
    public static func replay(_ hits: [(time: Int64, kind: HitKind)], policy: ListingPolicy) -> SourceScore? {
        replay(hits.map { Evidence(time: $0.time, kind: $0.kind) }, policy: policy)
    }

    /// Replays a source's hits (in any order) from scratch, judging each weak hit's
    /// corroboration at its time (``ListingPolicy/Corroboration``).
    ///
    /// - Parameters:
    ///   - confirmed: an operator confirmed the source then: its weak hits up to then count.
    ///   - rejected: an operator rejected its weak evidence then: its weak hits up to then
    ///     are no evidence (they neither score nor corroborate).
    public static func replay(_ hits: [Evidence], policy: ListingPolicy, confirmed: Int64? = nil,
                              rejected: Int64? = nil) -> SourceScore? {
        let ordered = hits.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        var state: SourceScore?
        // Every weak hit taken as corroborated: how long the source would be listed.
        var unheld: SourceScore?
        var window = CorroborationWindow(policy.corroboration)
        for hit in ordered {
            if hit.strength == .weak, let rejected, hit.time <= rejected {
                state = state?.recording(kind: hit.kind, strength: hit.strength, at: hit.time, policy: policy)
                    ?? SourceScore(firstHit: hit.kind, strength: hit.strength, at: hit.time, counts: false, policy: policy)
                        .removingScore()
                unheld = unheld?.recording(kind: hit.kind, strength: hit.strength, at: hit.time, policy: policy)
                    ?? SourceScore(firstHit: hit.kind, strength: hit.strength, at: hit.time, counts: false, policy: policy)
                        .removingScore()
                continue
            }
            window.add(hit)
            let counts = hit.strength == .strong || (confirmed.map { hit.time <= $0 } ?? false) || window.corroborates(at: hit.time)
            state = state?.adding(kind: hit.kind, strength: hit.strength, at: hit.time, counts: counts, policy: policy)
                ?? SourceScore(firstHit: hit.kind, strength: hit.strength, at: hit.time, counts: counts, policy: policy)
            unheld = unheld?.adding(kind: hit.kind, strength: hit.strength, at: hit.time, policy: policy)
                ?? SourceScore(firstHit: hit.kind, strength: hit.strength, at: hit.time, policy: policy)
        }
        guard var final = state else { return nil }
        if let heldUntil = unheld?.until, heldUntil > (final.until ?? .min) { final.heldUntil = heldUntil }
        return final
    }

    private func removingScore() -> SourceScore {
        var copy = self
        copy.score = 0
        return copy
    }
}

/// The hits of the corroboration window before a weak hit: (t − window, t].
struct CorroborationWindow {
    let rule: ListingPolicy.Corroboration
    private var strong: [Int64] = []
    private var weak: [(time: Int64, trap: [UInt8])] = []

    init(_ rule: ListingPolicy.Corroboration) { self.rule = rule }

    mutating func add(_ hit: SourceScore.Evidence) {
        if hit.strength == .strong { strong.append(hit.time) } else { weak.append((hit.time, hit.trap)) }
    }

    /// Whether a weak hit at `time` (already added) is corroborated by the hits before it.
    mutating func corroborates(at time: Int64) -> Bool {
        let start = time - rule.window
        strong.removeAll { $0 <= start }
        weak.removeAll { $0.time <= start }
        if !strong.isEmpty { return true }
        return weak.count >= rule.weakHits && Set(weak.map(\.trap)).count >= rule.traps
    }

    /// Weak hits and distinct traps in the window ending at `time`.
    static func counts(_ hits: [SourceScore.Evidence], rule: ListingPolicy.Corroboration, endingAt time: Int64)
        -> (weakHits: Int, traps: Int, strongHits: Int) {
        let inWindow = hits.filter { $0.time > time - rule.window && $0.time <= time }
        let weak = inWindow.filter { $0.strength == .weak }
        return (weak.count, Set(weak.map(\.trap)).count, inWindow.count - weak.count)
    }
}

extension HitKind {
    /// The stored bitmask of a set of kinds.
    static func mask(_ kinds: Set<HitKind>) -> Int64 { kinds.reduce(0) { $0 | $1.maskBit } }
    static func set(_ mask: Int64) -> Set<HitKind> { Set(kinds(inMask: mask)) }
}
