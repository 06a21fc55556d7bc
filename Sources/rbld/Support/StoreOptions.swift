// StoreOptions.swift -- the --db/--zone/--config options of the admin commands, and store errors as exits.
import ArgumentParser
import Foundation
import Ingest
import Store

/// `--db`, `--zone`, `--config`, shared by the admin commands.
///
/// Without flags, the configuration decides (`--config`, else zones/rbld.yaml when
/// present): its db and its first zone; without a configuration, ./rbld.sqlite and the
/// store's only zone (else bl.example.org).
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp("The SQLite store (default: the configuration's db, else ./rbld.sqlite).", valueName: "PATH"))
    var dbOption: String?

    @Option(help: "The zone (default: the configuration's first zone, else the store's only zone, else bl.example.org).")
    var zone: String?

    @Option(help: ArgumentHelp("Configuration file (default: zones/rbld.yaml when present).", valueName: "FILE"))
    var config: String?

    /// A configuration that does not read is reported before anything is done (exit 78;
    /// argument parsing turns any other error thrown here into exit 1).
    func validate() throws {
        do {
            _ = try Configuration.resolve(config)
        } catch let failure as Failure {
            printError("rbld: \(failure.message)")
            throw ExitCode(failure.code.rawValue)
        }
    }

    /// The configuration in effect; nil when there is no file (validate() reported errors).
    var configuration: Configuration? {
        guard let resolved = try? Configuration.resolve(config), resolved.source != nil else { return nil }
        return resolved
    }

    /// The store's path: --db, else the configuration's, else ./rbld.sqlite.
    var db: String { dbOption ?? configuration?.db ?? "rbld.sqlite" }

    /// Opens the store; read-only commands never create or migrate it.
    func openStore(readOnly: Bool) throws -> Store {
        do {
            return try Store(path: db, readOnly: readOnly)
        } catch {
            throw Failure(error)
        }
    }

    /// The zone to act on: --zone, else the configuration's first zone, else the store's
    /// only zone, else bl.example.org.
    func zoneName(in store: Store) throws -> String {
        if let zone {
            let name = ZoneSettings.normalizedName(zone)
            guard Store.isValidZoneName(name) else { throw Failure(.usage, "'\(zone)' is not a valid zone name") }
            return name
        }
        if let first = configuration?.zoneNames.first { return first }
        let names: [String]
        do { names = try store.zoneNames() } catch { throw Failure(error) }
        if names.count == 1 { return names[0] }
        if names.count > 1, !names.contains("bl.example.org") {
            throw Failure(.usage, "\(db) holds several zones (\(names.joined(separator: ", "))); choose one with --zone")
        }
        return "bl.example.org"
    }
}

/// Opens the store for writing, applies one admin action (list, delist, exclude,
/// unexclude) in the chosen zone, and prints its result as a line or as JSON.
func runAdminAction(
    store options: StoreOptions, json: Bool, _ action: (Store, String) throws(StoreError) -> AdminResult
) throws {
    let db = try options.openStore(readOnly: false)
    let zone = try options.zoneName(in: db)
    let result = try storeCall { () throws(StoreError) in try action(db, zone) }
    if json { try printJSON(result) } else { print("rbld: \(result.message) in \(result.zone) (serial \(result.serial))") }
}
