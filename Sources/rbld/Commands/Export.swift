// Export.swift -- `rbld export --format rbldnsd|zone|csv|json [FILE|-]`.
import ArgumentParser
import DNSBL
import Logging
import Publication
import Store

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the zone's served listings as rbldnsd data, a DNS master file, CSV or JSON.",
        discussion: """
            rbldnsd: ip4set/ip6trie data with $SOA, $NS and the default answer; one family \
            per file (--family 4, the default for this format, or 6). zone: an RFC 1035 master \
            file for BIND/NSD/Knot holding exactly the records a zone transfer sends: networks \
            as wildcards, exclusions carved out, the RFC 5782 test points; both families \
            (docs/MIRRORS.md). Both are written from the snapshot a server would serve, as \
            `rbld run` keeps its configured exports: current. \
            A FILE is written to FILE.tmp and renamed, so readers never see half a file.
            """)

    enum Family: String, ExpressibleByArgument, CaseIterable {
        case v4 = "4", v6 = "6", all
    }

    @OptionGroup var store: StoreOptions

    @Option(help: "zone, rbldnsd, csv or json.")
    var format: String

    @Option(help: "4, 6 or all (default: 4 for rbldnsd, all otherwise).")
    var family: Family?

    @Argument(help: "Output file; - for standard output.")
    var output = "-"

    /// Every format, mirrors' (from the served snapshot) and lists' (from the store).
    static let formats = ExportFormat.allCases.map(\.rawValue) + ListExporter.Format.allCases.map(\.rawValue)
        .filter { ExportFormat(rawValue: $0) == nil }

    func validate() throws {
        guard Self.formats.contains(format) else {
            throw ValidationError("--format must be one of \(Self.formats.joined(separator: ", "))")
        }
    }

    func run() throws {
        let mirror = ExportFormat(rawValue: format)
        let chosen = family ?? (mirror == .rbldnsd ? .v4 : .all)
        if mirror == .rbldnsd, chosen == .all { throw Failure(.usage, "rbldnsd data holds one family: --family 4 or --family 6") }
        if mirror == .zone, chosen != .all { throw Failure(.usage, "a zone file holds both families: leave out --family") }
        let familyFilter: IPPrefix.Family? = chosen == .v4 ? .v4 : chosen == .v6 ? .v6 : nil
        let progress = Progress("export")
        defer { progress.finish() }
        progress.phase("reading \(store.db)")
        let db = try store.openStore(readOnly: true)
        let zone = try store.zoneName(in: db)
        let now = unixNow()
        var sink: ExportFile
        do { sink = try ExportFile(path: output) } catch { throw Failure(error) }
        if let mirror {
            // The snapshot a server would serve, written as `rbld run` writes its exports.
            let snapshot: ZoneSnapshot
            do {
                snapshot = try Publication.snapshot(of: zone, in: db, logger: Logger(label: "rbld.export"))
            } catch {
                sink.discard()
                throw Failure(.dataError, "\(store.db): \(error)")
            }
            progress.phase("writing")
            let written = ZoneExport.write(snapshot, format: mirror, family: familyFilter, now: now, to: &sink)
            do { try sink.commit() } catch { throw Failure(error) }
            progress.finish()
            let serial = snapshot.config.soa.serial
            let what = mirror == .zone ? "names" : "entries"
            if output != ExportFile.standardOutput { printError("rbld: wrote \(written) \(what) of \(zone) (serial \(serial)) to \(output)") }
            return
        }
        guard let format = ListExporter.Format(rawValue: self.format) else { throw Failure(.usage, "unknown --format \(self.format)") }
        let snapshot = try storeCall { () throws(StoreError) in try db.activeSnapshot(zone: zone, now: now) }
        progress.phase("writing \(snapshot.listings.count) entries")
        let exporter = ListExporter(settings: snapshot.settings, serial: snapshot.serial, now: now)
        let written = exporter.write(snapshot.listings, format: format, family: familyFilter, to: &sink)
        do { try sink.commit() } catch { throw Failure(error) }
        progress.finish()
        let skipped = snapshot.listings.count - written
        if output != ExportFile.standardOutput {
            printError("rbld: wrote \(written) entries of \(zone) (serial \(snapshot.serial)) to \(output)"
                       + (skipped > 0 ? "; \(skipped) entries of the other family not written" : ""))
        }
    }
}
