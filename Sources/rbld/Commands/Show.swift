// Show.swift -- `rbld show IP`: status, answer, score, kinds, evidence and audit trail of an address.
import ArgumentParser
import Ingest
import Store

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show why an address is (not) listed: status, answer, score, evidence, audit trail.",
        discussion: """
            The status is LISTED, EXCLUDED, DELISTED, HELD-BACK (weak evidence that is not \
            corroborated yet: what it lacks is shown, and `rbld confirm` or `rbld reject` \
            decide), SPECIAL-PURPOSE or NOT-LISTED. Each hit shows its evidence strength \
            (strong: the message's structure; weak: its wording alone), and the zone's policy \
            (threshold, weights, corroboration) is shown beside the score.
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "IP address.")
    var address: String

    @Option(help: "How many of the latest hits to show.")
    var hits = 5

    @Option(help: "How many audit rows to show.")
    var audit = 20

    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let target = try parsePrefixArgument(address)
        guard target.isHost else { throw Failure(.usage, "show takes one address, not the network \(target)") }
        let db = try store.openStore(readOnly: true)
        let zone = try store.zoneName(in: db)
        let report = try storeCall { () throws(StoreError) in
            try db.report(for: target, zone: zone, now: unixNow(), hitLimit: hits, auditLimit: audit)
        }
        if json { try printJSON(report); return }
        Show.printHuman(report)
    }

    static func time(_ value: Int64?) -> String { value.map(Store.formatTime) ?? "-" }

    /// The policy that scored the address, on one line.
    static func policyLine(_ p: SourceReport.Policy) -> String {
        let weights = HitKind.allCases.map { "\($0.rawValue) \(p.weights[$0.rawValue] ?? 1)" }.joined(separator: ", ")
        return "threshold \(p.threshold), half-life \(durationText(p.halfLife)), expiry \(durationText(p.expiry)); weights \(weights); "
            + "weak hits weigh ×\(p.weakWeight) and count once \(p.corroborationWeakHits) from \(p.corroborationTraps) traps "
            + "fall within \(durationText(p.corroborationWindow)), or with a strong hit"
    }

    static func printHuman(_ r: SourceReport) {
        var headline = "\(r.address) in \(r.zone): \(r.status.rawValue.uppercased())"
        if let code = r.code {
            headline += " 127.0.0.\(code)"
            if !r.kinds.isEmpty { headline += " (\(r.kinds.map(\.rawValue).joined(separator: ", ")))" }
        }
        print(headline)
        var fields: [(String, String)] = []
        if let source = r.source { fields.append(("source", "\(source): scored together with the other addresses of \(source)")) }
        if let matched = r.matchedPrefix { fields.append(("matched", matched)) }
        if let text = r.text { fields.append(("txt", text)) }
        if r.status == .listed { fields.append(("expires", r.expires.map(Store.formatTime) ?? "never")) }
        if let score = r.score {
            fields.append(("score", "\((score * 1000).rounded() / 1000) now (threshold \(r.threshold))"))
            fields.append(("policy", policyLine(r.policy)))
            fields.append(("hits", "\(r.hitCount)"))
            fields.append(("first seen", time(r.firstSeen)))
            fields.append(("last seen", time(r.lastSeen)))
            fields.append(("kinds seen", r.allKinds.map(\.rawValue).joined(separator: ", ")))
            if let since = r.listedSince { fields.append(("score listing", "\(time(since)) .. \(time(r.scoreListingEnds))")) }
        } else {
            fields.append(("hits", "none"))
        }
        if let c = r.corroboration {
            let window = durationText(r.policy.corroborationWindow)
            var line = "\(c.weakHits) weak hit\(c.weakHits == 1 ? "" : "s") in all; in the last \(window): "
                + "\(c.recentWeakHits) weak from \(c.recentTraps) trap\(c.recentTraps == 1 ? "" : "s"), \(c.recentStrongHits) strong"
            if let confirmed = c.confirmed { line += "; confirmed \(time(confirmed))" }
            if let rejected = c.rejected { line += "; weak evidence up to \(time(rejected)) rejected" }
            fields.append(("weak evidence", line))
            if let held = c.heldUntil, let hits = c.missingWeakHits, let traps = c.missingTraps {
                fields.append(("held back", "until \(time(held)) unless corroborated: needs \(hits) more weak hit\(hits == 1 ? "" : "s") "
                               + "from \(traps) more trap\(traps == 1 ? "" : "s") within \(window), or a strong hit "
                               + "(rbld confirm lists it, rbld reject drops the weak evidence)"))
            }
        }
        printFields(fields, indent: "  ")
        func entries(_ title: String, _ list: [SourceReport.Entry]) {
            guard !list.isEmpty else { return }
            print("\n\(title):")
            printTable(header: ["PREFIX", "ORIGIN", "CODE", "CREATED", "EXPIRES", "BY", "REASON"], rows: list.map { entry in
                [entry.prefix, entry.origin ?? "-", entry.code.map { "127.0.0.\($0)" } ?? "-", time(entry.created),
                 time(entry.expires), entry.actor ?? "-", entry.reason ?? "-"]
            }, indent: "  ")
        }
        entries("manual listings", r.manual)
        entries("exclusions", r.exclusions)
        entries("delistings", r.delistings)
        if !r.lastHits.isEmpty {
            print("\nlast hits:")
            if r.source != nil {
                printTable(header: ["TIME", "KIND", "EVIDENCE", "FROM", "TRAP", "REPORTER", "DIGEST"], rows: r.lastHits.map { hit in
                    [time(hit.time), hit.kind, hit.strength, hit.client ?? "-", hit.trap, hit.reporter ?? "-", String(hit.digest.prefix(16))]
                }, indent: "  ")
            } else {
                printTable(header: ["TIME", "KIND", "EVIDENCE", "TRAP", "REPORTER", "DIGEST"], rows: r.lastHits.map { hit in
                    [time(hit.time), hit.kind, hit.strength, hit.trap, hit.reporter ?? "-", String(hit.digest.prefix(16))]
                }, indent: "  ")
            }
            if let excerpt = r.lastHits.first?.excerpt, !excerpt.isEmpty {
                print("\n  last evidence:")
                for line in excerpt.split(separator: "\n", omittingEmptySubsequences: false).prefix(20) { print("    \(line)") }
            }
        }
        if !r.audit.isEmpty {
            print("\naudit:")
            printTable(header: ["TIME", "BY", "ACTION", "PREFIX", "REASON"], rows: r.audit.map { record in
                [time(record.time), record.actor, record.action, record.prefix ?? "-", record.reason]
            }, indent: "  ")
        }
    }
}
