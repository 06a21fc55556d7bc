// WebPassword.swift -- `rbld web-password`: the bcrypt hash of an operator's password, for web.admins.
import ArgumentParser
import HummingbirdBcrypt

struct WebPassword: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-password",
        abstract: "Print the bcrypt hash of a password (read from standard input) for the configuration's web.admins.",
        discussion: """
            Reads the password from the first line of standard input (in a shell, `read -rs \
            PW; printf '%s\\n' "$PW" | rbld web-password` keeps it off the screen) and \
            prints its bcrypt hash. Put it in the configuration: web.admins: [{name: alice, \
            password-hash: '$2b$12$...'}]. Exit status: 0; 65 for an empty password.
            """)

    @Option(help: "bcrypt cost (4...31); each step doubles the work of a sign-in check.")
    var cost: UInt8 = 12

    func validate() throws {
        guard (4...31).contains(cost) else { throw ValidationError("--cost must be from 4 to 31") }
    }

    func run() throws {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw Failure(.dataError, "no password on standard input")
        }
        print(Bcrypt.hash(line, cost: cost))
    }
}
