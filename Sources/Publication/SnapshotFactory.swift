// SnapshotFactory.swift -- maps the store's listings (Store) into served snapshots (DNSBL).

import DNSBL
import Store

/// The glue between the two libraries: the store decides what is listed, DNSBL serves it.
///
/// Listing classes (return code + TXT template) are interned in first-seen order after the
/// zone's default class, so table values stay small (`UInt16`).
struct SnapshotFactory {
    let settings: ZoneSettings
    private(set) var classes: [ListingClass]
    private var classIndex: [ListingClass: UInt16]

    init(settings: ZoneSettings) {
        self.settings = settings
        let defaultClass = ListingClass(code: settings.defaultCode, text: settings.txtTemplate)
        classes = [defaultClass]
        classIndex = [defaultClass: 1]
    }

    /// Restores interned classes (from a snapshot cache); nil unless the first one is still
    /// the zone's default class.
    init?(settings: ZoneSettings, classes: [ListingClass]) {
        guard classes.first == ListingClass(code: settings.defaultCode, text: settings.txtTemplate) else { return nil }
        self.settings = settings
        self.classes = classes
        classIndex = [:]
        for (index, listingClass) in classes.enumerated() where classIndex[listingClass] == nil {
            classIndex[listingClass] = UInt16(index + 1)
        }
    }

    /// The table value for a listing; nil when there are too many distinct classes.
    mutating func value(for listing: Listing) -> TableValue? {
        if listing.excluded { return .excluded }
        let listingClass = ListingClass(code: listing.code, text: listing.text ?? settings.txtTemplate)
        let index: UInt16
        if let known = classIndex[listingClass] {
            index = known
        } else {
            guard classes.count < Int(UInt16.max) else { return nil }
            classes.append(listingClass)
            index = UInt16(classes.count)
            classIndex[listingClass] = index
        }
        // Expiry in unix seconds fits UInt32 until 2106; later dates are "never" for now.
        let expires = listing.expires.map { UInt32(clamping: max(1, $0)) } ?? 0
        return TableValue(listing: index, expires: expires)
    }

    /// Adds (or replaces) a listing's prefix in `builder` (a builder, or a delta).
    mutating func insert(_ listing: Listing, into builder: inout some PrefixTableEditor) throws(PublicationError) {
        guard let value = value(for: listing) else {
            throw PublicationError(.badData, "zone \(settings.name): more than 65,535 distinct return code/TXT combinations")
        }
        switch listing.prefix.family {
        case .v4:
            builder.insert(v4: UInt32(truncatingIfNeeded: listing.prefix.address),
                           prefixLength: listing.prefix.length, value: value)
        case .v6:
            builder.insert(v6: listing.prefix.address, prefixLength: listing.prefix.length, value: value)
        }
    }

    static func remove(_ prefix: IPPrefix, from builder: inout some PrefixTableEditor) {
        switch prefix.family {
        case .v4: builder.remove(v4: UInt32(truncatingIfNeeded: prefix.address), prefixLength: prefix.length)
        case .v6: builder.remove(v6: prefix.address, prefixLength: prefix.length)
        }
    }

    /// The zone's apex records and listing classes, with the SOA serial taken from the store
    /// unless the settings pin one.
    func zoneConfig(serial: Int64) -> ZoneConfig {
        ZoneConfig(
            name: settings.name,
            soa: SOAFields(
                mname: settings.mname, rname: settings.rname,
                serial: settings.serial.flatMap { $0 == 0 ? nil : $0 } ?? UInt32(truncatingIfNeeded: serial),
                refresh: settings.refresh, retry: settings.retry, expire: settings.expire,
                minimum: settings.minimum, ttl: settings.soaTTL),
            nameservers: settings.servedNameservers, nsTTL: settings.nsTTL, ttl: settings.ttl,
            listings: classes)
    }

    func snapshot(table: PrefixTable, serial: Int64) throws(PublicationError) -> ZoneSnapshot {
        do {
            return try ZoneSnapshot(config: zoneConfig(serial: serial), table: table)
        } catch {
            throw PublicationError(.badData, "zone \(settings.name): \(error)")
        }
    }
}
