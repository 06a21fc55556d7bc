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
/// IXFR, RFC 1995 §5). Both snapshots' names are walked in order side by side; only the
/// changed names are kept, so building it costs a walk of both tables and memory for the
/// changes, never for the zone.
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
        var deleted: [AnyZoneNode] = []
        var added: [AnyZoneNode] = []
        var (old4, old6) = ZoneRecordStream.walkers(oldSnapshot.table, now: now)
        var (new4, new6) = ZoneRecordStream.walkers(newSnapshot.table, now: now)
        let complete = Self.compare(next: { old4.next().map(AnyZoneNode.v4) ?? old6.next().map(AnyZoneNode.v6) },
                                    { new4.next().map(AnyZoneNode.v4) ?? new6.next().map(AnyZoneNode.v6) },
                                    old: old, new: new, deleted: &deleted, added: &added, limit: limit)
        guard complete else { return nil }
        self.deleted = deleted
        self.added = added
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
