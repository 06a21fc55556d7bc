// Failure.swift -- command failures with sysexits(3) exit codes.
import Glibc

/// Exit codes of sysexits(3), so scripts and MTA `pipe` transports can tell failures apart.
enum Sysexit: Int32, Sendable {
    case ok = 0
    case usage = 64          // EX_USAGE: bad arguments
    case dataError = 65      // EX_DATAERR: bad input data
    case noInput = 66        // EX_NOINPUT: an input file is missing or unreadable
    case unavailable = 69    // EX_UNAVAILABLE: a service (socket, port) is unavailable
    case software = 70       // EX_SOFTWARE: an internal error
    case cantCreate = 73     // EX_CANTCREAT: an output file cannot be created
    case ioError = 74        // EX_IOERR: an I/O error, e.g. the store cannot be opened
    case tempFail = 75       // EX_TEMPFAIL: try again later (an MTA retries)
    case config = 78         // EX_CONFIG: the configuration file is invalid
}

/// A command failure: the message (naming the input) goes to standard error, the process
/// exits with the sysexits code.
struct Failure: Error, CustomStringConvertible {
    let code: Sysexit
    let message: String

    init(_ code: Sysexit, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { message }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    let text = Array((line + "\n").utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
