// ZoneConfigurator.swift -- writes configured zone settings and policies to the store.

public import Logging
public import Store

/// One configured zone: how it is served and how its sources are listed.
public struct ZoneDefinition: Hashable, Sendable {
    public var settings: ZoneSettings
    public var policy: ListingPolicy

    public init(settings: ZoneSettings, policy: ListingPolicy) {
        self.settings = settings
        self.policy = policy
    }
}

/// Writes zone settings and listing policies to the store, where the DNS side and ingest
/// read them. Unchanged values write nothing; changes are audited with the actor `config`.
public enum ZoneConfigurator {
    /// - Parameter source: what the definitions came from (a file), for the audit trail.
    public static func apply(_ zones: [ZoneDefinition], source: String, to store: Store, logger: Logger) throws(StoreError) {
        let reason = "configuration \(source)"
        for zone in zones {
            let name = zone.settings.name
            let before = (settings: try store.zoneSettings(name), policy: try store.listingPolicy(zone: name))
            try store.saveZoneSettings(zone.settings, actor: "config", reason: reason)
            try store.saveListingPolicy(zone.policy, zone: name, actor: "config", reason: reason)
            if before.settings != zone.settings || before.policy != zone.policy {
                logger.info("zone configured", metadata: ["zone": "\(name)", "from": "\(reason)"])
            }
        }
    }
}
