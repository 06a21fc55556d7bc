// RBLD.swift -- the `rbld` command and its subcommands.
import ArgumentParser
import Glibc

@main
struct RBLD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbld",
        abstract: "A DNS blocklist of email backscatter sources.",
        discussion: """
            rbld ingests what spamtrap mailboxes receive, attributes each bounce, \
            auto-reply or challenge to the server that sent it, scores and ages those \
            sources in SQLite, and serves them as an authoritative DNSBL zone. \
            Exit codes follow sysexits(3): 64 usage, 65 bad data, 66 no input, \
            69 unavailable, 74 I/O error, 75 temporary failure, 78 bad configuration.
            """,
        subcommands: [
            Run.self,
            Serve.self,
            IngestCommand.self,
            Classify.self,
            List.self,
            Delist.self,
            Exclude.self,
            Unexclude.self,
            Confirm.self,
            Reject.self,
            Show.self,
            Hits.self,
            Stats.self,
            Expire.self,
            Import.self,
            Export.self,
            WebPassword.self,
        ]
    )

    /// Parses and runs a subcommand; a `Failure` prints its message and exits with its
    /// sysexits code; everything else exits as swift-argument-parser decides.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as Failure {
            printError("rbld: \(failure.message)")
            Glibc.exit(failure.code.rawValue)
        } catch {
            exit(withError: error)  // usage errors exit with 64 (EX_USAGE) already
        }
    }
}
