// RBLD.swift -- the `rbld` command and its subcommands.
import ArgumentParser

@main
struct RBLD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbld",
        abstract: "A DNS blocklist of email backscatter sources.",
        discussion: """
            rbld ingests what spamtrap mailboxes receive, attributes each bounce, \
            auto-reply or challenge to the server that sent it, scores and ages those \
            sources in SQLite, and serves them as an authoritative DNSBL zone.
            """,
        subcommands: [
            Serve.self,
            Import.self,
            Classify.self,
        ]
    )
}
