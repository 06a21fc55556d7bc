// Import.swift -- `rbld import`: load a list file into the store.
import ArgumentParser
import DNSBL
import Glibc
import Ingest
import Logging
import Publication
import Store

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a list (plain or rbldnsd ip4set/ip6trie) into the store as manual entries.",
        discussion: """
            plain: one IP or CIDR a line, "!" in front for an exclusion, "#" or ";" comments. \
            rbldnsd: the ip4set/ip6trie format ($SOA, $NS, $TTL, a ":A:TXT" default line, \
            per-entry ":A:TXT" values, "!" exclusions, ranges a.b.c.d-e.f.g.h); $SOA, $NS \
            and the default value become the zone's settings. \
            The files of one command replace the entries of the previous import of the zone \
            (--merge keeps them). Bad lines are reported as FILE:LINE and counted; an import \
            with bad lines changes nothing unless --skip-bad is given. \
            A running `rbld serve` picks the change up within a second.
            """)

    @Option(help: "plain or rbldnsd.")
    var format = "plain"

    @OptionGroup var store: StoreOptions

    @Flag(help: "Import the good lines even when some are bad.")
    var skipBad = false

    @Flag(help: "Add to the zone's earlier imported entries instead of replacing them.")
    var merge = false

    @Option(help: "Why (written to the audit trail).")
    var reason = "import"

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Argument(help: "List files; - for standard input.")
    var files: [String] = ["-"]

    func validate() throws {
        guard ListFileParser.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be plain or rbldnsd, not '\(format)'")
        }
    }

    func run() throws {
        let format = ListFileParser.Format(rawValue: format) ?? .plain
        let progress = Progress("import")
        defer { progress.finish() }
        var entries: [ImportEntry] = []
        var partials: [PartialZoneSettings] = []
        var badLines = 0
        for file in files {
            progress.phase("reading \(file == "-" ? "standard input" : file)")
            let bytes = try Self.read(file)
            progress.phase("parsing \(file == "-" ? "standard input" : file) (\(bytes.count) bytes)")
            let result = ListFileParser.parse(bytes, format: format, fileName: file == "-" ? "<stdin>" : file)
            for warning in result.warnings { progress.interrupt { printError("rbld: warning: \(warning)") } }
            for error in result.errors { progress.interrupt { printError("rbld: \(error)") } }
            badLines += result.errors.count
            entries += result.entries
            partials.append(result.settings)
        }
        if badLines > 0 && !skipBad {
            throw Failure(.dataError, "\(badLines) bad line(s); nothing imported (use --skip-bad to import the rest)")
        }

        let db = try store.openStore(readOnly: false)
        let zoneName = try store.zoneName(in: db)
        let summary: ImportSummary
        let served: (v4: Int, v6: Int)
        do {
            let base = try db.zoneSettings(zoneName) ?? ZoneSettings.defaults(zone: zoneName)
            let settings = partials.reduce(base) { $1.applied(to: $0) }
            let stored = try db.zoneSettings(zoneName)
            if stored != settings { try db.saveZoneSettings(settings) }
            progress.phase("importing \(entries.count) entries into \(zoneName)")
            summary = try db.importEntries(entries, zone: zoneName, replace: !merge, actor: auditActor, reason: reason)

            // Freeze the table now so that `rbld serve` starts from the cache in milliseconds.
            progress.phase("freezing the table of \(zoneName)")
            var logger = Logger(label: "rbld.import")
            logger.logLevel = .warning
            served = try Publication.cacheSnapshot(of: zoneName, in: db, logger: logger)
        } catch let failure as Failure {
            throw failure
        } catch let error as StoreError {
            throw Failure(error)  // its reason names the store; busy is 75, so a script retries
        } catch {
            throw Failure(.ioError, "\(store.db): \(error)")
        }
        progress.finish()
        if json {
            try printJSON(ImportReport(summary: summary, files: files.count, badLinesSkipped: badLines,
                                       servedV4: served.v4, servedV6: served.v6))
            return
        }
        print("rbld: \(zoneName): \(summary.added) added, \(summary.updated) updated, \(summary.removed) removed, "
              + "\(summary.unchanged) unchanged from \(files.count) file(s)"
              + (badLines > 0 ? ", \(badLines) bad line(s) skipped" : "")
              + (summary.duplicates > 0 ? ", \(summary.duplicates) duplicate(s)" : "")
              + "; serial \(summary.serial); serving \(served.v4) IPv4 + \(served.v6) IPv6 entries")
    }

    /// `--json`: the store's summary with what the command adds to it, in one object (keys
    /// as the other admin commands' JSON writes them).
    struct ImportReport: Encodable {
        var summary: ImportSummary
        var files: Int
        var badLinesSkipped: Int
        var servedV4: Int
        var servedV6: Int

        enum CodingKeys: String, CodingKey {
            case files, badLinesSkipped, servedV4, servedV6
        }

        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(files, forKey: .files)
            try container.encode(badLinesSkipped, forKey: .badLinesSkipped)
            try container.encode(servedV4, forKey: .servedV4)
            try container.encode(servedV6, forKey: .servedV6)
        }
    }

    /// Bytes of a file, or of standard input for "-".
    static func read(_ path: String) throws -> [UInt8] {
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(.noInput, "\(path): \(String(cString: strerror(errno)))") }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(.ioError, "\(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }
}

