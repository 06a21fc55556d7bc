// Export.swift -- `rbld export --format rbldnsd|zone|csv|json [FILE|-]`.
import ArgumentParser
import Foundation
import Glibc
import DNSBL
import Ingest
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
            (docs/MIRRORS.md). \
            A FILE is written to FILE.tmp and renamed, so readers never see half a file.
            """)

    enum Family: String, ExpressibleByArgument, CaseIterable {
        case v4 = "4", v6 = "6", all
    }

    @OptionGroup var store: StoreOptions

    @Option(help: "rbldnsd, zone, csv or json.")
    var format: String

    @Option(help: "4, 6 or all (default: 4 for rbldnsd, all otherwise).")
    var family: Family?

    @Argument(help: "Output file; - for standard output.")
    var output = "-"

    func validate() throws {
        guard ListExporter.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(ListExporter.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        guard let format = ListExporter.Format(rawValue: self.format) else { throw Failure(.usage, "unknown --format \(self.format)") }
        let chosen = family ?? (format == .rbldnsd ? .v4 : .all)
        if format == .rbldnsd, chosen == .all { throw Failure(.usage, "rbldnsd data holds one family: --family 4 or --family 6") }
        if format == .zone, chosen != .all { throw Failure(.usage, "a zone file holds both families: leave out --family") }
        let progress = Progress("export")
        defer { progress.finish() }
        progress.phase("reading \(store.db)")
        let db = try store.openStore(readOnly: true)
        let zone = try store.zoneName(in: db)
        let now = unixNow()
        if format == .zone {
            let snapshot: ZoneSnapshot
            do {
                snapshot = try Publication.snapshot(of: zone, in: db, logger: Logger(label: "rbld.export"))
            } catch {
                throw Failure(.dataError, "\(store.db): \(error)")
            }
            progress.phase("writing")
            var sink = try FileSink(path: output)
            let serial = snapshot.config.soa.serial
            let names = snapshot.writeMasterFile(now: UInt32(clamping: now), comment: "rbld export of \(zone), serial \(serial)",
                                                 to: &sink)
            try sink.close()
            progress.finish()
            if output != "-" { printError("rbld: wrote \(names) names of \(zone) (serial \(serial)) to \(output)") }
            return
        }
        let snapshot = try storeCall { () throws(StoreError) in try db.activeSnapshot(zone: zone, now: now) }
        progress.phase("writing \(snapshot.listings.count) entries")
        let exporter = ListExporter(settings: snapshot.settings, serial: snapshot.serial, now: now)
        let familyFilter: IPPrefix.Family? = chosen == .v4 ? .v4 : chosen == .v6 ? .v6 : nil

        var sink = try FileSink(path: output)
        let written = exporter.write(snapshot.listings, format: format, family: familyFilter, to: &sink)
        try sink.close()
        progress.finish()
        let skipped = snapshot.listings.count - snapshot.listings.filter { familyFilter == nil || $0.prefix.family == familyFilter }.count
        if output != "-" {
            printError("rbld: wrote \(written) \(format == .zone ? "owner names" : "entries") of \(zone) (serial \(snapshot.serial)) to \(output)"
                       + (skipped > 0 ? "; \(skipped) entries of the other family not written" : ""))
        } else if skipped > 0, format == .rbldnsd {
            printError("rbld: note: \(skipped) entries of the other family not written (use --family)")
        }
    }
}

/// A buffered text sink on a file (written atomically via FILE.tmp + rename) or stdout.
struct FileSink: TextOutputStream {
    private let path: String
    private let temporary: String?
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var failed: Int32 = 0

    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 1
            temporary = nil
        } else {
            let temporary = path + ".tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure(.cantCreate, "\(temporary): \(String(cString: strerror(errno)))") }
            self.temporary = temporary
        }
        buffer.reserveCapacity(1 << 20)
    }

    mutating func write(_ string: String) {
        buffer.append(contentsOf: string.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    private mutating func flush() {
        var offset = 0
        while offset < buffer.count, failed == 0 {
            let count = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                failed = errno
            } else {
                offset += count
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        flush()
        if let temporary {
            if failed == 0, fsync(fd) != 0 { failed = errno }
            Glibc.close(fd)
            if failed != 0 {
                unlink(temporary)
                throw Failure(.ioError, "\(path): \(String(cString: strerror(failed)))")
            }
            guard rename(temporary, path) == 0 else { throw Failure(.ioError, "\(path): \(String(cString: strerror(errno)))") }
        } else if failed != 0 {
            throw Failure(.ioError, "standard output: \(String(cString: strerror(failed)))")
        }
    }
}
