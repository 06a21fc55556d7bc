// QueryStatistics.swift -- per-session query outcome counters of a Responder, summed on request.

import CRelaxedCounter
import Synchronization

/// Counts every answered query by transport, zone, query type and outcome (NSD `STATUP`,
/// rbldnsd `struct dnsstats`), without a lock or an allocation per query.
///
/// Each responder session (one per UDP thread, one per TCP connection) leases a fixed block
/// of counters when it is made and is the only writer of that block: a count is a relaxed
/// load and store (`relaxed_counter_add`), as cheap as a plain increment. When the session
/// ends its block goes back to a free list with its counts in it, and the next session
/// continues counting there, so totals never go down and the number of blocks is the
/// largest number of sessions alive at once. ``totals()`` sums every block with relaxed
/// loads; a reading may miss the queries of a batch in progress, never double-count.
///
/// ```swift
/// let statistics = QueryStatistics()
/// let responder = Responder(store: snapshots, clock: clock, statistics: statistics)
/// // ... serve ...
/// for (key, count) in statistics.totals().queries { print(key.zone ?? "-", key.type, key.outcome, count) }
/// ```
public final class QueryStatistics: Sendable {
    /// Zones counted under their own name; further zones share ``QueryKey/otherZones``.
    public static let maxNamedZones = 14

    // Block layout: [transport][zone slot][type bucket][outcome + truncated], UInt64 each.
    // Slot 0 is "no served zone", slots 1...maxNamedZones are zones by first sight, the
    // last slot holds every further zone.
    static let zoneSlotCount = maxNamedZones + 2
    static let otherZonesSlot = zoneSlotCount - 1
    static let columnCount = QueryOutcome.allCases.count + 1      // + the truncated column
    static let truncatedColumn = QueryOutcome.allCases.count
    static let transportStride = zoneSlotCount * QueryTypeBucket.allCases.count * columnCount
    /// The policy counters (``PolicyAction``) follow the UDP and TCP query counters.
    static let policyBase = 2 * transportStride
    static let blockCount = policyBase + PolicyAction.allCases.count

    private struct State {
        var blocks: [UnsafeMutablePointer<UInt64>] = []
        var free: [Int] = []
        var zoneSlots: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    deinit {
        state.withLock { state in
            for block in state.blocks { block.deallocate() }
        }
    }

    /// A counter block for one session, reused from an ended session when there is one.
    func lease() -> Recorder {
        let (index, block) = state.withLock { state -> (Int, UnsafeMutablePointer<UInt64>) in
            if let index = state.free.popLast() { return (index, state.blocks[index]) }
            let block = UnsafeMutablePointer<UInt64>.allocate(capacity: Self.blockCount)
            block.initialize(repeating: 0, count: Self.blockCount)
            state.blocks.append(block)
            return (state.blocks.count - 1, block)
        }
        return Recorder(owner: self, index: index, block: block)
    }

    fileprivate func release(_ index: Int) {
        state.withLock { $0.free.append(index) }
    }

    /// The counter slots of `zones`, by their position in `zones.zones`; a zone keeps its
    /// slot for the lifetime of the statistics, whatever order later publications use.
    func zoneSlots(for zones: ServedZones) -> ZoneSlots {
        state.withLock { state in
            var slots = ZoneSlots(repeating: UInt8(Self.otherZonesSlot))
            for (position, zone) in zones.zones.prefix(slots.count).enumerated() {
                let name = zone.config.name
                if let slot = state.zoneSlots[name] {
                    slots[position] = UInt8(slot)
                } else if state.zoneSlots.count < Self.maxNamedZones {
                    let slot = state.zoneSlots.count + 1         // 1...maxNamedZones
                    state.zoneSlots[name] = slot
                    slots[position] = UInt8(slot)
                }
            }
            return slots
        }
    }

    /// Sums every session's counters; only non-zero series are listed.
    public func totals() -> QueryTotals {
        state.withLock { state in
            var names = [String?](repeating: nil, count: Self.zoneSlotCount)
            for (name, slot) in state.zoneSlots { names[slot] = name }
            var totals = QueryTotals()
            for transportIndex in 0..<2 {
                let transport: Transport = transportIndex == 0 ? .udp : .tcp
                for slot in 0..<Self.zoneSlotCount {
                    let zone: String? = slot == Self.otherZonesSlot ? QueryKey.otherZones : names[slot]
                    for type in QueryTypeBucket.allCases {
                        let base = Self.offset(transport: transportIndex, zoneSlot: slot, type: type)
                        var truncated: UInt64 = 0
                        for block in state.blocks { truncated &+= relaxed_counter_load(block + base + Self.truncatedColumn) }
                        if truncated > 0 { totals.truncated[transport, default: 0] &+= truncated }
                        for outcome in QueryOutcome.allCases {
                            var sum: UInt64 = 0
                            // Wrapping: 64-bit counters summed over blocks.
                            for block in state.blocks { sum &+= relaxed_counter_load(block + base + outcome.rawValue) }
                            if sum > 0 {
                                totals.queries[QueryKey(transport: transport, zone: zone, type: type, outcome: outcome)] = sum
                            }
                        }
                    }
                }
            }
            for action in PolicyAction.allCases {
                var sum: UInt64 = 0
                for block in state.blocks { sum &+= relaxed_counter_load(block + Self.policyBase + action.rawValue) }
                if sum > 0 { totals.policy[action] = sum }
            }
            return totals
        }
    }

    @inline(__always)
    static func offset(transport: Int, zoneSlot: Int, type: QueryTypeBucket) -> Int {
        // < blockCount: transport < 2, zoneSlot < zoneSlotCount, type.rawValue < type count.
        transport &* transportStride &+ (zoneSlot &* QueryTypeBucket.allCases.count &+ type.rawValue) &* columnCount
    }

    /// Where each served zone's counters go, by its position in `ServedZones.zones`
    /// (positions past the end count as other zones).
    typealias ZoneSlots = InlineArray<16, UInt8>

    /// One session's counter block; returns it to the free list when the session ends.
    final class Recorder {
        private let owner: QueryStatistics
        private let index: Int
        private let block: UnsafeMutablePointer<UInt64>

        fileprivate init(owner: QueryStatistics, index: Int, block: UnsafeMutablePointer<UInt64>) {
            self.owner = owner
            self.index = index
            self.block = block
        }

        deinit {
            owner.release(index)
        }

        /// Counts one answered query. Only the session's own thread calls this.
        @inline(__always)
        func record(transport: Transport, zoneSlot: Int, type: QueryTypeBucket, outcome: QueryOutcome, truncated: Bool) {
            let base = QueryStatistics.offset(transport: transport == .udp ? 0 : 1, zoneSlot: zoneSlot, type: type)
            relaxed_counter_add(block + base + outcome.rawValue, 1)   // in bounds: see offset(…)
            if truncated { relaxed_counter_add(block + base + QueryStatistics.truncatedColumn, 1) }
        }

        /// Counts one act of rate limiting or client policy.
        @inline(__always)
        func record(_ action: PolicyAction) {
            relaxed_counter_add(block + QueryStatistics.policyBase + action.rawValue, 1)  // < blockCount
        }
    }
}

/// The query types counted apart; every other type is `.other`.
public enum QueryTypeBucket: Int, CaseIterable, Sendable {
    case a, txt, aaaa, any, soa, ns, other

    @inline(__always)
    init(_ type: RRType) {
        switch type {
        case .a: self = .a
        case .txt: self = .txt
        case .aaaa: self = .aaaa
        case .any: self = .any
        case .soa: self = .soa
        case .ns: self = .ns
        default: self = .other
        }
    }

    /// The type's mnemonic (RFC 1035 §3.2.2), `OTHER` for the rest.
    public var name: String {
        switch self {
        case .a: "A"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .any: "ANY"
        case .soa: "SOA"
        case .ns: "NS"
        case .other: "OTHER"
        }
    }
}

/// What a query was answered with: the RCODE, and for NOERROR whether a listing was given.
public enum QueryOutcome: Int, CaseIterable, Sendable {
    /// NOERROR with a listing's A or TXT record.
    case listed
    /// NOERROR without a listing: NODATA, apex SOA/NS, empty non-terminals.
    case noError
    case nxDomain
    case refused
    case formErr
    case notImp
    /// Any other RCODE (BADVERS).
    case other

    @inline(__always)
    init(_ rcode: RCode, listed: Bool) {
        switch rcode {
        case .noError: self = listed ? .listed : .noError
        case .nxDomain: self = .nxDomain
        case .refused: self = .refused
        case .formErr: self = .formErr
        case .notImp: self = .notImp
        default: self = .other
        }
    }

    /// The RCODE's mnemonic (RFC 1035 §4.1.1, RFC 6891 §9 for BADVERS as `OTHER`).
    public var rcodeName: String {
        switch self {
        case .listed, .noError: "NOERROR"
        case .nxDomain: "NXDOMAIN"
        case .refused: "REFUSED"
        case .formErr: "FORMERR"
        case .notImp: "NOTIMP"
        case .other: "OTHER"
        }
    }
}

/// What response rate limiting and the client policy did to a query.
public enum PolicyAction: Int, CaseIterable, Sendable {
    /// A UDP response over its network's rate, not sent.
    case rateLimitDropped
    /// A UDP response over its network's rate, sent truncated (TC=1) instead: the slip.
    case rateLimitSlipped
    /// A query from a refused network, answered REFUSED.
    case refused
    /// An address query from a fixed-code network, answered 127.255.255.254.
    case fixedCode
    /// An address query over its network's daily quota, answered 127.255.255.255.
    case overQuota

    /// The label value in metrics.
    public var label: String {
        switch self {
        case .rateLimitDropped: "dropped"
        case .rateLimitSlipped: "slipped"
        case .refused: "refused"
        case .fixedCode: "fixed-code"
        case .overQuota: "over-quota"
        }
    }
}

/// One series of ``QueryTotals``.
public struct QueryKey: Hashable, Sendable {
    /// The zone name standing for zones beyond ``QueryStatistics/maxNamedZones``.
    public static let otherZones = "(other)"

    public var transport: Transport
    /// The served zone the query fell in; nil outside every zone (REFUSED) or when the
    /// query could not be parsed that far (FORMERR, NOTIMP).
    public var zone: String?
    public var type: QueryTypeBucket
    public var outcome: QueryOutcome

    public init(transport: Transport, zone: String?, type: QueryTypeBucket, outcome: QueryOutcome) {
        (self.transport, self.zone, self.type, self.outcome) = (transport, zone, type, outcome)
    }
}

/// Summed query counters of every session of a ``QueryStatistics``.
public struct QueryTotals: Sendable {
    /// Answered queries per series; series never seen are absent.
    public var queries: [QueryKey: UInt64] = [:]
    /// Answers sent with TC=1 (RFC 2181 §9), per transport; also counted in `queries`.
    public var truncated: [Transport: UInt64] = [:]
    /// Acts of rate limiting and client policy; actions never taken are absent.
    public var policy: [PolicyAction: UInt64] = [:]
}
