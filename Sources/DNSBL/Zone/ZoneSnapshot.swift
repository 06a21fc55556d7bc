// ZoneSnapshot.swift -- the frozen, served state of one zone and of all zones.

/// Immutable served state of one zone, built off the serving threads and published whole.
public final class ZoneSnapshot: Sendable {
    let zone: EncodedZone
    public let table: PrefixTable
    public var config: ZoneConfig { zone.config }

    /// - Throws: `ZoneConfigError` when a name in `config` is not a valid domain name.
    public init(config: ZoneConfig, table: PrefixTable) throws(ZoneConfigError) {
        zone = try EncodedZone(config)
        self.table = table
    }
}

/// Every served zone, most specific (most labels) first, so the first suffix match wins.
public final class ServedZones: Sendable {
    public let zones: [ZoneSnapshot]

    public init(_ zones: [ZoneSnapshot]) {
        self.zones = zones.sorted { $0.zone.labelCount > $1.zone.labelCount }
    }

    /// The same zones with `snapshot` replacing the zone of the same name (or added).
    public func replacing(_ snapshot: ZoneSnapshot) -> ServedZones {
        ServedZones(zones.filter { $0.zone.wireName != snapshot.zone.wireName } + [snapshot])
    }

    public func zone(named name: String) -> ZoneSnapshot? {
        guard let wire = try? EncodedZone.encodeName(name).wire else { return nil }
        return zones.first { $0.zone.wireName == wire }
    }
}
