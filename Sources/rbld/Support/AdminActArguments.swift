// AdminActArguments.swift -- what delist, exclude, confirm and reject take: a target and a reason.

import ArgumentParser
import Store

/// The arguments of an admin act that needs a reason: the store options, the target
/// (an address, or a CIDR network where the act allows one), `--reason`, `--json`.
struct AdminActArguments: ParsableArguments {
    @OptionGroup var store: StoreOptions

    @Argument(help: "IP address, or CIDR network where the act takes one.")
    var target: String

    @Option(help: "Why (required; written to the audit trail).")
    var reason: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        try validateReason(reason)
    }

    /// Parses the target, applies `act` in the chosen zone with the acting user and the
    /// reason, and prints its result as a line or as JSON.
    func run(_ act: (Store, String, IPPrefix, String) throws(StoreError) -> AdminResult) throws {
        let prefix = try parsePrefixArgument(target)
        try runAdminAction(store: store, json: json) { db, zone throws(StoreError) in try act(db, zone, prefix, reason) }
    }
}
