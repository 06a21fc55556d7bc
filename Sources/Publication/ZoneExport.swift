// ZoneExport.swift -- a served snapshot as a file that other name servers load.

public import DNSBL
public import Store

/// The formats a served zone is exported in for mirrors (docs/MIRRORS.md).
public enum ExportFormat: String, Sendable, CaseIterable, Equatable {
    /// An RFC 1035 master file for BIND, NSD or Knot: the records a zone transfer sends.
    case zone
    /// rbldnsd's ip4set or ip6trie data, one address family per file.
    case rbldnsd
}

/// Writes a served snapshot for mirrors: what `rbld export --format zone|rbldnsd` and the
/// exports of `rbld run` write.
///
/// Both come from the snapshot the server answers from, so a mirror answers as rbld did at
/// that moment, and both are in a fixed order (address order), so an unchanged zone gives
/// the same bytes and rsync sends little.
public enum ZoneExport {
    /// Writes `snapshot` in `format`.
    ///
    /// - Parameters:
    ///   - family: the family of an rbldnsd file (`.v4` when nil); a master file holds both.
    ///   - now: Unix seconds: expired listings are left out (master file) or written as the
    ///     holes they are in rbld's answers (rbldnsd), and expiring ones get the time they
    ///     have left as TTL (master file).
    /// - Returns: the number of names (master file) or entries (rbldnsd) written.
    @discardableResult
    public static func write(_ snapshot: ZoneSnapshot, format: ExportFormat, family: IPPrefix.Family?, now: Int64,
                             to output: inout some TextOutputStream) -> Int {
        let config = snapshot.config
        switch format {
        case .zone:
            return snapshot.writeMasterFile(now: UInt32(clamping: now),
                                            comment: "rbld export of \(config.name), serial \(config.soa.serial)", to: &output)
        case .rbldnsd:
            let exporter = ListExporter(settings: settings(of: config), serial: Int64(config.soa.serial), now: now)
            return exporter.write(listings(of: snapshot, now: now), format: .rbldnsd, family: family ?? .v4, to: &output)
        }
    }

    /// The snapshot's entries as listings. An entry whose time has run out answers nothing
    /// in rbld (a hole, as an exclusion is) until the publisher re-resolves it, so it is an
    /// exclusion here.
    static func listings(of snapshot: ZoneSnapshot, now: Int64) -> [Listing] {
        let classes = snapshot.config.listings
        var listings: [Listing] = []
        listings.reserveCapacity(snapshot.table.v4Count + snapshot.table.v6Count)
        snapshot.table.forEachEntry { entry in
            guard let prefix = IPPrefix(entry) else { return }
            let value = entry.value
            let index = Int(value.listing) - 1
            guard index >= 0, index < classes.count, value.expires == 0 || now < Int64(value.expires) else {
                listings.append(Listing(prefix: prefix, excluded: true, code: 0, text: nil))
                return
            }
            listings.append(Listing(prefix: prefix, excluded: false, code: classes[index].code, text: classes[index].text,
                                    expires: value.expires == 0 ? nil : Int64(value.expires)))
        }
        return listings
    }

    /// The zone settings a snapshot was made with, as far as an export shows them: the
    /// first listing class is the zone's default answer (``SnapshotFactory``), and the
    /// serial is the one served.
    static func settings(of config: ZoneConfig) -> ZoneSettings {
        let soa = config.soa
        let defaultClass = config.listings.first ?? ListingClass(code: 2, text: "")
        return ZoneSettings(name: config.name, soaTTL: soa.ttl, mname: soa.mname, rname: soa.rname, serial: soa.serial,
                            refresh: soa.refresh, retry: soa.retry, expire: soa.expire, minimum: soa.minimum,
                            nsTTL: config.nsTTL, nameservers: config.nameservers, ttl: config.ttl,
                            txtTemplate: defaultClass.text, defaultCode: defaultClass.code)
    }
}

extension IPPrefix {
    /// The prefix of a table entry; nil only for a length the family cannot have.
    init?(_ entry: TableEntry) {
        switch entry.address {
        case .v4(let address): self.init(family: .v4, address: UInt128(address), length: entry.prefixLength)
        case .v6(let address): self.init(family: .v6, address: address, length: entry.prefixLength)
        }
    }
}
