// SnapshotListings.swift -- the web side's view of the served snapshots (DNSBL) as store values.

import DNSBL
import Store
import Synchronization
import Web

/// Answers the web side's lookups from the snapshots the DNS server answers from.
///
/// Like a UDP thread, it reads the snapshot store's generation (an atomic load) per lookup
/// and takes the store's lock only when a new generation was published; between those, the
/// web side's lookups share only this object's own lock.
final class SnapshotListings: ServedListings {
    private let snapshots: SnapshotStore
    private let current: Mutex<(generation: UInt64, zones: ServedZones)>

    init(snapshots: SnapshotStore) {
        self.snapshots = snapshots
        current = Mutex((snapshots.generation, snapshots.load()))
    }

    private func zones() -> ServedZones {
        let generation = snapshots.generation
        if let zones = current.withLock({ $0.generation == generation ? $0.zones : nil }) { return zones }
        let zones = snapshots.load()
        current.withLock { $0 = (generation, zones) }
        return zones
    }

    func match(_ address: IPPrefix, zone: String) -> ServedMatch? {
        guard let snapshot = zones().zones.first(where: { $0.config.name == zone }) else { return nil }
        let found = switch address.family {
        case .v4: snapshot.table.match(v4: UInt32(truncatingIfNeeded: address.address))
        case .v6: snapshot.table.match(v6: address.address)
        }
        switch found {
        case nil: return ServedMatch.none
        case .excluded: return .excluded
        case .host(let value), .network(let value):
            let classes = snapshot.config.listings
            guard value.listing >= 1, Int(value.listing) <= classes.count else { return nil }
            let listing = classes[Int(value.listing) - 1]
            let own = if case .host = found { true } else { false }
            return .listed(code: listing.code, text: listing.text, expires: value.expires == 0 ? nil : Int64(value.expires), ownEntry: own)
        }
    }
}
