// IncrementalRecordStream.swift -- the difference between two snapshots of a zone, as IXFR records.

/// What changed between an older snapshot of a zone and the current one, as the records
/// of an incremental transfer (RFC 1995 §4):
///
/// ```
/// SOA (new serial)
///   SOA (old serial)   records deleted ...
///   SOA (new serial)   records added ...
/// SOA (new serial)
/// ```
///
/// One difference sequence, however many publications lie between the two (a condensed
/// IXFR, RFC 1995 §5). The two tables' entries are compared first (arrays side by side, no
/// rendering), which names the networks where something changed; only there are both
/// snapshots' names walked in order side by side, and only the changed names kept. So a
/// hit in a zone of millions costs one pass over its arrays and a walk of one network,
/// and memory for the changes, never for the zone.
public struct IncrementalRecordStream {
    private enum Phase {
        case newSOA, oldSOA, deletions(Int), middleSOA, additions(Int), closingSOA, done
    }

    private let old: ZoneRecordRenderer
    private let new: ZoneRecordRenderer
    private let deleted: [AnyZoneNode]
    private let added: [AnyZoneNode]
    private var phase = Phase.newSOA
    private var pair = RecordPair()
    public private(set) var recordCount = 0
    /// Names deleted and added (each is an A and a TXT record).
    public var changedNames: Int { deleted.count + added.count }

    /// - Returns: nil when the apex NS records differ, or more than `limit` names changed
    ///   (a full transfer is then the smaller answer).
    public init?(from oldSnapshot: ZoneSnapshot, to newSnapshot: ZoneSnapshot, now: UInt32, limit: Int) {
        old = ZoneRecordRenderer(zone: oldSnapshot.zone, now: now)
        new = ZoneRecordRenderer(zone: newSnapshot.zone, now: now)
        guard old.zone.nsRData == new.zone.nsRData, old.zone.config.nsTTL == new.zone.config.nsTTL else { return nil }
        let networks4 = oldSnapshot.table.v4.changedNetworks(comparedWith: newSnapshot.table.v4,
                                                             labelBits: ZoneNodeWalker<UInt32>.labelBits)
        let networks6 = oldSnapshot.table.v6.changedNetworks(comparedWith: newSnapshot.table.v6,
                                                             labelBits: ZoneNodeWalker<UInt128>.labelBits)
        guard let (deleted, added) = Self.difference(from: oldSnapshot.table, old, to: newSnapshot.table, new, now: now,
                                                     networks4: networks4, networks6: networks6, limit: limit)
        else { return nil }
        self.deleted = deleted
        self.added = added
    }

    /// The names deleted and added inside `networks4` and `networks6` (sorted, disjoint,
    /// label-aligned), in walking order; nil when more than `limit` differ. Given the
    /// whole families (/0) it is the difference of the whole zone, which is what the
    /// changed networks must always reproduce.
    static func difference(from oldTable: PrefixTable, _ old: ZoneRecordRenderer, to newTable: PrefixTable,
                           _ new: ZoneRecordRenderer, now: UInt32,
                           networks4: [TablePrefix<UInt32>], networks6: [TablePrefix<UInt128>],
                           limit: Int) -> (deleted: [AnyZoneNode], added: [AnyZoneNode])? {
        func names(_ table: PrefixTable) -> () -> AnyZoneNode? {
            var remaining4 = networks4[...], remaining6 = networks6[...]
            var walker4: ZoneNodeWalker<UInt32>?
            var walker6: ZoneNodeWalker<UInt128>?
            return {
                while true {
                    if let node = walker4?.next() { return .v4(node) }
                    if let network = remaining4.popFirst() {
                        walker4 = ZoneRecordStream.walker4(table, now: now, root: network)
                        continue
                    }
                    if let node = walker6?.next() { return .v6(node) }
                    guard let network = remaining6.popFirst() else { return nil }
                    walker6 = ZoneRecordStream.walker6(table, now: now, root: network)
                }
            }
        }
        var deleted: [AnyZoneNode] = []
        var added: [AnyZoneNode] = []
        guard compare(next: names(oldTable), names(newTable), old: old, new: new, deleted: &deleted, added: &added,
                      limit: limit)
        else { return nil }
        return (deleted, added)
    }

    /// Merges two name sequences in walking order; false when more than `limit` differ.
    private static func compare(next nextOld: () -> AnyZoneNode?, _ nextNew: () -> AnyZoneNode?,
                                old: ZoneRecordRenderer, new: ZoneRecordRenderer,
                                deleted: inout [AnyZoneNode], added: inout [AnyZoneNode], limit: Int) -> Bool {
        var a = nextOld()
        var b = nextNew()
        while a != nil || b != nil {
            if let x = a, let y = b, x.order == y.order {
                let before = old.rendering(of: x), after = new.rendering(of: y)
                if before.code != after.code || before.text != after.text || before.ttl != after.ttl {
                    deleted.append(x)
                    added.append(y)
                }
                a = nextOld()
                b = nextNew()
            } else if let x = a, b == nil || x.order < b!.order {
                deleted.append(x)
                a = nextOld()
            } else if let y = b {
                added.append(y)
                b = nextNew()
            }
            if deleted.count + added.count > limit { return false }
        }
        return true
    }

    public mutating func writeNext(into writer: inout ResponseWriter, apexPointer: UInt16) -> ZoneRecordStream.Step {
        let start = writer.offset
        let step = write(into: &writer, apexPointer: apexPointer)
        if step == .full { writer.rewind(to: start) }
        if step == .written { recordCount &+= 1 }
        return step
    }

    private mutating func write(into writer: inout ResponseWriter, apexPointer: UInt16) -> ZoneRecordStream.Step {
        while true {
            switch phase {
            case .newSOA, .middleSOA, .closingSOA:
                guard new.writeSOA(into: &writer, apexPointer: apexPointer) else { return .full }
                switch phase {
                case .newSOA: phase = .oldSOA
                case .middleSOA: phase = .additions(0)
                default: phase = .done
                }
                return .written
            case .oldSOA:
                guard old.writeSOA(into: &writer, apexPointer: apexPointer) else { return .full }
                phase = .deletions(0)
                return .written
            case .deletions(let index):
                if let step = pair.continueWriting(old, into: &writer, apexPointer: apexPointer) { return step }
                guard index < deleted.count else { phase = .middleSOA; continue }
                pair.start(deleted[index])
                phase = .deletions(index + 1)
            case .additions(let index):
                if let step = pair.continueWriting(new, into: &writer, apexPointer: apexPointer) { return step }
                guard index < added.count else { phase = .closingSOA; continue }
                pair.start(added[index])
                phase = .additions(index + 1)
            case .done:
                return .finished
            }
        }
    }
}
