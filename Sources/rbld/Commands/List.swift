// List.swift -- `rbld list IP|CIDR`: list an address or network manually.
import ArgumentParser
import Ingest
import Store

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List an address or network manually (served whatever its score).",
        discussion: """
            The answer is 127.0.0.X with X = 2 + 32 (manual) + the bits of --kind \
            (autoreply 4, challenge 8, virus 16), or --code. A manual listing wins over \
            scores and delistings; an exclusion wins over it (unexclude first). \
            Special-purpose ranges (RFC 6890) need --force. Written to the audit trail.
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "IP address or CIDR network.")
    var prefix: String

    @Option(help: "Kind to encode in the answer: dsn, autoreply, challenge, virus, unknown-bounce (repeatable).")
    var kind: [String] = []

    @Option(help: "Explicit return code X of 127.0.0.X (2...255) instead of the kind bits.")
    var code: UInt8?

    @Option(help: "TXT template for this entry ($ = the IP); default: the zone's.")
    var text: String?

    @Option(help: "Why (written to the audit trail).")
    var reason = "manual listing"

    @Option(help: "Stop listing after this long (e.g. 12h, 7d, 2w); default: never.")
    var expires: String?

    @Flag(help: "List a special-purpose (RFC 6890) range anyway.")
    var force = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let target = try parsePrefixArgument(prefix)
        let kinds = try kind.map { name in
            guard let kind = HitKind(rawValue: name) else {
                throw Failure(.usage, "unknown kind '\(name)'; expected one of \(HitKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        if code != nil, !kinds.isEmpty { throw Failure(.usage, "give --kind or --code, not both") }
        let duration = try expires.map { try parseDurationArgument($0, option: "--expires") }
        try runAdminAction(store: store, json: json) { db, zone throws(StoreError) in
            try db.list(target, zone: zone, kinds: kinds, code: code, text: text,
                        expires: duration.map { unixNow() + $0 }, allowSpecial: force, actor: auditActor, reason: reason)
        }
    }
}
